// The mock enclave: holds a certificate-signing key and an admission key made
// in memory at start (never written, logged or returned), attests both with
// the function checksum,
// and applies the election rules under one lock, persisting the sealed epoch
// state before any reply. Transport-free: the HTTP layer is http-server.ts.

import type { KeyObject } from 'node:crypto';
import { admissionKeyId } from '../crypto/admission-certificate.ts';
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
import { createPublicKey, generateKeyPairSync, randomBytes } from '../platform/node-crypto.ts';
import type { Clock } from '../time/clock.ts';
import { AdmissionService, type AdmissionSettings, type AdmitResponse } from './admission-service.ts';
import type { AdmissionPersistence } from './admission-store.ts';
import { CandidacyBook } from './candidacy-book.ts';
import { authorizeLeaseRequest, candidatesWithout, decideElect, nextEpoch } from './election.ts';
import type { LeaderFunction } from './leader-function.ts';
import type { EnclavePki } from './pki.ts';
import { RequestAuthenticator } from './request-authenticator.ts';
import {
  MAX_MEMBERS,
  parseElectRequest,
  parseRenewRequest,
  parseResignRequest,
  RequestError,
} from './requests.ts';
import type { EpochState, LeaseRecord, SealedStateStore } from './state-store.ts';

/** Candidacies held at most: a cluster's members (the request limit of the first version). */
const MAX_CANDIDACIES = MAX_MEMBERS;

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
  /** Admission of members (join secret and rules); without it /v1/admit answers 503. */
  admission?: { settings: AdmissionSettings; store: AdmissionPersistence };
  /** Candidacies received this long before an election count (see CANDIDACY_DEFAULTS). */
  candidacyWindowMs?: number;
  /** A leader that has held its epoch this long gets no more renewals (0 or absent: off). */
  maxTermMs?: number;
  /** An election waits this long after the first candidacy that opened it (see CANDIDACY_DEFAULTS). */
  candidacySettleMs?: number;
}

/** Candidacy timing defaults, each with its reason. */
export const CANDIDACY_DEFAULTS = {
  // Two minutes: followers stand when they ask at a lease end and refresh their candidacy every
  // 30-80 s in between (timing.ts), so every live member is a candidate at every election, also
  // one that was not asking at that moment. The price: a member that died without being leader
  // stays a candidate up to this long; if elected, its lease runs out unrenewed (one lease lost),
  // and a leader whose lease ran out unrenewed loses its standing at once.
  windowMs: 120_000,
  // Members that saw the same lease end ask within a gossip round or two of each other (200 ms
  // rounds); waiting this long after the first candidacy lets them all stand, so being first
  // (racing) wins nothing. Followers asking ahead of a lease end are already waiting: no delay then.
  settleMs: 250,
} as const;

export interface LeaseResponse {
  certificate: string | null;
  epoch: number;
  seq: number;
  leader: string | null;
  lease_end: number;
  /** The candidates the certificate's members_digest commits to, sorted by name (null if not held). */
  candidates: MemberIdentity[] | null;
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
  /** Signs admissions (Ed25519: compact enough to travel many to a datagram). */
  readonly #admissionKey: KeyObject;
  #state: EpochState;
  #lock: Promise<unknown> = Promise.resolve();
  #changed = Promise.withResolvers<void>();
  readonly #closing = new AbortController();
  readonly #admission: AdmissionService | undefined;
  readonly #auth: RequestAuthenticator;
  readonly #candidacies = new CandidacyBook(MAX_CANDIDACIES);
  readonly candidacyWindowMs: number;
  readonly maxTermMs: number;
  readonly candidacySettleMs: number;
  #candidaciesReceived = 0;
  /** The current epoch's candidates and when its leader was elected (in memory: lost on restart). */
  #term: { epoch: number; candidates: MemberIdentity[]; startedAt: number; ended: boolean } | null = null;

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
    this.#admissionKey = generateKeyPairSync('ed25519').privateKey;
    this.moduleId = `enclave-elect-mock-${randomBytes(8).toString('hex')}`;
    const saved = this.#store.load();
    if (saved && saved.clusterId !== this.clusterId) {
      throw new EnclaveElectError(
        'E_STATE_CLUSTER_MISMATCH',
        `${this.#store.dir} holds the state of cluster ${saved.clusterId}, not ${this.clusterId}`,
      );
    }
    this.#state = saved ?? { clusterId: this.clusterId, epoch: 0, generation: 0, lease: null };
    this.#admission =
      options.admission &&
      new AdmissionService({
        ...options.admission,
        clusterId: this.clusterId,
        clock: this.#clock,
        logger: this.#log,
        signer: { kid: admissionKeyId(this.#admissionKey), key: this.#admissionKey },
      });
    this.#auth = new RequestAuthenticator(() => this.#admission?.registry);
    this.candidacyWindowMs = options.candidacyWindowMs ?? CANDIDACY_DEFAULTS.windowMs;
    this.maxTermMs = options.maxTermMs ?? 0;
    this.candidacySettleMs = options.candidacySettleMs ?? CANDIDACY_DEFAULTS.settleMs;
  }

  /** Candidacies received since start (for tests and status). */
  get candidaciesReceived(): number {
    return this.#candidaciesReceived;
  }

  /** The public half of the signing key (the attestation vouches for it); for tests and tools. */
  get attestedPublicKey(): RsaKeyPair['publicKey'] {
    return this.#keys.publicKey;
  }

  /** The public half of the admission key and its id (the attestation vouches for it); for tests and tools. */
  get attestedAdmissionKey(): { kid: string; key: KeyObject } {
    return { kid: admissionKeyId(this.#admissionKey), key: createPublicKey(this.#admissionKey) };
  }

  get admission(): AdmissionService | undefined {
    return this.#admission;
  }

  /** Admit a member's key under its name, bound to the TCP source `address` the server saw. */
  async admit(body: unknown, address: string): Promise<AdmitResponse> {
    const admission = this.#admission;
    if (!admission) {
      throw new RequestError(503, 'E_ADMISSION_DISABLED', 'this enclave was started without a join secret');
    }
    return this.#exclusive(() => admission.admit(body, address));
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
      admissionKey: createPublicKey(this.#admissionKey),
      retiredAdmissionKeys: this.#admission?.retiredKeys(this.#clock.wallNow()) ?? [],
      funcChecksum: this.checksum,
      nonce,
    });
  }

  async elect(body: unknown): Promise<LeaseResponse> {
    const request = parseElectRequest(body, this.leaseMs);
    this.#checkCluster(request.cluster_id);
    const candidate = { name: request.name, key: request.key };
    const received = this.#clock.wallNow();
    this.#auth.check('elect', request, candidate, received);
    this.#auth.accept(request, received);
    // The request is the signer's candidacy: liveness evidence the enclave itself holds.
    this.#candidacies.record(candidate, received);
    this.#candidaciesReceived += 1;
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
        const settled = this.#settledAt(now);
        if (now < settled) return { kind: 'wait' as const, until: settled };
        const forget = this.#failedLeaderForgetting();
        const lease = this.#electNew(decision.epoch, decision.previousLeader, now);
        // After the election: a failed leader that alone stands is still re-elected (a one-member cluster).
        forget();
        return { kind: 'lease' as const, lease: lease! };
      });
      if (outcome.kind === 'lease') return this.#leaseResponse(outcome.lease);
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
      this.#auth.check('renew', request, lease.leader, now);
      this.#checkTerm(lease, now);
      this.#auth.accept(request, now);
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
      return this.#leaseResponse(renewed.lease!);
    });
  }

  async resign(body: unknown): Promise<LeaseResponse> {
    const request = parseResignRequest(body);
    this.#checkCluster(request.cluster_id);
    return this.#exclusive(() => {
      const lease = authorizeLeaseRequest('resign', this.#state, request, this.kid);
      const now = this.#clock.wallNow();
      this.#auth.check('resign', request, lease.leader, now);
      this.#auth.accept(request, now);
      const resigned = { event: 'enclave.resigned', epoch: lease.epoch, leader: lease.leader.name };
      // The successor comes from the enclave's candidates, never from the resigning leader.
      this.#candidacies.forget(lease.leader.name, now);
      const next = this.#electNew(nextEpoch(this.#state, 0), lease.leader.name, now, true);
      if (next === null) {
        const ended = { ...lease, ended: true, leaseEnd: Math.min(lease.leaseEnd, now) };
        this.#commit({ ...this.#state, generation: this.#state.generation + 1, lease: ended });
        this.#log.info({ ...resigned, successor: null });
        return {
          certificate: null,
          epoch: lease.epoch,
          seq: lease.seq,
          leader: null,
          lease_end: ended.leaseEnd,
          candidates: null,
        };
      }
      this.#log.info({ ...resigned, successor: next.leader.name });
      return this.#leaseResponse(next);
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

  /**
   * Elect the leader of `epoch` from the enclave's candidates: admitted members
   * whose own candidacy arrived within the window, without the previous
   * leader. Null when `excludeAlone` and nobody but that leader stands.
   */
  #electNew(
    epoch: number,
    previousLeader: string | null,
    now: number,
    excludeAlone = false,
  ): LeaseRecord | null {
    const admitted = (m: MemberIdentity) => this.#auth.isAdmitted(m, now);
    const pool = this.#candidacies.candidates(now - this.candidacyWindowMs, admitted);
    if (excludeAlone && pool.every((m) => m.name === previousLeader)) return null;
    const candidates = sortMembers(candidatesWithout(pool, previousLeader));
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
    this.#term = { epoch, candidates, startedAt: now, ended: false };
    this.#log.info({
      event: 'enclave.elected',
      epoch,
      leader: leader.name,
      candidates: candidates.length,
      previousLeader,
    });
    return next.lease!;
  }

  /**
   * A lease that ran out unrenewed is the enclave's own evidence that its
   * leader failed: it stops standing until it asks again. A leader whose
   * --max-term ended was refused, not failed: it keeps standing.
   */
  #failedLeaderForgetting(): () => void {
    const lease = this.#state.lease;
    if (!lease || lease.ended || (this.#term?.epoch === lease.epoch && this.#term.ended)) return () => {};
    return () => this.#candidacies.forget(lease.leader.name, lease.leaseEnd);
  }

  /** When the pending election may run: settle time after the first candidacy that is still in the window. */
  #settledAt(now: number): number {
    const ended = this.#state.lease ? Math.min(this.#state.lease.leaseEnd, now) : now;
    const opened = this.#candidacies.earliest(Math.min(now - this.candidacyWindowMs, ended));
    return opened === undefined ? now : Math.max(opened + this.candidacySettleMs, ended);
  }

  /** With --max-term, a leader past its term is not renewed: its lease runs out and the next election excludes it. */
  #checkTerm(lease: LeaseRecord, now: number): void {
    const term = this.#term;
    if (this.maxTermMs <= 0 || term?.epoch !== lease.epoch) return;
    if (now - term.startedAt < this.maxTermMs) return;
    if (!term.ended)
      this.#log.info({ event: 'enclave.term_ended', epoch: lease.epoch, leader: lease.leader.name });
    term.ended = true;
    throw new RequestError(
      409,
      'E_MAX_TERM',
      `${lease.leader.name} has led epoch ${lease.epoch} for the maximum term of ${this.maxTermMs} ms; the lease runs out and a successor is elected without it`,
    );
  }

  #leaseResponse(lease: LeaseRecord): LeaseResponse {
    return {
      certificate: lease.token,
      epoch: lease.epoch,
      seq: lease.seq,
      leader: lease.leader.name,
      lease_end: lease.leaseEnd,
      candidates: this.#term?.epoch === lease.epoch ? this.#term.candidates : null,
    };
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
