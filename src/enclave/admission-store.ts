// Sealed persistence of the admission registry (bindings and the serial
// floor), beside the epoch state and under the same seal key: a restarted
// enclave still knows who holds which name, so a member cannot take another's
// name by asking right after a restart. Written before each grant is returned.
import { join } from 'node:path';
import type { AdmissionBinding, AdmissionRegistrySnapshot } from './admission-registry.ts';
import { readSealed, writeSealed } from './state-store.ts';

export const ADMISSIONS_FILE = 'admissions.json';

export interface AdmissionPersistence {
  load(): AdmissionRegistrySnapshot | undefined;
  save(snapshot: AdmissionRegistrySnapshot): void;
}

export class SealedAdmissionStore implements AdmissionPersistence {
  readonly #dir: string;
  readonly #key: Buffer;

  constructor(dir: string, sealKey: Buffer) {
    this.#dir = dir;
    this.#key = sealKey;
  }

  load(): AdmissionRegistrySnapshot | undefined {
    const body = readSealed(join(this.#dir, ADMISSIONS_FILE), this.#key);
    if (!body) return undefined;
    return { serial: Number(body.serial) || 0, bindings: (body.bindings ?? []) as AdmissionBinding[] };
  }

  save(snapshot: AdmissionRegistrySnapshot): void {
    writeSealed(this.#dir, ADMISSIONS_FILE, this.#key, snapshot);
  }
}
