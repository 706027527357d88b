// Election timing: the defaults with their reasons, and the pure arithmetic of
// lease windows, so the rules can be table-tested without a clock.
import type { Random } from '../../random/seeded-random.ts';

export interface ElectionTiming {
  /** How long before a known lease ends a follower asks the enclave (which holds the request until the end). */
  askAheadMs: number;
  /** Safety margin subtracted from the leader's own lease window (clock-rate drift, scheduling delay). */
  leaderMarginMs: number;
  /** First retry delay after a failed enclave request; doubles up to maxBackoffMs, with full jitter. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** Cap on how long the enclave may hold an elect request. */
  maxWaitMs: number;
  /**
   * Followers designated to ask when a lease is about to end; the others wait
   * followerGraceMs longer, by when the designated askers' certificate has
   * usually reached them by gossip. Keeps enclave load independent of N.
   */
  askers: number;
  followerGraceMs: number;
}

export const DEFAULT_ELECTION_TIMING: ElectionTiming = {
  // Ask 300 ms early: enough to cover one gossip round of a missed renewal and
  // an HTTP round trip, so the request is already waiting when the lease ends.
  askAheadMs: 300,
  // 10% of the default 2 s lease: the leader stops well before the enclave could grant anyone else.
  leaderMarginMs: 200,
  // Fast first retry (an enclave restart takes ~1 s), capped so a dead enclave costs <= 1 request/2 s per peer.
  minBackoffMs: 100,
  maxBackoffMs: 2000,
  // Never hold longer than a default lease: a held request outliving it would carry stale members.
  maxWaitMs: 2000,
  // Two, so one dead or slow asker does not delay a failover.
  askers: 2,
  // Three gossip rounds (200 ms each): a new epoch's certificate reaches ~27 peers per asker by then.
  followerGraceMs: 600,
};

/**
 * The acting leader gossips its whole certificate again, for members that
 * come back, at most once a second: churn must not turn into a flood of
 * ~1.1 KB broadcasts (each returning member still gets it directly).
 */
export const REOFFER_INTERVAL_MS = 1000;

/** Length of the lease the enclave granted, from the certificate's own times. */
export function leaseLengthMs(issuedAt: number, leaseEndsAt: number): number {
  return Math.max(0, leaseEndsAt - issuedAt);
}

/**
 * Until when (monotonic) a leader may act after a successful renewal sent at
 * `sentAt`: the enclave started the lease no earlier than it received the
 * request, so sentAt + lease - margin is always before the enclave's lease end.
 */
export function actingWindowEnd(sentAt: number, leaseMs: number, marginMs: number): number {
  return sentAt + leaseMs - marginMs;
}

/** Renew four times per lease, as DESIGN.md §5 asks. */
export function renewIntervalMs(leaseMs: number): number {
  return Math.max(1, Math.floor(leaseMs / 4));
}

/**
 * The `count` followers that ask first when the lease
 * of `epoch` ends: the lowest FNV-1a hashes of epoch:name among the live
 * candidates other than the leader, so the askers change with every epoch and
 * every peer computes the same set from the same view.
 */
export function designatedAskers(
  candidates: readonly string[],
  leader: string,
  epoch: number,
  count: number,
): string[] {
  return candidates
    .filter((name) => name !== leader)
    .map((name) => ({ name, rank: fnv1a(`${epoch}:${name}`) }))
    .sort((a, b) => a.rank - b.rank || (a.name < b.name ? -1 : 1))
    .slice(0, count)
    .map((r) => r.name);
}

export function isDesignatedAsker(
  self: string,
  candidates: readonly string[],
  leader: string,
  epoch: number,
  count: number,
): boolean {
  return designatedAskers(candidates, leader, epoch, count).includes(self);
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * How much later than the designated askers the other followers ask. Renewals
 * reach a follower by piggybacking on probes, about one hop per renewal
 * interval, so the slowest follower learns of one after ~log2(N) hops; a
 * follower asking sooner than that would mostly ask about a lease the leader
 * already renewed. Failover does not wait for this: the designated askers'
 * new certificate is gossiped at once.
 */
export function followerGraceMs(base: number, leaseMs: number, members: number): number {
  return Math.max(base, renewIntervalMs(leaseMs) * Math.ceil(Math.log2(Math.max(1, members) + 1)));
}

/**
 * How often a follower renews its candidacy at the enclave (a signed elect
 * that the live lease answers at once), so that it stands at every election
 * even when it is not among the askers then. 1.5 s per member, between 30 and
 * 80 s: at most 2/3 of a request a second cluster-wide up to 53 members (the
 * leader's renewals already cost 2/s; the budget is 3/s, DESIGN.md §7: with
 * one second per member N = 50 measured 3.28/s), and even at +20% (96 s) one
 * refresh lands inside the enclave's 120 s candidacy window with 24 s to
 * spare. Members are spread by +-20% by a hash of their name (not the seeded
 * jitter source, whose sequence the backoff and probe choices share).
 */
export function candidacyRefreshMs(members: number, self: string): number {
  const base = Math.min(80_000, Math.max(30_000, members * 1500));
  return Math.round(base * (0.8 + (0.4 * fnv1a(`candidacy:${self}`)) / 2 ** 32));
}

/** Exponential backoff with full jitter: attempt 0 -> [0, min), 1 -> [0, 2min), ... capped. */
export function backoffMs(attempt: number, timing: ElectionTiming, random: Random): number {
  const ceiling = Math.min(timing.maxBackoffMs, timing.minBackoffMs * 2 ** Math.min(attempt, 20));
  return Math.max(timing.minBackoffMs / 2, Math.floor(random.next() * ceiling));
}
