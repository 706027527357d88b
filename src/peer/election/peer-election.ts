// The election layer of a peer: connects the pure core and its runtime to the
// membership node (candidates, gossip of certificates), the attesting enclave
// client, the logger and the admin endpoints (/status fields, readiness).

import type { KeyObject } from 'node:crypto';
import { randomInt } from 'node:crypto';
import type { AttestedEnclave } from '../../crypto/attestation.ts';
import { VerificationError } from '../../crypto/verification-error.ts';
import type { Certificate } from '../../crypto/x509.ts';
import { EnclaveClient } from '../../enclave/client/enclave-client.ts';
import type { Logger } from '../../log/logger.ts';
import type { ReadinessCheck } from '../admin/admin-server.ts';
import { seededRandom } from '../membership/random.ts';
import type { MembershipNode } from '../membership-node.ts';
import { decodeCertificate, encodeFullCertificate, encodeRenewal } from './certificate-wire.ts';
import { Election } from './election.ts';
import { type AdmittedCheck, EnclaveAuthority } from './enclave-authority.ts';
import { ElectionRuntime, type LeaderAuthority } from './runtime.ts';
import { designatedAskers, type ElectionTiming } from './timing.ts';
import type { ElectionCertificate, MemberRef, MembershipView } from './types.ts';

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
  /** Adopt only certificates naming a member admitted with that key (the admission book); absent: no admission. */
  admitted?: AdmittedCheck;
}

export interface EnclaveStatus {
  url: string;
  trusted: boolean | null;
  checksum: string | null;
  pinnedChecksum: string;
  error: string | null;
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

/** Verification errors that mean the enclave itself failed attestation. */
const ATTESTATION_FAILURES = new Set(['E_ENCLAVE_UNTRUSTED', 'E_ATTESTATION_INVALID']);

/** Membership events after which a member may hold an older certificate than ours. */
const REJOIN_EVENTS = new Set(['member.joined', 'member.alive', 'member.updated']);
/** At most one re-offer per this many ms, however much churn. */
const REOFFER_INTERVAL_MS = 1000;

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

export class PeerElection {
  readonly election: Election;
  readonly runtime: ElectionRuntime;
  readonly #o: PeerElectionOptions;
  readonly #client: EnclaveClient;
  readonly #enclave: EnclaveStatus;
  #attestedKid: string | undefined;
  /** The client's attestation last reported (a failed one leaves the client's in place). */
  #reported: AttestedEnclave | undefined;
  readonly #dropped = new Map<string, number>();
  #lastBroadcast: ElectionCertificate | undefined;
  #reofferedAt = Number.NEGATIVE_INFINITY;

  constructor(options: PeerElectionOptions) {
    this.#o = options;
    const self: MemberRef = { name: options.node.name, publicKey: b64url(options.node.self.publicKey) };
    this.#client = new EnclaveClient({
      url: options.enclaveUrl,
      root: options.root,
      pinnedChecksum: options.pinnedChecksum,
      clusterId: options.clusterId,
      ...(options.requestTimeoutMs === undefined ? {} : { timeoutMs: options.requestTimeoutMs }),
      ...(options.minKeyBits === undefined ? {} : { minKeyBits: options.minKeyBits }),
    });
    this.#enclave = {
      url: options.enclaveUrl,
      trusted: null,
      checksum: null,
      pinnedChecksum: options.pinnedChecksum,
      error: null,
    };
    const clock = { monoMs: () => performance.now(), wallMs: () => Date.now() };
    const rng = seededRandom(randomInt(2 ** 32));
    this.election = new Election({
      self,
      clusterId: options.clusterId,
      timing: options.timing,
      clock,
      random: () => rng.next(),
    });
    this.runtime = new ElectionRuntime({
      election: this.election,
      authority: this.#observed(
        new EnclaveAuthority(this.#client, options.signer, self.name, options.admitted),
      ),
      channel: { broadcast: (cert) => this.#broadcast(cert) },
      membership: () => this.view(),
      logger: options.logger,
    });
    options.node.on((event) => {
      if (event.event === 'broadcast.received' && event.topic === LEADER_TOPIC) this.#received(event.payload);
      else if (REJOIN_EVENTS.has(event.event) && 'member' in event) this.#reoffer(event.member);
    });
  }

  start(): void {
    this.runtime.start();
  }

  /** Graceful: a leader resigns (waiting at most `timeoutMs`), then the election stops. */
  shutdown(timeoutMs: number): Promise<void> {
    return this.runtime.shutdown(timeoutMs);
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
              name: cert.leader,
              epoch: cert.epoch,
              seq: cert.seq,
              leaseEndsAt: new Date(cert.leaseEndsAt).toISOString(),
              policy: cert.policy,
              verified: true,
              certificate: cert.compact,
            },
      isLeader,
      enclave: { ...this.#enclave },
    };
  }

  /** Certificates from gossip dropped before verification, by reason; plus verification failures. */
  droppedCertificates(): Record<string, number> {
    return { ...Object.fromEntries(this.#dropped), rejected: this.runtime.rejected };
  }

  readiness(): ReadinessCheck {
    return {
      name: 'leader-certificate',
      check: () => {
        const cert = this.election.status().certificate;
        if (cert !== null) return { ready: true };
        if (this.#enclave.trusted === false)
          return { ready: false, detail: `enclave untrusted: ${this.#enclave.error}` };
        return { ready: false, detail: 'no verified leader certificate yet' };
      },
    };
  }

  #broadcast(cert: ElectionCertificate): void {
    const previous = this.#lastBroadcast;
    this.#lastBroadcast = cert;
    const delta =
      previous && previous.epoch === cert.epoch ? encodeRenewal(cert.compact, previous.compact) : undefined;
    // Renewals (every lease/4) ride on probe traffic only; a new epoch gossips at once.
    if (delta) this.#o.node.broadcast(LEADER_TOPIC, 'lease', delta, { piggybackOnly: true });
    else this.#o.node.broadcast(LEADER_TOPIC, 'epoch', encodeFullCertificate(cert.compact));
    if (cert.leader === this.#o.node.name) {
      // The leader's next probes go to the followers that ask first when a lease
      // ends, so its renewal reaches them before they would ask (DESIGN.md §7:
      // enclave load independent of N). No extra datagrams: a probe is sent anyway.
      const names = this.view().members.map((m) => m.name);
      const { askers } = this.#o.timing;
      for (const name of designatedAskers(names, cert.leader, cert.epoch, askers))
        this.#o.node.probeNext(name);
    }
  }

  /**
   * A member (re)joined, e.g. after a partition healed: it may have missed the
   * epoch's certificate, which was gossiped only when the epoch began. The
   * acting leader offers it again, whole, so the member need not wait for its
   * own enclave request.
   */
  #reoffer(member: string): void {
    const { certificate, isLeader } = this.election.status();
    if (!isLeader || certificate === null) return;
    const payload = encodeFullCertificate(certificate.compact);
    // Straight to the member, every time: gossip alone spends its few sends of
    // the certificate on whoever the next datagrams go to (chaos: three
    // isolated old leaders in a row got it only from the enclave, 4.1-5.4 s
    // after the heal).
    this.#o.node.sendTo(member, LEADER_TOPIC, 'epoch', payload);
    const now = performance.now();
    if (now - this.#reofferedAt < REOFFER_INTERVAL_MS) return;
    this.#reofferedAt = now;
    this.#lastBroadcast = certificate;
    this.#o.node.broadcast(LEADER_TOPIC, 'epoch', payload);
  }

  #received(payload: Uint8Array): void {
    const current = this.election.status().certificate;
    const decoded = decodeCertificate(payload, (epoch) =>
      current?.epoch === epoch ? current.compact : undefined,
    );
    switch (decoded.kind) {
      case 'full':
      case 'renewal':
        void this.runtime.receive(decoded.compact);
        break;
      case 'missing-base':
        this.runtime.missing(decoded.epoch);
        break;
      case 'invalid':
        this.#dropped.set(decoded.reason, (this.#dropped.get(decoded.reason) ?? 0) + 1);
        break;
    }
  }

  /** Wrap the authority to keep /status's enclave trust current and log its changes. */
  #observed(inner: LeaderAuthority): LeaderAuthority {
    const track = async <T>(call: () => Promise<T>): Promise<T> => {
      try {
        const result = await call();
        this.#trusted();
        return result;
      } catch (error) {
        this.#untrusted(error);
        throw error;
      }
    };
    return {
      elect: (members, knownEpoch, waitMs) => track(() => inner.elect(members, knownEpoch, waitMs)),
      renew: (cert) => track(() => inner.renew(cert)),
      resign: (cert, members) => track(() => inner.resign(cert, members)),
      // A follower may learn of the enclave (and of a restarted enclave's new key)
      // only by verifying a gossiped certificate, which attests on an unknown kid.
      // Only a (re-)attestation's failure speaks about the enclave: a refused certificate does not.
      verify: async (compact) => {
        try {
          const cert = await inner.verify(compact);
          // Only a new attestation: a certificate verified under a key attested before
          // an attestation failure does not make the enclave trusted again.
          if (this.#client.attested !== this.#reported) this.#report(this.#client.attested);
          return cert;
        } catch (error) {
          if (error instanceof VerificationError && ATTESTATION_FAILURES.has(error.code))
            this.#untrusted(error);
          throw error;
        }
      },
    };
  }

  #trusted(): void {
    this.#enclave.error = null;
    this.#report(this.#client.attested);
  }

  /** Report (and log once per key) an attestation the client holds. */
  #report(attested: AttestedEnclave | undefined): void {
    this.#reported = attested;
    if (!attested || attested.kid === this.#attestedKid) return;
    this.#attestedKid = attested.kid;
    this.#enclave.trusted = true;
    this.#enclave.checksum = attested.checksum;
    this.#o.logger.info({
      event: 'enclave.attested',
      url: this.#o.enclaveUrl,
      kid: attested.kid,
      checksum: attested.checksum,
    });
  }

  #untrusted(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.#enclave.error = message;
    if (!(error instanceof VerificationError) || !ATTESTATION_FAILURES.has(error.code)) return;
    const changed = this.#enclave.trusted !== false;
    this.#enclave.trusted = false;
    this.#attestedKid = undefined;
    if (error.received) this.#enclave.checksum = error.received;
    if (changed) {
      this.#o.logger.error({
        event: 'enclave.untrusted',
        url: this.#o.enclaveUrl,
        code: error.code,
        expected: error.expected ?? this.#o.pinnedChecksum,
        received: error.received ?? null,
        error: message,
      });
    }
  }
}
