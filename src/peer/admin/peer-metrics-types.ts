// What a peer's metrics read and are told: the interfaces between the peer and
// its metrics (peer-metrics.ts), shared by the tally and the prom-client side.
import type { MemberState } from '../../protocol/gossip-messages.ts';
import type { TrafficCounters } from '../traffic-counters.ts';

/** What the peer reports as it happens; every method is cheap and never throws. */
export interface PeerMetricsRecorder {
  /** One enclave HTTP request finished: attest, elect, renew or resign. */
  enclaveRequest(operation: string, outcome: string, seconds: number): void;
  /** One leader certificate verification: its result, and whether the cache answered. */
  certificateVerified(result: 'valid' | 'invalid' | 'unknown_kid', cached: boolean): void;
  /** This peer started or stopped acting as leader. */
  leadershipChanged(event: 'acquired' | 'released', reason?: string): void;
}

export interface LeadershipSample {
  isLeader: boolean;
  /** Epoch of the certificate held (0: none). */
  epoch: number;
  /** Lease end of the certificate held, ms since the Unix epoch; null: none. */
  leaseEndsAt: number | null;
}

/** What the gauges read at scrape time. */
export interface PeerMetricsSources {
  counters: TrafficCounters;
  memberStates(): Iterable<MemberState>;
  incarnation(): number;
  awarenessScore(): number;
  ready(): boolean;
  /** Null when the peer runs without election. */
  leadership(): LeadershipSample | null;
  now?: () => number;
}
