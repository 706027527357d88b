// The peer's election state machine (DESIGN.md §5), pure: it is driven by
// tick(), offer(), memberReturned() and the results of enclave requests, and
// returns effects, including how each certificate is gossiped (whole or as a
// renewal delta) and the rate-limited re-offer to members that come back.
//
// Safety rests on the enclave (one leader per epoch, no new epoch before the
// lease ends) plus one local rule: a leader acts only inside
// renewSentAt + lease - margin, measured on this peer's monotonic clock, and it
// starts acting only after a renewal of its own, so that window always starts
// at a send time it knows.

import type { LeaderCertificate } from '../../crypto/leader-certificate.ts';
import type { Random } from '../../random/seeded-random.ts';
import type { Clock } from '../../time/clock.ts';
import { isoTime } from '../../time/iso-time.ts';
import {
  actingWindowEnd,
  backoffMs,
  candidacyRefreshMs,
  designatedAskers,
  type ElectionTiming,
  followerGraceMs,
  isDesignatedAsker,
  leaseLengthMs,
  REOFFER_INTERVAL_MS,
  renewIntervalMs,
} from './timing.ts';
import type { ElectionEffect, MemberIdentity, MembershipView, ReleaseReason, RequestKind } from './types.ts';

export interface ElectionOptions {
  self: MemberIdentity;
  clusterId: string;
  timing: ElectionTiming;
  /** Monotonic time for windows and backoff, wall time for lease ends and logs. */
  clock: Pick<Clock, 'now' | 'wallNow'>;
  /** Backoff jitter; seeded, so a simulation replays from its seed. */
  random: Random;
}

export interface ElectionStatus {
  certificate: LeaderCertificate | null;
  isLeader: boolean;
  /** Monotonic end of this peer's own acting window, when it leads. */
  actingUntil: number | null;
  pending: RequestKind | null;
}

export type OfferResult = 'adopted' | 'stale' | 'foreign';

export class Election {
  readonly #self: MemberIdentity;
  readonly #clusterId: string;
  readonly #timing: ElectionTiming;
  readonly #clock: Pick<Clock, 'now' | 'wallNow'>;
  readonly #random: Random;

  #certificate: LeaderCertificate | null = null;
  /** Monotonic end of the acting window; null when not acting as leader. */
  #actingUntil: number | null = null;
  #nextRenewAt = 0;
  #pending: RequestKind | null = null;
  #failures = 0;
  #notBefore = 0;
  #resigned = false;
  /** When this follower next renews its candidacy (monotonic); null until its first tick. */
  #nextCandidacyAt: number | null = null;
  /**
   * A renewal failed: the enclave may hold a newer sequence than ours (a reply
   * we never received), so fetch the current certificate before renewing again.
   */
  #refresh = false;
  /** The certificate gossiped last: a renewal of its epoch travels as a delta against it. */
  #lastBroadcast: LeaderCertificate | null = null;
  #reofferedAt = Number.NEGATIVE_INFINITY;
  /** Alive member names as of the last tick: whom a leader's renewal should reach first. */
  #memberNames: string[] = [];

  constructor(options: ElectionOptions) {
    this.#self = options.self;
    this.#clusterId = options.clusterId;
    this.#timing = options.timing;
    this.#clock = options.clock;
    this.#random = options.random;
  }

  status(): ElectionStatus {
    return {
      certificate: this.#certificate,
      isLeader: this.#actingUntil !== null && this.#clock.now() < this.#actingUntil,
      actingUntil: this.#actingUntil,
      pending: this.#pending,
    };
  }

  /** Advance time: release an ended window, renew, or ask the enclave. */
  tick(view: MembershipView): ElectionEffect[] {
    this.#memberNames = view.members.map((m) => m.name);
    const effects: ElectionEffect[] = [];
    const now = this.#clock.now();
    if (this.#actingUntil !== null && now >= this.#actingUntil) {
      effects.push(this.#release('expired', this.#wallAt(this.#actingUntil)));
    }
    if (this.#resigned || this.#pending !== null || now < this.#notBefore) return effects;

    const cert = this.#certificate;
    const namesMe = cert !== null && cert.claims.leader.name === this.#self.name;
    const wallNow = this.#clock.wallNow();
    const leaseLive = cert !== null && wallNow < cert.claims.lease_end;

    if (namesMe && leaseLive && this.#refresh) {
      effects.push(this.#elect(now, view, cert.claims.epoch, 0));
      return effects;
    }
    if (namesMe && leaseLive && (this.#actingUntil === null || now >= this.#nextRenewAt)) {
      // First renewal of a lease someone else asked for, or the periodic one.
      effects.push(this.#request({ type: 'renew', sentAt: now, certificate: cert }));
      return effects;
    }
    if (namesMe && leaseLive) return effects;

    // A peer that starts stood when it first asked; one that found a lease by gossip stands within a refresh.
    this.#nextCandidacyAt ??= now + candidacyRefreshMs(view.members.length, this.#self.name);
    if (leaseLive && view.joined && now >= this.#nextCandidacyAt && wallNow < this.#askAt(cert, view)) {
      // Stand: the enclave counts only members whose own signed request it received recently.
      effects.push(this.#elect(now, view, cert.claims.epoch, 0));
      effects.push(this.#log('info', 'election.candidacy', { knownEpoch: cert.claims.epoch }));
      return effects;
    }

    const askAt = cert === null ? -Infinity : this.#askAt(cert, view);
    if (view.joined && wallNow >= askAt) {
      const waitMs =
        cert === null
          ? 0
          : Math.min(this.#timing.maxWaitMs, Math.max(0, cert.claims.lease_end - wallNow) + 50);
      effects.push(this.#elect(now, view, cert?.claims.epoch ?? 0, waitMs));
      effects.push(this.#log('info', 'election.requested', { knownEpoch: cert?.claims.epoch ?? 0, waitMs }));
    }
    return effects;
  }

  /**
   * A verified certificate from gossip or from the enclave. Adopted when it is
   * newer by (epoch, seq); the shell gossips adopted ones and re-offers ours to
   * members that show an older one.
   */
  offer(cert: LeaderCertificate): { result: OfferResult; effects: ElectionEffect[] } {
    if (cert.claims.cluster_id !== this.#clusterId) {
      return {
        result: 'foreign',
        effects: [
          this.#log('warn', 'certificate.rejected', { reason: 'cluster', clusterId: cert.claims.cluster_id }),
        ],
      };
    }
    const current = this.#certificate;
    if (current !== null && compareCertificates(cert, current) <= 0) return { result: 'stale', effects: [] };

    const effects: ElectionEffect[] = [];
    const newEpoch = current === null || cert.claims.epoch > current.claims.epoch;
    if (this.#actingUntil !== null && (newEpoch || cert.claims.leader.name !== this.#self.name)) {
      // A leader frozen past its window (paused, starved) may read the newer
      // certificate before its own timer fires: it stopped because the window
      // ended, not because it was superseded while acting.
      const ended = this.#clock.now() >= this.#actingUntil;
      effects.push(this.#release(ended ? 'expired' : 'superseded', this.#clock.wallNow()));
    }
    this.#certificate = cert;
    if (newEpoch) {
      this.#failures = 0;
      this.#notBefore = 0;
      effects.push(
        this.#log('info', 'certificate.accepted', {
          epoch: cert.claims.epoch,
          seq: cert.claims.seq,
          leader: cert.claims.leader.name,
          leaderKey: cert.claims.leader.key,
          policy: cert.claims.policy,
          leaseEndsAt: isoTime(cert.claims.lease_end),
        }),
      );
    }
    effects.push(this.#broadcast(cert));
    return { result: 'adopted', effects };
  }

  /**
   * A member (re)joined, e.g. after a partition healed: it may have missed the
   * epoch's certificate, which was gossiped whole only when the epoch began.
   * The acting leader sends it the whole certificate straight away, every
   * time: gossip alone spends its few sends on whoever the next datagrams go
   * to (chaos: three isolated old leaders in a row got it only from the
   * enclave, 4.1-5.4 s after the heal). It also gossips it whole again, but at
   * most once per REOFFER_INTERVAL_MS however much churn.
   */
  memberReturned(member: string): ElectionEffect[] {
    const cert = this.#certificate;
    if (cert === null || !this.status().isLeader) return [];
    const effects: ElectionEffect[] = [{ type: 'send', member, certificate: cert }];
    const now = this.#clock.now();
    if (now - this.#reofferedAt >= REOFFER_INTERVAL_MS) {
      this.#reofferedAt = now;
      this.#lastBroadcast = cert;
      effects.push({ type: 'broadcast', certificate: cert, renewalOf: null, probeFirst: [] });
    }
    return effects;
  }

  /**
   * An enclave request started by an effect of ours answered with a
   * certificate. `sentAt` and `basis` come from that effect: a renewal counts
   * only if it moved the sequence past the certificate it renewed.
   */
  succeeded(
    kind: RequestKind,
    sentAt: number,
    cert: LeaderCertificate,
    basis: LeaderCertificate | null = null,
  ): ElectionEffect[] {
    if (this.#pending === kind) this.#pending = null;
    this.#failures = 0;
    if (kind === 'elect') this.#refresh = false;
    const { effects } = this.offer(cert);
    const renewed =
      kind === 'renew' &&
      basis !== null &&
      cert.claims.epoch === basis.claims.epoch &&
      cert.claims.seq > basis.claims.seq &&
      cert.claims.leader.name === this.#self.name &&
      this.#certificate?.hash === cert.hash;
    if (renewed) {
      this.#startOrExtendWindow(sentAt, cert, effects);
    } else if (
      kind === 'elect' &&
      cert.claims.leader.name !== this.#self.name &&
      this.#clock.wallNow() >= cert.claims.lease_end
    ) {
      // The answer's lease has already run out (a slow reply): back off before asking again.
      this.#notBefore = this.#clock.now() + backoffMs(0, this.#timing, this.#random);
    }
    return effects;
  }

  /** A request answered without a certificate (a resign with nobody left to elect). */
  settled(kind: RequestKind): ElectionEffect[] {
    if (this.#pending === kind) this.#pending = null;
    return [this.#log('info', 'election.no_successor', { request: kind })];
  }

  /**
   * Gossip brought a renewal for an epoch we hold no certificate of (the
   * whole certificate was lost): fetch the current one from the enclave, which
   * answers with the live lease and grants nothing new while it lasts.
   */
  missing(epoch: number, view: MembershipView): ElectionEffect[] {
    const current = this.#certificate?.claims.epoch ?? 0;
    if (epoch <= current || this.#pending !== null || this.#resigned || !view.joined) return [];
    if (this.#clock.now() < this.#notBefore) return [];
    return [
      this.#elect(this.#clock.now(), view, current, 0),
      this.#log('info', 'election.requested', {
        knownEpoch: current,
        waitMs: 0,
        reason: 'missing-certificate',
      }),
    ];
  }

  /** An enclave request failed (unreachable, untrusted, refused). */
  failed(kind: RequestKind, error: { code: string; message: string }): ElectionEffect[] {
    if (this.#pending === kind) this.#pending = null;
    if (kind === 'renew') this.#refresh = true;
    const delay = backoffMs(this.#failures, this.#timing, this.#random);
    this.#failures += 1;
    // A leader keeps retrying its renewal well inside its window; others back off.
    const cap =
      kind === 'renew' && this.#actingUntil !== null
        ? Math.max(1, Math.floor(renewIntervalMs(this.#leaseMs()) / 2))
        : Number.POSITIVE_INFINITY;
    this.#notBefore = this.#clock.now() + Math.min(delay, cap);
    return [
      this.#log('warn', 'enclave.request_failed', {
        request: kind,
        code: error.code,
        error: error.message,
        retryInMs: Math.min(delay, cap),
      }),
    ];
  }

  /** Graceful stop: a leader stops acting and hands over; everyone stops asking. */
  resign(view: MembershipView): ElectionEffect[] {
    this.#resigned = true;
    const cert = this.#certificate;
    if (this.#actingUntil === null || cert === null) return [];
    const now = this.#clock.now();
    const effects: ElectionEffect[] = [this.#release('resigned', this.#clock.wallNow())];
    this.#pending = 'resign';
    effects.push({
      type: 'resign',
      sentAt: now,
      certificate: cert,
      members: sortedMembers(view.members, this.#self).filter((m) => m.name !== this.#self.name),
    });
    return effects;
  }

  /** When this follower asks about the lease of `cert` (designated askers first; see timing.ts). */
  #askAt(cert: LeaderCertificate, view: MembershipView): number {
    const names = view.members.map((m) => m.name);
    if (!names.includes(this.#self.name)) names.push(this.#self.name);
    const designated = isDesignatedAsker(
      this.#self.name,
      names,
      cert.claims.leader.name,
      cert.claims.epoch,
      this.#timing.askers,
    );
    const lease = leaseLengthMs(cert.claims.iat, cert.claims.lease_end);
    const grace = designated ? 0 : followerGraceMs(this.#timing.followerGraceMs, lease, names.length);
    return cert.claims.lease_end - this.#timing.askAheadMs + grace;
  }

  #startOrExtendWindow(sentAt: number, cert: LeaderCertificate, effects: ElectionEffect[]): void {
    const now = this.#clock.now();
    const until = actingWindowEnd(
      sentAt,
      leaseLengthMs(cert.claims.iat, cert.claims.lease_end),
      this.#timing.leaderMarginMs,
    );
    this.#nextRenewAt = sentAt + renewIntervalMs(leaseLengthMs(cert.claims.iat, cert.claims.lease_end));
    if (until <= now || this.#resigned) return;
    const acquired = this.#actingUntil === null;
    this.#actingUntil = until;
    if (acquired) {
      effects.push(
        this.#log('info', 'leader.acquired', {
          epoch: cert.claims.epoch,
          seq: cert.claims.seq,
          leaseEndsAt: isoTime(this.#wallAt(until)),
        }),
      );
    }
  }

  #release(reason: ReleaseReason, stoppedAtWall: number): ElectionEffect {
    const epoch = this.#certificate?.claims.epoch ?? 0;
    // Never later than the window's end: a peer frozen past it (paused, starved)
    // stopped acting then, whatever woke it first (a tick or a newer certificate).
    if (this.#actingUntil !== null) stoppedAtWall = Math.min(stoppedAtWall, this.#wallAt(this.#actingUntil));
    this.#actingUntil = null;
    return this.#log('info', 'leader.released', {
      epoch,
      reason,
      stoppedAt: isoTime(stoppedAtWall),
    });
  }

  /**
   * Whole for a new epoch; a renewal of the epoch gossiped last goes as a delta
   * against it. A leader's own certificate should reach the followers that ask
   * first when a lease ends (timing.ts) before they would ask, so its next
   * probes go to them (DESIGN.md §7: enclave load independent of N).
   */
  #broadcast(cert: LeaderCertificate): ElectionEffect {
    const previous = this.#lastBroadcast;
    this.#lastBroadcast = cert;
    const renewalOf = previous !== null && previous.claims.epoch === cert.claims.epoch ? previous : null;
    const { name: leader } = cert.claims.leader;
    const probeFirst =
      leader === this.#self.name
        ? designatedAskers(this.#memberNames, leader, cert.claims.epoch, this.#timing.askers)
        : [];
    return { type: 'broadcast', certificate: cert, renewalOf, probeFirst };
  }

  /** An elect request (a candidacy at the enclave) from this peer's current view. */
  #elect(sentAt: number, view: MembershipView, knownEpoch: number, waitMs: number): ElectionEffect {
    return this.#request({
      type: 'elect',
      sentAt,
      members: sortedMembers(view.members, this.#self),
      knownEpoch,
      waitMs,
    });
  }

  #request(effect: Extract<ElectionEffect, { type: 'elect' | 'renew' | 'resign' }>): ElectionEffect {
    this.#pending = effect.type;
    // Every elect is a candidacy: the next refresh is due a refresh interval after it.
    if (effect.type === 'elect') {
      this.#nextCandidacyAt = effect.sentAt + candidacyRefreshMs(effect.members.length, this.#self.name);
    }
    return effect;
  }

  #leaseMs(): number {
    const cert = this.#certificate;
    return cert === null ? 0 : leaseLengthMs(cert.claims.iat, cert.claims.lease_end);
  }

  #wallAt(mono: number): number {
    return this.#clock.wallNow() - (this.#clock.now() - mono);
  }

  #log(level: 'info' | 'warn', event: string, fields: Record<string, unknown>): ElectionEffect {
    return { type: 'log', level, event, fields: { epoch: this.#certificate?.claims.epoch ?? 0, ...fields } };
  }
}

/** Order by (epoch, seq): positive when a is newer. */
function compareCertificates(a: LeaderCertificate, b: LeaderCertificate): number {
  return a.claims.epoch !== b.claims.epoch ? a.claims.epoch - b.claims.epoch : a.claims.seq - b.claims.seq;
}

function sortedMembers(members: MemberIdentity[], self: MemberIdentity): MemberIdentity[] {
  const byName = new Map(members.map((m) => [m.name, m]));
  byName.set(self.name, self);
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
