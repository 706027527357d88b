// The peer's election state machine (DESIGN.md §5), pure: it is driven by
// tick(), offer() and the results of enclave requests, and returns effects.
//
// Safety rests on the enclave (one leader per epoch, no new epoch before the
// lease ends) plus one local rule: a leader acts only inside
// renewSentAt + lease - margin, measured on this peer's monotonic clock, and it
// starts acting only after a renewal of its own, so that window always starts
// at a send time it knows.

import {
  actingWindowEnd,
  backoffMs,
  candidacyRefreshMs,
  type ElectionTiming,
  followerGraceMs,
  isDesignatedAsker,
  leaseLengthMs,
  renewIntervalMs,
} from './timing.ts';
import type {
  ElectionCertificate,
  ElectionClock,
  ElectionEffect,
  MemberRef,
  MembershipView,
  ReleaseReason,
  RequestKind,
} from './types.ts';

export interface ElectionOptions {
  self: MemberRef;
  clusterId: string;
  timing: ElectionTiming;
  clock: ElectionClock;
  /** Uniform in [0, 1); seeded in tests. */
  random: () => number;
}

export interface ElectionStatus {
  certificate: ElectionCertificate | null;
  isLeader: boolean;
  /** Monotonic end of this peer's own acting window, when it leads. */
  actingUntil: number | null;
  pending: RequestKind | null;
}

export type OfferResult = 'adopted' | 'stale' | 'foreign';

export class Election {
  readonly #self: MemberRef;
  readonly #clusterId: string;
  readonly #timing: ElectionTiming;
  readonly #clock: ElectionClock;
  readonly #random: () => number;

  #certificate: ElectionCertificate | null = null;
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
      isLeader: this.#actingUntil !== null && this.#clock.monoMs() < this.#actingUntil,
      actingUntil: this.#actingUntil,
      pending: this.#pending,
    };
  }

  /** Advance time: release an ended window, renew, or ask the enclave. */
  tick(view: MembershipView): ElectionEffect[] {
    const effects: ElectionEffect[] = [];
    const now = this.#clock.monoMs();
    if (this.#actingUntil !== null && now >= this.#actingUntil) {
      effects.push(this.#release('expired', this.#wallAt(this.#actingUntil)));
    }
    if (this.#resigned || this.#pending !== null || now < this.#notBefore) return effects;

    const cert = this.#certificate;
    const namesMe = cert !== null && cert.leader === this.#self.name;
    const wallNow = this.#clock.wallMs();
    const leaseLive = cert !== null && wallNow < cert.leaseEndsAt;

    if (namesMe && leaseLive && this.#refresh) {
      effects.push(
        this.#request({
          type: 'elect',
          sentAt: now,
          members: sortedMembers(view.members, this.#self),
          knownEpoch: cert.epoch,
          waitMs: 0,
        }),
      );
      return effects;
    }
    if (namesMe && leaseLive && (this.#actingUntil === null || now >= this.#nextRenewAt)) {
      // First renewal of a lease someone else asked for, or the periodic one.
      effects.push(this.#request({ type: 'renew', sentAt: now, certificate: cert }));
      return effects;
    }
    if (namesMe && leaseLive) return effects;

    // A peer that starts stood when it first asked; one that found a lease by gossip stands within a refresh.
    this.#nextCandidacyAt ??= now + candidacyRefreshMs(view.members.length, this.#random);
    if (leaseLive && view.joined && now >= this.#nextCandidacyAt && wallNow < this.#askAt(cert, view)) {
      // Stand: the enclave counts only members whose own signed request it received recently.
      effects.push(
        this.#request({
          type: 'elect',
          sentAt: now,
          members: sortedMembers(view.members, this.#self),
          knownEpoch: cert.epoch,
          waitMs: 0,
        }),
      );
      effects.push(this.#log('info', 'election.candidacy', { knownEpoch: cert.epoch }));
      return effects;
    }

    const askAt = cert === null ? -Infinity : this.#askAt(cert, view);
    if (view.joined && wallNow >= askAt) {
      const waitMs =
        cert === null ? 0 : Math.min(this.#timing.maxWaitMs, Math.max(0, cert.leaseEndsAt - wallNow) + 50);
      effects.push(
        this.#request({
          type: 'elect',
          sentAt: now,
          members: sortedMembers(view.members, this.#self),
          knownEpoch: cert?.epoch ?? 0,
          waitMs,
        }),
      );
      effects.push(this.#log('info', 'election.requested', { knownEpoch: cert?.epoch ?? 0, waitMs }));
    }
    return effects;
  }

  /**
   * A verified certificate from gossip or from the enclave. Adopted when it is
   * newer by (epoch, seq); the shell gossips adopted ones and re-offers ours to
   * members that show an older one.
   */
  offer(cert: ElectionCertificate): { result: OfferResult; effects: ElectionEffect[] } {
    if (cert.clusterId !== this.#clusterId) {
      return {
        result: 'foreign',
        effects: [
          this.#log('warn', 'certificate.rejected', { reason: 'cluster', clusterId: cert.clusterId }),
        ],
      };
    }
    const current = this.#certificate;
    if (current !== null && compareCertificates(cert, current) <= 0) return { result: 'stale', effects: [] };

    const effects: ElectionEffect[] = [];
    const newEpoch = current === null || cert.epoch > current.epoch;
    if (this.#actingUntil !== null && (newEpoch || cert.leader !== this.#self.name)) {
      effects.push(this.#release('superseded', this.#clock.wallMs()));
    }
    this.#certificate = cert;
    if (newEpoch) {
      this.#failures = 0;
      this.#notBefore = 0;
      effects.push(
        this.#log('info', 'certificate.accepted', {
          epoch: cert.epoch,
          seq: cert.seq,
          leader: cert.leader,
          leaderKey: cert.leaderKey,
          policy: cert.policy,
          leaseEndsAt: new Date(cert.leaseEndsAt).toISOString(),
        }),
      );
    }
    effects.push({ type: 'broadcast', certificate: cert });
    return { result: 'adopted', effects };
  }

  /**
   * An enclave request started by an effect of ours answered with a
   * certificate. `sentAt` and `basis` come from that effect: a renewal counts
   * only if it moved the sequence past the certificate it renewed.
   */
  succeeded(
    kind: RequestKind,
    sentAt: number,
    cert: ElectionCertificate,
    basis: ElectionCertificate | null = null,
  ): ElectionEffect[] {
    if (this.#pending === kind) this.#pending = null;
    this.#failures = 0;
    if (kind === 'elect') this.#refresh = false;
    const { effects } = this.offer(cert);
    const renewed =
      kind === 'renew' &&
      basis !== null &&
      cert.epoch === basis.epoch &&
      cert.seq > basis.seq &&
      cert.leader === this.#self.name &&
      this.#certificate?.hash === cert.hash;
    if (renewed) {
      this.#startOrExtendWindow(sentAt, cert, effects);
    } else if (
      kind === 'elect' &&
      cert.leader !== this.#self.name &&
      this.#clock.wallMs() >= cert.leaseEndsAt
    ) {
      // The answer's lease has already run out (a slow reply): back off before asking again.
      this.#notBefore = this.#clock.monoMs() + backoffMs(0, this.#timing, this.#random);
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
    const current = this.#certificate?.epoch ?? 0;
    if (epoch <= current || this.#pending !== null || this.#resigned || !view.joined) return [];
    if (this.#clock.monoMs() < this.#notBefore) return [];
    return [
      this.#request({
        type: 'elect',
        sentAt: this.#clock.monoMs(),
        members: sortedMembers(view.members, this.#self),
        knownEpoch: current,
        waitMs: 0,
      }),
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
    this.#notBefore = this.#clock.monoMs() + Math.min(delay, cap);
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
    const now = this.#clock.monoMs();
    const effects: ElectionEffect[] = [this.#release('resigned', this.#clock.wallMs())];
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
  #askAt(cert: ElectionCertificate, view: MembershipView): number {
    const names = view.members.map((m) => m.name);
    if (!names.includes(this.#self.name)) names.push(this.#self.name);
    const designated = isDesignatedAsker(
      this.#self.name,
      names,
      cert.leader,
      cert.epoch,
      this.#timing.askers,
    );
    const lease = leaseLengthMs(cert.issuedAt, cert.leaseEndsAt);
    const grace = designated ? 0 : followerGraceMs(this.#timing.followerGraceMs, lease, names.length);
    return cert.leaseEndsAt - this.#timing.askAheadMs + grace;
  }

  #startOrExtendWindow(sentAt: number, cert: ElectionCertificate, effects: ElectionEffect[]): void {
    const now = this.#clock.monoMs();
    const until = actingWindowEnd(
      sentAt,
      leaseLengthMs(cert.issuedAt, cert.leaseEndsAt),
      this.#timing.leaderMarginMs,
    );
    this.#nextRenewAt = sentAt + renewIntervalMs(leaseLengthMs(cert.issuedAt, cert.leaseEndsAt));
    if (until <= now || this.#resigned) return;
    const acquired = this.#actingUntil === null;
    this.#actingUntil = until;
    if (acquired) {
      effects.push(
        this.#log('info', 'leader.acquired', {
          epoch: cert.epoch,
          seq: cert.seq,
          leaseEndsAt: new Date(this.#wallAt(until)).toISOString(),
        }),
      );
    }
  }

  #release(reason: ReleaseReason, stoppedAtWall: number): ElectionEffect {
    const epoch = this.#certificate?.epoch ?? 0;
    // Never later than the window's end: a peer frozen past it (paused, starved)
    // stopped acting then, whatever woke it first (a tick or a newer certificate).
    if (this.#actingUntil !== null) stoppedAtWall = Math.min(stoppedAtWall, this.#wallAt(this.#actingUntil));
    this.#actingUntil = null;
    return this.#log('info', 'leader.released', {
      epoch,
      reason,
      stoppedAt: new Date(stoppedAtWall).toISOString(),
    });
  }

  #request(effect: Extract<ElectionEffect, { type: 'elect' | 'renew' | 'resign' }>): ElectionEffect {
    this.#pending = effect.type;
    // Every elect is a candidacy: the next refresh is due a refresh interval after it.
    if (effect.type === 'elect') {
      this.#nextCandidacyAt = effect.sentAt + candidacyRefreshMs(effect.members.length, this.#random);
    }
    return effect;
  }

  #leaseMs(): number {
    const cert = this.#certificate;
    return cert === null ? 0 : leaseLengthMs(cert.issuedAt, cert.leaseEndsAt);
  }

  #wallAt(mono: number): number {
    return this.#clock.wallMs() - (this.#clock.monoMs() - mono);
  }

  #log(level: 'info' | 'warn', event: string, fields: Record<string, unknown>): ElectionEffect {
    return { type: 'log', level, event, fields: { epoch: this.#certificate?.epoch ?? 0, ...fields } };
  }
}

/** Order by (epoch, seq): positive when a is newer. */
export function compareCertificates(a: ElectionCertificate, b: ElectionCertificate): number {
  return a.epoch !== b.epoch ? a.epoch - b.epoch : a.seq - b.seq;
}

function sortedMembers(members: MemberRef[], self: MemberRef): MemberRef[] {
  const byName = new Map(members.map((m) => [m.name, m]));
  byName.set(self.name, self);
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
