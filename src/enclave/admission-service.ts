// Admission at the enclave: checks an admit request's proofs (join secret by
// HMAC, key possession by signature, freshness by time and nonce), applies the
// registry's rules to the TCP source address the server saw, persists, and
// signs an admission certificate with the attested admission key. Transport-free.
import type { KeyObject } from 'node:crypto';
import {
  type AdmissionClaims,
  type AdmissionSigner,
  rawEd25519,
  signAdmission,
} from '../crypto/admission-certificate.ts';
import { MAX_RETIRED_ADMISSION_KEYS } from '../crypto/attestation.ts';
import { ed25519FromRaw } from '../crypto/member-record-signature.ts';
import type { ErrorCode } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../time/clock.ts';
import { verifyAdmissionMac, verifyAdmissionSignature } from './admission-proof.ts';
import { AdmissionRegistry, type AdmissionRules } from './admission-registry.ts';
import type { AdmissionKeyHistory, AdmissionPersistence } from './admission-store.ts';
import { parseAdmitRequest, RequestError } from './requests.ts';

export interface AdmissionSettings extends AdmissionRules {
  joinSecret: Buffer;
  /** How far a request's `ts` may be from the enclave's clock. */
  skewMs: number;
}

/** Admission defaults, each with its reason. */
export const ADMISSION_DEFAULTS = {
  // Ten minutes: members re-admit at half of it, so N = 200 costs 0.67 requests/s;
  // a name left by a container that came back at another address is free again within it.
  ttlMs: 600_000,
  // Docker gives every container its own address, and a member cannot add one without NET_ADMIN.
  identitiesPerAddress: 1,
  // Wide enough for container clocks (one host kernel), narrow enough to keep the nonce cache small.
  skewMs: 30_000,
} as const;

export interface AdmitResponse {
  admission: string;
  serial: number;
  exp: number;
}

export class AdmissionService {
  readonly #settings: AdmissionSettings;
  readonly #registry: AdmissionRegistry;
  readonly #store: AdmissionPersistence;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #sign: (claims: AdmissionClaims) => string;
  readonly #clusterId: string;
  /** Nonces of accepted proofs until their time leaves the window: a replay is refused. */
  readonly #seen = new Map<string, number>();
  /** This run's admission key and the earlier runs' still vouched for (persisted with the registry). */
  readonly #keys: AdmissionKeyHistory;
  readonly #retired: { key: KeyObject; until: number }[];

  constructor(options: {
    settings: AdmissionSettings;
    store: AdmissionPersistence;
    clusterId: string;
    clock: Clock;
    logger: Logger;
    signer: AdmissionSigner;
  }) {
    this.#settings = options.settings;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#log = options.logger;
    this.#clusterId = options.clusterId;
    const saved = options.store.load();
    this.#registry = new AdmissionRegistry(options.settings, saved);
    this.#sign = (claims) => signAdmission(claims, options.signer);
    this.#keys = retireEarlierKey(
      saved?.keys,
      rawEd25519(options.signer.key).toString('base64url'),
      this.#clock.wallNow(),
      options.settings.ttlMs,
    );
    this.#retired = this.#keys.retired.flatMap(({ key, until }) => {
      const publicKey = ed25519FromRaw(Buffer.from(key, 'base64url'));
      return publicKey ? [{ key: publicKey, until }] : [];
    });
    // Persist the key history now: a restart before the first grant must still vouch for the keys before it.
    try {
      this.#store.save(this.#document());
    } catch (error) {
      this.#log.error({ event: 'enclave.persist_failed', err: (error as Error).message });
    }
  }

  /**
   * The admission keys of this enclave's earlier runs whose admissions may
   * still stand: the attestation vouches for them, so a peer that met only
   * this run still verifies a member admitted before the restart.
   */
  retiredKeys(now: number): KeyObject[] {
    return this.#retired.filter((r) => r.until > now).map((r) => r.key);
  }

  #document() {
    return { ...this.#registry.snapshot(), keys: this.#keys };
  }

  get registry(): AdmissionRegistry {
    return this.#registry;
  }

  /** Admit the requester at `address` (the TCP peer address the server observed). */
  admit(body: unknown, address: string): AdmitResponse {
    const request = parseAdmitRequest(body);
    if (request.cluster_id !== this.#clusterId) {
      throw new RequestError(409, 'E_CLUSTER_MISMATCH', `this enclave serves cluster ${this.#clusterId}`);
    }
    const now = this.#clock.wallNow();
    const refuse = (status: number, code: ErrorCode, message: string) => {
      this.#log.warn({ event: 'enclave.admission_refused', code, name: request.name, address });
      return new RequestError(status, code, message);
    };
    if (!verifyAdmissionMac(request, request.mac, this.#settings.joinSecret)) {
      throw refuse(403, 'E_NOT_ADMITTED', 'the request does not prove the cluster join secret');
    }
    if (!verifyAdmissionSignature(request, request.sig)) {
      throw refuse(403, 'E_BAD_SIGNATURE', 'sig is not a signature by key over the request');
    }
    if (Math.abs(request.ts - now) > this.#settings.skewMs) {
      throw refuse(
        403,
        'E_STALE_REQUEST',
        `ts is more than ${this.#settings.skewMs} ms from the enclave's clock`,
      );
    }
    this.#forgetOldNonces(now);
    if (this.#seen.has(request.nonce))
      throw refuse(403, 'E_REPLAYED', 'this admission proof was used before');
    this.#seen.set(request.nonce, request.ts);
    const decision = this.#registry.admit({ name: request.name, key: request.key, address }, now);
    if (decision.kind === 'refused') {
      const error = refuse(409, decision.code, decision.message);
      throw Object.assign(error, { retryAt: decision.retryAt });
    }
    this.#keys.signed = true;
    this.#persist();
    const { binding } = decision;
    const admission = this.#sign({ v: 2, cluster_id: this.#clusterId, ...binding });
    this.#log.info({
      event: 'enclave.admitted',
      name: binding.name,
      // The admitted public key: chaos checks each accepted certificate's leader against it.
      key: binding.key,
      address,
      serial: binding.serial,
      superseded:
        decision.replaced && decision.replaced.key !== binding.key ? decision.replaced.serial : null,
    });
    return { admission, serial: binding.serial, exp: binding.exp };
  }

  #persist(): void {
    try {
      this.#store.save(this.#document());
    } catch (error) {
      this.#log.error({ event: 'enclave.persist_failed', err: (error as Error).message });
      throw new RequestError(503, 'E_PERSIST_FAILED', 'the enclave could not persist the admission; retry');
    }
  }

  #forgetOldNonces(now: number): void {
    for (const [nonce, ts] of this.#seen) {
      if (Math.abs(ts - now) > this.#settings.skewMs) this.#seen.delete(nonce);
    }
  }
}

/**
 * The key history for this run: the previous run's key retires now, and stands
 * until an admission it signed just before the restart would expire; earlier
 * ones keep their own end; the newest few are kept.
 */
export function retireEarlierKey(
  saved: AdmissionKeyHistory | undefined,
  current: string,
  now: number,
  ttlMs: number,
): AdmissionKeyHistory {
  const retired = (saved?.retired ?? []).filter((r) => r.until > now && r.key !== current);
  // A run that admitted nobody leaves nothing to vouch for: a crash loop must not push out the key that did.
  if (saved && saved.current !== current && saved.signed)
    retired.push({ key: saved.current, until: now + ttlMs });
  retired.sort((a, b) => b.until - a.until);
  const signed = saved?.current === current && saved.signed;
  return { current, signed, retired: retired.slice(0, MAX_RETIRED_ADMISSION_KEYS) };
}
