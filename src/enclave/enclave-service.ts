// The mock enclave: holds a certificate-signing key made in memory at start
// (never written, logged or returned), attests it with the function checksum,
// and applies the election rules under one lock, persisting the sealed epoch
// state before any reply. Transport-free: the HTTP layer is http-server.ts.
import { randomBytes } from 'node:crypto';
import { createAttestation } from '../crypto/attestation.ts';
import { encodeBase64url } from '../crypto/base64url.ts';
import {
  type LeaderClaims,
  type Policy,
  signLeaderCertificate,
  vrfAlpha,
} from '../crypto/leader-certificate.ts';
import { type MemberIdentity, memberDigest, sortMembers } from '../crypto/member-digest.ts';
import { generateRsaKeyPair, keyId, MIN_PRODUCT_RSA_BITS, type RsaKeyPair } from '../crypto/rsa-keys.ts';
import { vrfProofToHash, vrfProve } from '../crypto/vrf.ts';
import { EnclaveElectError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../time/clock.ts';
import { authorizeLeaseRequest, candidatesWithout, decideElect, nextEpoch } from './election.ts';
import type { LeaderFunction } from './leader-function.ts';
import type { EnclavePki } from './pki.ts';
import { parseElectRequest, parseRenewRequest, parseResignRequest, RequestError } from './requests.ts';
import type { EpochState, LeaseRecord, SealedStateStore } from './state-store.ts';

export interface EnclaveServiceOptions {
  pki: EnclavePki;
  store: SealedStateStore;
  leaderFunction: LeaderFunction;
  clusterId: string;
  policy: Policy;
  leaseMs: number;
  clock: Clock;
  logger: Logger;
  /** Enclave key size; below 2048 only in tests. */
  keyBits?: number;
}

export interface LeaseResponse {
  certificate: string | null;
  epoch: number;
  seq: number;
  leader: string | null;
  lease_end: number;
}

export class EnclaveService {
  readonly clusterId: string;
  readonly policy: Policy;
  readonly leaseMs: number;
  readonly checksum: string;
  readonly kid: string;
  readonly moduleId: string;
  readonly #pki: EnclavePki;
  readonly #store: SealedStateStore;
  readonly #fn: LeaderFunction;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #keys: RsaKeyPair;
  #state: EpochState;
  #lock: Promise<unknown> = Promise.resolve();
  #changed = Promise.withResolvers<void>();
  readonly #closing = new AbortController();

  constructor(options: EnclaveServiceOptions) {
    this.clusterId = options.clusterId;
    this.policy = options.policy;
    this.leaseMs = options.leaseMs;
    this.#pki = options.pki;
    this.#store = options.store;
    this.#fn = options.leaderFunction;
    this.checksum = options.leaderFunction.checksum;
    this.#clock = options.clock;
    this.#log = options.logger;
    this.#keys = generateRsaKeyPair(options.keyBits ?? MIN_PRODUCT_RSA_BITS);
    this.kid = keyId(this.#keys.publicKey);
    this.moduleId = `enclave-elect-mock-${randomBytes(8).toString('hex')}`;
    const saved = this.#store.load();
    if (saved && saved.clusterId !== this.clusterId) {
      throw new EnclaveElectError(
        'E_STATE_CLUSTER_MISMATCH',
        `${this.#store.dir} holds the state of cluster ${saved.clusterId}, not ${this.clusterId}`,
      );
    }
    this.#state = saved ?? { clusterId: this.clusterId, epoch: 0, generation: 0, lease: null };
  }

  get state(): Readonly<EpochState> {
    return this.#state;
  }

  attest(nonce: string): string {
    return createAttestation({
      attestationKey: this.#pki.attestationKey,
      chain: [this.#pki.attestationCert, this.#pki.root],
      moduleId: this.moduleId,
      timestamp: this.#clock.wallNow(),
      enclaveKey: this.#keys.publicKey,
      funcChecksum: this.checksum,
      nonce,
    });
  }

  async elect(body: unknown): Promise<LeaseResponse> {
    const request = parseElectRequest(body, this.leaseMs);
    this.#checkCluster(request.cluster_id);
    const deadline = this.#clock.wallNow() + request.wait_ms;
    for (;;) {
      const changed = this.#changed.promise;
      const outcome = await this.#exclusive(() => {
        const now = this.#clock.wallNow();
        const decision = decideElect(this.#state, request, now, deadline, this.kid);
        if (decision.kind === 'wait') return decision;
        if (decision.kind === 'inherited') {
          throw new RequestError(
            503,
            'E_LEASE_INHERITED',
            `a lease granted before the enclave restarted runs until ${decision.until}; elect again then (or send wait_ms)`,
          );
        }
        if (decision.kind === 'current') return { kind: 'lease' as const, lease: decision.lease };
        const lease = this.#electNew(decision.epoch, decision.candidates, decision.previousLeader, now);
        return { kind: 'lease' as const, lease };
      });
      if (outcome.kind === 'lease') return leaseResponse(outcome.lease);
      if (this.#closing.signal.aborted)
        throw new RequestError(503, 'E_SHUTTING_DOWN', 'the enclave is stopping');
      // Hold the request until the lease ends (or the state changes, e.g. a renewal).
      const wake = new AbortController();
      await Promise.race([
        this.#clock.sleep(
          outcome.until - this.#clock.wallNow(),
          AbortSignal.any([wake.signal, this.#closing.signal]),
        ),
        changed,
      ]);
      wake.abort();
    }
  }

  async renew(body: unknown): Promise<LeaseResponse> {
    const request = parseRenewRequest(body);
    this.#checkCluster(request.cluster_id);
    return this.#exclusive(() => {
      const lease = authorizeLeaseRequest('renew', this.#state, request, this.kid);
      const now = this.#clock.wallNow();
      const renewed = this.#grant(
        lease.epoch,
        lease.seq + 1,
        lease.leader,
        this.#certificateBasis(lease),
        now + this.leaseMs,
      );
      this.#commit(renewed);
      this.#log.info({
        event: 'enclave.renewed',
        epoch: lease.epoch,
        seq: lease.seq + 1,
        leader: lease.leader.name,
      });
      return leaseResponse(renewed.lease!);
    });
  }

  async resign(body: unknown): Promise<LeaseResponse> {
    const request = parseResignRequest(body);
    this.#checkCluster(request.cluster_id);
    return this.#exclusive(() => {
      const lease = authorizeLeaseRequest('resign', this.#state, request, this.kid);
      const now = this.#clock.wallNow();
      const others = request.members.filter((m) => m.name !== lease.leader.name);
      const resigned = { event: 'enclave.resigned', epoch: lease.epoch, leader: lease.leader.name };
      if (others.length === 0) {
        const ended = { ...lease, ended: true, leaseEnd: Math.min(lease.leaseEnd, now) };
        this.#commit({ ...this.#state, generation: this.#state.generation + 1, lease: ended });
        this.#log.info({ ...resigned, successor: null });
        return {
          certificate: null,
          epoch: lease.epoch,
          seq: lease.seq,
          leader: null,
          lease_end: ended.leaseEnd,
        };
      }
      const next = this.#electNew(nextEpoch(this.#state, 0), others, lease.leader.name, now);
      this.#log.info({ ...resigned, successor: next.leader.name });
      return leaseResponse(next);
    });
  }

  /** Stop holding waiting requests (they get 503). */
  close(): void {
    this.#closing.abort();
  }

  #checkCluster(clusterId: string): void {
    if (clusterId !== this.clusterId) {
      throw new RequestError(
        409,
        'E_CLUSTER_MISMATCH',
        `this enclave serves cluster ${this.clusterId}, not ${clusterId}`,
      );
    }
  }

  #exclusive<T>(work: () => T): Promise<T> {
    const run = this.#lock.then(work);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  #electNew(
    epoch: number,
    submitted: MemberIdentity[],
    previousLeader: string | null,
    now: number,
  ): LeaseRecord {
    const candidates = sortMembers(candidatesWithout(submitted, previousLeader));
    const digest = memberDigest(candidates);
    let proof: Buffer | null = null;
    if (this.policy === 'vrf')
      proof = vrfProve(this.#keys.privateKey, vrfAlpha(this.clusterId, epoch, digest));
    const index = this.#fn.choose({
      policy: this.policy,
      members: candidates.map((m) => m.name),
      epoch,
      previousLeader,
      vrfOutput: proof ? vrfProofToHash(proof).toString('hex') : null,
    });
    const leader = candidates[index]!;
    const basis: CertificateBasis = {
      members_digest: digest,
      member_count: candidates.length,
      leader_index: index,
      proof: proof ? encodeBase64url(proof) : null,
    };
    const next = this.#grant(epoch, 0, leader, basis, now + this.leaseMs);
    this.#commit(next);
    this.#log.info({
      event: 'enclave.elected',
      epoch,
      leader: leader.name,
      candidates: candidates.length,
      previousLeader,
    });
    return next.lease!;
  }

  #certificateBasis(lease: LeaseRecord): CertificateBasis {
    const claims = JSON.parse(
      Buffer.from(lease.token.split('.')[1]!, 'base64url').toString('utf8'),
    ) as CertificateBasis;
    return {
      members_digest: claims.members_digest,
      member_count: claims.member_count,
      leader_index: claims.leader_index,
      proof: claims.proof,
    };
  }

  /** The next state holding a freshly signed certificate (not yet committed). */
  #grant(
    epoch: number,
    seq: number,
    leader: MemberIdentity,
    basis: CertificateBasis,
    leaseEnd: number,
  ): EpochState {
    const claims: LeaderClaims = {
      v: 1,
      cluster_id: this.clusterId,
      epoch,
      seq,
      leader: { name: leader.name, key: leader.key },
      ...basis,
      policy: this.policy,
      func_checksum: this.checksum,
      kid: this.kid,
      iat: this.#clock.wallNow(),
      lease_end: leaseEnd,
    };
    const token = signLeaderCertificate(claims, this.#keys.privateKey);
    return {
      clusterId: this.clusterId,
      epoch: Math.max(this.#state.epoch, epoch),
      generation: this.#state.generation + 1,
      lease: { epoch, seq, leader: claims.leader, leaseEnd, ended: false, token, kid: this.kid },
    };
  }

  /** Persist, then adopt: a failed write leaves the state as it was. */
  #commit(next: EpochState): void {
    try {
      this.#store.save(next);
    } catch (error) {
      this.#log.error({ event: 'enclave.persist_failed', err: (error as Error).message });
      throw new RequestError(
        503,
        'E_PERSIST_FAILED',
        'the enclave could not persist its state; nothing was granted',
      );
    }
    this.#state = next;
    const changed = this.#changed;
    this.#changed = Promise.withResolvers<void>();
    changed.resolve();
  }
}

type CertificateBasis = Pick<LeaderClaims, 'members_digest' | 'member_count' | 'leader_index' | 'proof'>;

function leaseResponse(lease: LeaseRecord): LeaseResponse {
  return {
    certificate: lease.token,
    epoch: lease.epoch,
    seq: lease.seq,
    leader: lease.leader.name,
    lease_end: lease.leaseEnd,
  };
}
