// What a peer records before its first /metrics scrape, in plain counts: the
// peer loads prom-client (about 7 MB of RSS) only when someone scrapes, and
// replays this tally into it then, so nothing that happened earlier is lost.
// Bounded by the label sets (a handful), not by the number of events.
import type { PeerMetricsRecorder } from './peer-metrics-types.ts';

/** One enclave request label set, per latency bucket (the last is +Inf): count, sum of the latencies, and the last one seen. */
export interface RequestTally {
  operation: string;
  outcome: string;
  bucketCounts: number[];
  bucketSums: number[];
  bucketLast: number[];
}

export interface VerificationTally {
  result: 'valid' | 'invalid' | 'unknown_kid';
  cached: boolean;
  count: number;
}

export interface TransitionTally {
  event: 'acquired' | 'released';
  reason: string | undefined;
  count: number;
}

export class MetricsTally implements PeerMetricsRecorder {
  readonly #upperBounds: readonly number[];
  readonly requests = new Map<string, RequestTally>();
  readonly verifications = new Map<string, VerificationTally>();
  readonly transitions = new Map<string, TransitionTally>();

  /** `upperBounds`: the histogram's bucket bounds, ascending (the +Inf bucket is implied). */
  constructor(upperBounds: readonly number[]) {
    this.#upperBounds = upperBounds;
  }

  enclaveRequest(operation: string, outcome: string, seconds: number): void {
    const key = `${operation}\0${outcome}`;
    let tally = this.requests.get(key);
    if (!tally) {
      const buckets = this.#upperBounds.length + 1;
      tally = {
        operation,
        outcome,
        bucketCounts: Array(buckets).fill(0),
        bucketSums: Array(buckets).fill(0),
        bucketLast: Array(buckets).fill(0),
      };
      this.requests.set(key, tally);
    }
    // Same rule as a Prometheus histogram: the first bucket whose bound is >= the value.
    const bound = this.#upperBounds.findIndex((upper) => seconds <= upper);
    const bucket = bound === -1 ? this.#upperBounds.length : bound;
    tally.bucketCounts[bucket]!++;
    tally.bucketSums[bucket]! += seconds;
    tally.bucketLast[bucket] = seconds;
  }

  /**
   * A value to observe `bucketCounts[bucket]` times in place of the originals:
   * their mean, which gives the same count, bucket counts and sum. The mean of
   * values within a bucket lies within it, unless rounding moves it past a
   * bound; then a value seen in that bucket keeps the counts exact.
   */
  replayValue(tally: RequestTally, bucket: number): number {
    const mean = tally.bucketSums[bucket]! / tally.bucketCounts[bucket]!;
    const lower = bucket === 0 ? Number.NEGATIVE_INFINITY : this.#upperBounds[bucket - 1]!;
    const upper = this.#upperBounds[bucket] ?? Number.POSITIVE_INFINITY;
    return mean > lower && mean <= upper ? mean : tally.bucketLast[bucket]!;
  }

  certificateVerified(result: 'valid' | 'invalid' | 'unknown_kid', cached: boolean): void {
    const key = `${result}\0${cached}`;
    const tally = this.verifications.get(key) ?? { result, cached, count: 0 };
    tally.count++;
    this.verifications.set(key, tally);
  }

  leadershipChanged(event: 'acquired' | 'released', reason?: string): void {
    const key = `${event}\0${reason ?? ''}`;
    const tally = this.transitions.get(key) ?? { event, reason, count: 0 };
    tally.count++;
    this.transitions.set(key, tally);
  }
}
