// The election shell of a peer: the one place that owns the election's I/O.
// It ticks the pure core (election.ts) on the injected clock, carries out the
// effects the core returns (enclave requests through the attesting client,
// gossip of certificates through the membership node, log lines) and feeds
// the results back. It decides nothing the core can decide; it verifies
// gossiped certificates before the core sees them and keeps /status fields.
import type { KeyObject } from 'node:crypto';
import type { LeaderCertificate } from '../../crypto/leader-certificate.ts';
import { VerificationError } from '../../crypto/verification-error.ts';
import type { Certificate } from '../../crypto/x509.ts';
import { EnclaveClient, type EnclaveClientObserver } from '../../enclave/client/enclave-client.ts';
import type { ErrorCode } from '../../errors.ts';
import type { Logger } from '../../log/logger.ts';
import { randomInt } from '../../platform/node-crypto.ts';
import { seededRandom } from '../../random/seeded-random.ts';
import { type Clock, systemClock, type TimerHandle } from '../../time/clock.ts';
import { isoTime } from '../../time/iso-time.ts';
import { encodeFencingToken } from '../../token/fencing-token.ts';
import type { ReadinessCheck } from '../admin/admin-server.ts';
import type { MembershipNode } from '../membership-node.ts';
import { type AdmissionCheck, AdmissionHold } from './admission-hold.ts';
import { decodeCertificate, encodeFullCertificate, encodeRenewal } from './certificate-wire.ts';
import { Election } from './election.ts';
import { type EnclaveStatus, EnclaveTrust } from './enclave-trust.ts';
import type { ElectionTiming } from './timing.ts';
import type { ElectionEffect, MembershipView, RequestKind } from './types.ts';

export type { EnclaveStatus } from './enclave-trust.ts';

/** Gossip topic for leader certificates: key 'epoch' carries whole ones, 'lease' renewals (deltas). */
export const LEADER_TOPIC = 'leader';

export interface PeerElectionOptions {
  node: MembershipNode;
  /** The peer's Ed25519 key: renew/resign requests are signed with it. */
  signer: KeyObject;
  enclaveUrl: string;
  root: Certificate;
  pinnedChecksum: string;
  clusterId: string;
  timing: ElectionTiming;
  /** True once the peer has joined (or stands alone for lack of other seeds). */
  joined: () => boolean;
  logger: Logger;
  requestTimeoutMs?: number;
  /** Test-only: accept enclave keys below 2048 bits. */
  minKeyBits?: number;
  /** Default: the system clock. A ManualClock makes the whole election deterministic. */
  clock?: Clock;
  /** Seed of the backoff jitter; default: fresh from node:crypto. */
  seed?: number;
  /** How enclave requests travel: HTTP by default; a test may answer in-process. */
  fetch?: typeof fetch;
  /** How often the core is ticked. Default 50 ms. */
  tickMs?: number;
  /** Told of enclave requests, verifications and leadership changes (metrics, leader API, --exec). */
  observer?: ElectionObserver;
  /**
   * An enclave client to share (the peer's admission uses the same attestation);
   * default: its own. A shared client carries its own observer.
   */
  client?: EnclaveClient;
  /**
   * What the admission book says of a certificate's leader; absent: no
   * admission. Only 'admitted' is adopted at once; a refused certificate is
   * held and asked about again every tick (admission-hold.ts for the bound).
   */
  admission?: AdmissionCheck;
}

export interface ElectionObserver extends EnclaveClientObserver {
  /** This peer started or stopped acting as leader (with the release reason). */
  leadershipChanged(event: 'acquired' | 'released', reason?: string): void;
  /** The election did something (adopted or requested a certificate, changed its role): look again. */
  electionChanged(): void;
}

export interface LeaderStatus {
  name: string;
  epoch: number;
  seq: number;
  leaseEndsAt: string;
  policy: string;
  verified: true;
  certificate: string;
}

/** Membership events after which a member may hold an older certificate than ours. */
const REJOIN_EVENTS = new Set(['member.joined', 'member.alive', 'member.updated']);
/** Gossiped certificates remembered as seen: 32 s of renewals at lease/4 = 500 ms. */
const SEEN_MAX = 64;

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

interface Failure {
  code: string;
  message: string;
}

function asFailure(error: unknown): Failure {
  const e = error as { code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === 'string' ? e.code : ('E_ENCLAVE_REQUEST' satisfies ErrorCode),
    message: typeof e?.message === 'string' ? e.message : String(error),
  };
}

export class PeerElection {
  readonly election: Election;
  readonly #o: PeerElectionOptions;
  readonly #clock: Clock;
  readonly #tickMs: number;
  readonly #client: EnclaveClient;
  readonly #trust: EnclaveTrust;
  readonly #dropped = new Map<string, number>();
  #rejected = 0;
  /** Enclave-signed certificates refused because the book did not admit their leader with that key. */
  #notAdmitted = 0;
  /** Held certificates adopted on the enclave's word: the book knew nothing of their leader. */
  #unchecked = 0;
  readonly #hold = new AdmissionHold();
  #timer: TimerHandle | undefined;
  #stopped = false;
  readonly #inflight = new Set<Promise<void>>();
  /** Certificates from gossip already seen (by compact form, the newest SEEN_MAX), so each is verified once. */
  readonly #seen = new Set<string>();

  constructor(options: PeerElectionOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#tickMs = options.tickMs ?? 50;
    this.#client =
      options.client ??
      new EnclaveClient({
        url: options.enclaveUrl,
        root: options.root,
        pinnedChecksum: options.pinnedChecksum,
        clusterId: options.clusterId,
        clock: this.#clock,
        ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
        ...(options.requestTimeoutMs === undefined ? {} : { timeoutMs: options.requestTimeoutMs }),
        ...(options.minKeyBits === undefined ? {} : { minKeyBits: options.minKeyBits }),
        ...(options.observer === undefined ? {} : { observer: options.observer }),
      });
    this.#trust = new EnclaveTrust(this.#client, options.enclaveUrl, options.pinnedChecksum, options.logger);
    this.election = new Election({
      self: { name: options.node.name, publicKey: b64url(options.node.self.publicKey) },
      clusterId: options.clusterId,
      timing: options.timing,
      clock: this.#clock,
      random: seededRandom(options.seed ?? randomInt(2 ** 32)),
    });
    options.node.on((event) => {
      if (event.event === 'broadcast.received' && event.topic === LEADER_TOPIC) this.#received(event.payload);
      else if (REJOIN_EVENTS.has(event.event) && 'member' in event)
        this.#run(this.election.memberReturned(event.member));
    });
  }

  start(): void {
    if (this.#timer || this.#stopped) return;
    const tick = (): void => {
      this.#timer = this.#clock.setTimer(this.#tickMs, tick);
      this.#releaseHeld();
      this.#run(this.election.tick(this.view()));
    };
    this.#timer = this.#clock.setTimer(this.#tickMs, tick);
  }

  /**
   * Graceful stop: a leader resigns and gossips the hand-over certificate;
   * waits at most `timeoutMs` for the enclave's answer, then stops regardless.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.stop();
    const deadline = this.#clock.now() + timeoutMs;
    const settle = async (ms: number): Promise<void> => {
      const wake = new AbortController();
      await Promise.race([Promise.allSettled([...this.#inflight]), this.#clock.sleep(ms, wake.signal)]);
      wake.abort();
    };
    // A renewal in flight would make the resignation name a stale sequence: let it land first.
    await settle(timeoutMs / 2);
    this.#run(this.election.resign(this.view()));
    await settle(deadline - this.#clock.now());
  }

  view(): MembershipView {
    const members = this.#o.node
      .members()
      .filter((m) => m.state === 'alive')
      .map((m) => ({ name: m.name, publicKey: b64url(m.publicKey) }));
    return { members, joined: this.#o.joined() };
  }

  status(): { leader: LeaderStatus | null; isLeader: boolean; enclave: EnclaveStatus } {
    const { certificate: cert, isLeader } = this.election.status();
    return {
      leader:
        cert === null
          ? null
          : {
              name: cert.claims.leader.name,
              epoch: cert.claims.epoch,
              seq: cert.claims.seq,
              leaseEndsAt: isoTime(cert.claims.lease_end),
              policy: cert.claims.policy,
              verified: true,
              certificate: cert.compact,
            },
      isLeader,
      enclave: this.#trust.status(),
    };
  }

  /**
   * This peer's fencing token (docs/protocol/token.md) while it acts as leader:
   * its certificate and the attestation that vouched for the signing key.
   */
  token(): string | null {
    const { certificate, isLeader } = this.election.status();
    if (!isLeader || certificate === null) return null;
    const attestation = this.#client.attestationFor(certificate.claims.kid);
    return attestation === undefined
      ? null
      : encodeFencingToken({ certificate: certificate.compact, attestation });
  }

  /**
   * Certificates from gossip dropped before verification, by reason; plus
   * verification failures (`rejected`), of which `notAdmitted` were refused
   * only for want of their leader's admission (held meanwhile); and
   * `adoptedUnchecked`, held ones adopted after the grace on the enclave's word.
   */
  droppedCertificates(): Record<string, number> {
    return {
      ...Object.fromEntries(this.#dropped),
      rejected: this.#rejected,
      notAdmitted: this.#notAdmitted,
      adoptedUnchecked: this.#unchecked,
    };
  }

  /** Another enclave call on the shared client (admission): its outcome speaks about the enclave too. */
  reportEnclaveCall<T>(call: () => Promise<T>): Promise<T> {
    return this.#trust.request(call);
  }

  readiness(): ReadinessCheck {
    return {
      name: 'leader-certificate',
      check: () => {
        if (this.election.status().certificate !== null) return { ready: true };
        const enclave = this.#trust.status();
        if (enclave.trusted === false) return { ready: false, detail: `enclave untrusted: ${enclave.error}` };
        return { ready: false, detail: 'no verified leader certificate yet' };
      },
    };
  }

  /** Stop ticking, without resigning (a crash, as far as the cluster can tell). */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #received(payload: Uint8Array): void {
    const current = this.election.status().certificate;
    // A renewal of a held epoch decodes against the held certificate, so the hold keeps its latest sequence.
    const decoded = decodeCertificate(payload, (epoch) =>
      current?.claims.epoch === epoch ? current.compact : this.#hold.base(epoch)?.compact,
    );
    switch (decoded.kind) {
      case 'full':
      case 'renewal':
        void this.#verifyAndOffer(decoded.compact);
        break;
      case 'missing-base':
        this.#run(this.election.missing(decoded.epoch, this.view()));
        break;
      case 'invalid':
        this.#dropped.set(decoded.reason, (this.#dropped.get(decoded.reason) ?? 0) + 1);
        break;
    }
  }

  /** A certificate received by gossip: verify (once) and offer it to the core. */
  async #verifyAndOffer(compact: string): Promise<void> {
    if (this.#seen.has(compact)) return;
    this.#remember(compact);
    try {
      const cert = this.#adoptable(
        await this.#trust.verification(() => this.#client.verifyCertificate(compact)),
      );
      this.#run(this.election.offer(cert).effects);
    } catch (error) {
      this.#rejected += 1;
      const failure = asFailure(error);
      this.#o.logger.warn({ event: 'certificate.rejected', reason: failure.code, error: failure.message });
    }
  }

  /**
   * Adopt only a certificate whose leader is an admitted member holding that
   * key (issue 14); hold a refused one until the book admits it.
   */
  #adoptable<T extends LeaderCertificate>(cert: T): T {
    const { name, key } = cert.claims.leader;
    if (this.#o.admission && this.#o.admission(name, key, cert.claims.iat) !== 'admitted') {
      this.#notAdmitted += 1;
      this.#hold.hold(cert, this.#clock.now());
      throw new VerificationError(
        'E_CERT_NOT_ADMITTED',
        `leader certificate refused: ${name} is not an admitted member with key ${key.slice(0, 8)}…`,
      );
    }
    return cert;
  }

  /** Offer the held certificates whose leader the book admits by now (a new admission, or a new key). */
  #releaseHeld(): void {
    const admission = this.#o.admission;
    if (admission === undefined || this.#hold.size === 0) return;
    const current = this.election.status().certificate;
    for (const { certificate: cert, unchecked } of this.#hold.release(
      admission,
      current,
      this.#clock.now(),
    )) {
      if (unchecked) this.#unchecked += 1;
      this.#o.logger.info({
        event: 'certificate.admitted',
        epoch: cert.claims.epoch,
        leader: cert.claims.leader.name,
        checked: !unchecked,
      });
      this.#run(this.election.offer(cert).effects);
    }
  }

  #remember(compact: string): void {
    // Gossip repeats a certificate for a few seconds and certificates only move
    // forward: the newest few are all worth remembering. Each is a ~1.5 KB
    // token, and a leader renews twice a second: 1,024 of them (the former
    // bound) kept up to 1.5 MB of a peer's heap alive.
    if (this.#seen.size >= SEEN_MAX) this.#seen.delete(this.#seen.values().next().value!);
    this.#seen.add(compact);
  }

  #run(effects: ElectionEffect[]): void {
    if (effects.length > 0) queueMicrotask(() => this.#o.observer?.electionChanged());
    for (const effect of effects) {
      switch (effect.type) {
        case 'log':
          this.#o.logger[effect.level]({ event: effect.event, ...effect.fields });
          if (effect.event === 'leader.acquired') this.#o.observer?.leadershipChanged('acquired');
          else if (effect.event === 'leader.released') {
            const reason = effect.fields.reason;
            this.#o.observer?.leadershipChanged('released', typeof reason === 'string' ? reason : undefined);
          }
          break;
        case 'broadcast':
          this.#broadcast(effect);
          break;
        case 'send':
          this.#o.node.sendTo(
            effect.member,
            LEADER_TOPIC,
            'epoch',
            encodeFullCertificate(effect.certificate.compact),
          );
          break;
        case 'elect':
          this.#request('elect', effect.sentAt, null, () =>
            // A candidacy: the enclave, not this view, decides who the candidates are.
            this.#client.elect({
              name: this.#o.node.name,
              signer: this.#o.signer,
              knownEpoch: effect.knownEpoch,
              waitMs: effect.waitMs,
            }),
          );
          break;
        case 'renew':
          this.#request('renew', effect.sentAt, effect.certificate, () =>
            this.#client.renew({ certificate: effect.certificate, signer: this.#o.signer }),
          );
          break;
        case 'resign':
          this.#request('resign', effect.sentAt, effect.certificate, () =>
            // No member list: the enclave elects the successor from its own candidates.
            this.#client.resign({ certificate: effect.certificate, signer: this.#o.signer }),
          );
          break;
      }
    }
  }

  #broadcast(effect: Extract<ElectionEffect, { type: 'broadcast' }>): void {
    const { certificate: cert, renewalOf } = effect;
    this.#remember(cert.compact);
    // The codec sends a renewal whole if it differs from its base in more than seq and times.
    const delta = renewalOf === null ? undefined : encodeRenewal(cert.compact, renewalOf.compact);
    // Renewals (every lease/4) ride on probe traffic only; a new epoch gossips at once.
    if (delta) this.#o.node.broadcast(LEADER_TOPIC, 'lease', delta, { piggybackOnly: true });
    else this.#o.node.broadcast(LEADER_TOPIC, 'epoch', encodeFullCertificate(cert.compact));
    for (const name of effect.probeFirst) this.#o.node.probeNext(name);
  }

  #request(
    kind: RequestKind,
    sentAt: number,
    basis: LeaderCertificate | null,
    send: () => Promise<LeaderCertificate | null>,
  ): void {
    const adoptable = () => send().then((cert) => cert && this.#adoptable(cert));
    const done = this.#trust.request(adoptable).then(
      (cert) =>
        this.#run(
          cert === null ? this.election.settled(kind) : this.election.succeeded(kind, sentAt, cert, basis),
        ),
      (error: unknown) => this.#run(this.election.failed(kind, asFailure(error))),
    );
    const tracked = done.finally(() => this.#inflight.delete(tracked));
    this.#inflight.add(tracked);
  }
}
