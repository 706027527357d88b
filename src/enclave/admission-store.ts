// Sealed persistence of the admission registry (bindings and the serial
// floor), beside the epoch state and under the same seal key: a restarted
// enclave still knows who holds which name, so a member cannot take another's
// name by asking right after a restart. Written before each grant is returned.
// It also keeps the public halves of the admission keys of earlier runs while
// admissions they signed may stand, for the attestation to vouch for them.
import { join } from 'node:path';
import { BASE64URL_32_BYTES } from '../crypto/base64url.ts';
import type { AdmissionBinding, AdmissionRegistrySnapshot } from './admission-registry.ts';
import { readSealed, writeSealed } from './state-store.ts';

export const ADMISSIONS_FILE = 'admissions.json';

/** Admission keys (Ed25519 public, 32 raw bytes base64url): this run's, and earlier runs' until their last admission expires. */
export interface AdmissionKeyHistory {
  current: string;
  /** Whether the current key has signed an admission (a key that signed none is not worth vouching for). */
  signed: boolean;
  retired: { key: string; until: number }[];
}

export interface AdmissionDocument extends AdmissionRegistrySnapshot {
  keys?: AdmissionKeyHistory;
}

export interface AdmissionPersistence {
  load(): AdmissionDocument | undefined;
  save(document: AdmissionDocument): void;
}

function readKeys(value: unknown): AdmissionKeyHistory | undefined {
  const keys = value as { current?: unknown; signed?: unknown; retired?: unknown } | undefined;
  if (
    typeof keys?.current !== 'string' ||
    !BASE64URL_32_BYTES.test(keys.current) ||
    !Array.isArray(keys.retired)
  )
    return undefined;
  const retired = (keys.retired as { key?: unknown; until?: unknown }[]).filter(
    (r): r is { key: string; until: number } =>
      typeof r?.key === 'string' && BASE64URL_32_BYTES.test(r.key) && Number.isSafeInteger(r.until),
  );
  return {
    current: keys.current,
    // Written before `signed` was kept (e138aca): count it as signed, the safe side.
    signed: typeof keys.signed === 'boolean' ? keys.signed : true,
    retired,
  };
}

export class SealedAdmissionStore implements AdmissionPersistence {
  readonly #dir: string;
  readonly #key: Buffer;

  constructor(dir: string, sealKey: Buffer) {
    this.#dir = dir;
    this.#key = sealKey;
  }

  load(): AdmissionDocument | undefined {
    const body = readSealed(join(this.#dir, ADMISSIONS_FILE), this.#key);
    if (!body) return undefined;
    const keys = readKeys(body.keys);
    return {
      serial: Number(body.serial) || 0,
      bindings: (body.bindings ?? []) as AdmissionBinding[],
      ...(keys ? { keys } : {}),
    };
  }

  save(document: AdmissionDocument): void {
    writeSealed(this.#dir, ADMISSIONS_FILE, this.#key, document);
  }
}
