// Admissions for the membership bench: a stand-in enclave admission key
// (Ed25519, made once in the main thread, its PEM handed to every shard) that signs each peer's
// admission, so the bench runs the real record checks. The authority times
// its signature work, for the CPU share of signature checks in the report.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  type AdmissionClaims,
  admissionKeyId,
  signAdmission,
} from '../../src/crypto/admission-certificate.ts';
import type { SignableRecord } from '../../src/crypto/member-record-signature.ts';
import type { OfferResult, RecordCheck } from '../../src/peer/admission/admission-book.ts';
import { PeerAuthority } from '../../src/peer/admission/member-authority.ts';

export const BENCH_CLUSTER = 'bench';

/** A stand-in enclave admission key (Ed25519, as the enclave's) as PEM (cloneable to workers). */
export function benchEnclavePem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
}

/**
 * Time this thread spent checking records and admissions (signature
 * verifications, cached or not) and signing records, against all the CPU
 * time this thread used since the shard started. The checks are synchronous,
 * so the time inside one is CPU time (unless the thread was descheduled in
 * it); it is read from the monotonic clock, not threadCpuUsage(), whose
 * system call around every one of a million checks cost 6% of the CPU.
 */
export interface SignatureCost {
  checks: number;
  checkMs: number;
  signs: number;
  signMs: number;
  threadMs: number;
}

/** This thread's CPU time in ms (user + system): not other threads', not time spent descheduled. */
export function threadCpuMs(): number {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
}

export class BenchAdmissions {
  readonly keys: Map<string, KeyObject>;
  readonly cost: SignatureCost = { checks: 0, checkMs: 0, signs: 0, signMs: 0, threadMs: 0 };
  readonly startedCpuMs = threadCpuMs();
  readonly #key: KeyObject;
  readonly #kid: string;
  readonly #now: () => number;
  readonly #maxMembers: number | undefined;
  #count = 0;

  /**
   * `now`: the wall clock admissions are issued and judged by (the virtual
   * clock in the simulation, so its runs repeat); `maxMembers`: admissions each
   * peer keeps (above the default 4096 for larger simulated clusters).
   */
  constructor(pem: string, options: { now?: () => number; maxMembers?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxMembers = options.maxMembers;
    this.#key = createPrivateKey(pem);
    const publicKey = createPublicKey(this.#key);
    this.#kid = admissionKeyId(publicKey);
    this.keys = new Map([[this.#kid, publicKey]]);
  }

  /** A peer's authority holding its own admission (serials grow with wall time, across shards). */
  authorityFor(name: string, publicKey: Uint8Array, signer: KeyObject): PeerAuthority {
    const authority = new TimedAuthority(
      {
        clusterId: BENCH_CLUSTER,
        keys: this.keys,
        now: this.#now,
        signer,
        ...(this.#maxMembers ? { maxMembers: this.#maxMembers } : {}),
      },
      this.cost,
    );
    const iat = this.#now();
    const claims: AdmissionClaims = {
      v: 2,
      cluster_id: BENCH_CLUSTER,
      name,
      key: Buffer.from(publicKey).toString('base64url'),
      address: '127.0.0.1',
      serial: iat * 1000 + (this.#count++ % 1000),
      iat,
      exp: iat + 3_600_000,
    };
    authority.setOwn(signAdmission(claims, { kid: this.#kid, key: this.#key }));
    return authority;
  }
}

class TimedAuthority extends PeerAuthority {
  readonly #cost: SignatureCost;
  constructor(settings: ConstructorParameters<typeof PeerAuthority>[0], cost: SignatureCost) {
    super(settings);
    this.#cost = cost;
  }

  override check(record: SignableRecord & { signature?: Uint8Array | undefined }): RecordCheck {
    const started = performance.now();
    try {
      return super.check(record);
    } finally {
      this.#cost.checks++;
      this.#cost.checkMs += performance.now() - started;
    }
  }

  override offer(token: string): OfferResult {
    const started = performance.now();
    try {
      return super.offer(token);
    } finally {
      this.#cost.checks++;
      this.#cost.checkMs += performance.now() - started;
    }
  }

  override sign(record: SignableRecord): Uint8Array {
    const started = performance.now();
    try {
      return super.sign(record);
    } finally {
      this.#cost.signs++;
      this.#cost.signMs += performance.now() - started;
    }
  }
}
