// Timing maths of SWIM with Lifeguard, as pure functions (memberlist's util.go):
// how long a suspicion lasts, how often a rumour is retransmitted, how often to
// run anti-entropy. Table-tested in test/peer/membership/timing.test.ts.

export interface SuspicionTiming {
  /** Timeout once enough independent confirmations arrived. */
  minMs: number;
  /** Timeout with no confirmation at all. */
  maxMs: number;
  /** Confirmations that shrink the timeout from max to min. */
  expectedConfirmations: number;
}

export interface SuspicionSettings {
  suspicionMult: number;
  suspicionMaxMult: number;
  gossipIntervalMs: number;
}

/**
 * Suspicion bounds for a cluster of n live members. Unconfirmed, a suspicion
 * lasts long enough for the rumour to reach the suspect and its refutation to
 * come back: about log(n) gossip rounds each way, so the maximum grows with
 * log10(n) (memberlist scales both bounds so). Once `expectedConfirmations`
 * other peers have independently failed to reach it (each with indirect
 * probes), the evidence does not weaken as n grows, so the minimum stays flat
 * at mult x gossip interval: that keeps detection near 2-3 s at N = 200.
 */
export function suspicionTiming(n: number, s: SuspicionSettings): SuspicionTiming {
  const scale = Math.max(1, Math.log10(Math.max(1, n)));
  const minMs = s.suspicionMult * s.gossipIntervalMs;
  // Lifeguard: expect mult-2 confirmations, but not more than the others could give.
  const wanted = Math.max(0, s.suspicionMult - 2);
  const expectedConfirmations = n - 2 < wanted ? 0 : wanted;
  return { minMs, maxMs: Math.round(minMs * s.suspicionMaxMult * scale), expectedConfirmations };
}

/**
 * Lifeguard's remaining suspicion time (memberlist remainingSuspicionTime):
 * the timeout falls from max towards min logarithmically with confirmations c
 * out of k expected, minus the time already elapsed (may be negative: expired).
 */
export function remainingSuspicionTime(
  confirmations: number,
  expected: number,
  elapsedMs: number,
  minMs: number,
  maxMs: number,
): number {
  if (expected < 1) return minMs - elapsedMs;
  const fraction = Math.log(confirmations + 1) / Math.log(expected + 1);
  const raw = maxMs - fraction * (maxMs - minMs);
  const timeout = Math.max(minMs, Math.floor(raw));
  return timeout - elapsedMs;
}

/** How many times each rumour is sent: mult × ceil(log10(n + 1)). */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

/**
 * Interval of the full push to a dead member (Serf's reconnect) for n members.
 * A full table costs O(n) bytes, so above `threshold` members the interval
 * grows linearly with n and the bytes per second stay flat in n.
 */
export function pushPullIntervalMs(baseMs: number, n: number, threshold = 32): number {
  return n <= threshold ? baseMs : Math.round((baseMs * n) / threshold);
}

/**
 * Periodic pull interval for n members. A pull lists 4 bytes per member (the
 * answer is empty when views agree), so above 256 members the interval grows
 * with n and a peer's pull bytes per second stay flat (~100 B/s at 10 s).
 */
export function pullIntervalMs(baseMs: number, n: number): number {
  return n <= 256 ? baseMs : Math.round((baseMs * n) / 256);
}

/** Probe interval and timeout stretched by local health (Lifeguard LHA). */
export function scaledByAwareness(ms: number, awarenessScore: number): number {
  return ms * (awarenessScore + 1);
}
