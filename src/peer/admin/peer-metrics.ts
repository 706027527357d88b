// A peer's Prometheus metrics, through prom-client: one registry per peer with
// the default process and event-loop metrics, gauges read from the peer when
// scraped (membership, traffic, leadership), and the counters and histogram
// the peer feeds through the small PeerMetrics interface below. The admin
// server serves `render()`; nothing else in the peer knows prom-client.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { MemberState } from '../../protocol/gossip-messages.ts';
import type { TrafficCounters } from '../traffic-counters.ts';

const PREFIX = 'enclave_elect_';

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

const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** Request latencies from a fast loopback answer to an elect the enclave held for a lease. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class PeerMetrics implements PeerMetricsRecorder {
  readonly registry = new Registry();
  readonly #requests: Counter<'operation' | 'outcome'>;
  readonly #latency: Histogram<'operation' | 'outcome'>;
  readonly #verifications: Counter<'result' | 'cache'>;
  readonly #transitions: Counter<'event' | 'reason'>;

  constructor(sources: PeerMetricsSources, options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const now = sources.now ?? Date.now;
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named *_total fail `promtool check metrics`; each is the sum of the
      // same metric by type (nodejs_active_handles{type=...}), which stays.
      for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
    }

    this.#requests = new Counter({
      name: `${PREFIX}enclave_requests_total`,
      help: 'Enclave requests, by operation (attest, elect, renew, resign) and outcome.',
      labelNames: ['operation', 'outcome'],
      registers,
    });
    this.#latency = new Histogram({
      name: `${PREFIX}enclave_request_duration_seconds`,
      help: 'Enclave request latency, by operation and outcome (elect includes the time the enclave holds it).',
      labelNames: ['operation', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#verifications = new Counter({
      name: `${PREFIX}certificate_verifications_total`,
      help: 'Leader certificate verifications, by result and whether the cache answered.',
      labelNames: ['result', 'cache'],
      registers,
    });
    this.#transitions = new Counter({
      name: `${PREFIX}leader_transitions_total`,
      help: 'Times this peer started (acquired) or stopped (released, with reason) acting as leader.',
      labelNames: ['event', 'reason'],
      registers,
    });

    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name: `${PREFIX}${name}`,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('is_leader', '1 while this peer acts as leader, else 0.', () =>
      sources.leadership()?.isLeader ? 1 : 0,
    );
    gauge(
      'epoch',
      'Epoch of the leader certificate this peer holds (0: none).',
      () => sources.leadership()?.epoch ?? 0,
    );
    gauge(
      'lease_remaining_seconds',
      'Time until the lease of the certificate this peer holds ends (0: none or ended).',
      () => {
        const end = sources.leadership()?.leaseEndsAt;
        return end == null ? 0 : Math.max(0, (end - now()) / 1000);
      },
    );
    gauge('incarnation', "This peer's incarnation number.", sources.incarnation);
    gauge('awareness_score', 'Lifeguard local health score (0 is healthy).', sources.awarenessScore);
    gauge('ready', '1 when /readyz answers 200.', () => (sources.ready() ? 1 : 0));
    new Gauge({
      name: `${PREFIX}members`,
      help: 'Members known, by state (this peer included).',
      labelNames: ['state'],
      registers,
      collect() {
        const states: Record<MemberState, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
        for (const state of sources.memberStates()) states[state]++;
        for (const [state, n] of Object.entries(states)) this.set({ state }, n);
      },
    });

    // Traffic is counted by the membership node; these counters mirror it when scraped.
    const c = sources.counters;
    const mirror = (name: string, help: string, read: () => number) =>
      new Counter({
        name: `${PREFIX}${name}`,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    mirror('gossip_datagrams_received_total', 'Gossip datagrams received.', () => c.datagramsIn);
    mirror('gossip_datagrams_sent_total', 'Gossip datagrams sent.', () => c.datagramsOut);
    mirror('gossip_bytes_received_total', 'Gossip bytes received.', () => c.bytesIn);
    mirror('gossip_bytes_sent_total', 'Gossip bytes sent.', () => c.bytesOut);
    mirror('gossip_unknown_messages_total', 'Messages of unknown kinds skipped.', () => c.unknownMessages);
    const byReason = (name: string, help: string, read: () => Map<string, number>) =>
      new Counter({
        name: `${PREFIX}${name}`,
        help,
        labelNames: ['reason'],
        registers,
        collect() {
          this.reset();
          for (const [reason, n] of read()) this.inc({ reason }, n);
        },
      });
    byReason('gossip_datagrams_dropped_total', 'Gossip datagrams dropped, by reason.', () => c.dropped);
    byReason(
      'gossip_datagrams_withheld_total',
      'Gossip datagrams this peer chose not to send, by reason.',
      () => c.withheld,
    );
    byReason(
      'gossip_messages_ignored_total',
      'Well-formed gossip messages that changed nothing, by reason (table-full, indirect-target, sync-limit, ...).',
      () => c.ignored,
    );
  }

  enclaveRequest(operation: string, outcome: string, seconds: number): void {
    this.#requests.inc({ operation, outcome });
    this.#latency.observe({ operation, outcome }, seconds);
  }

  certificateVerified(result: 'valid' | 'invalid' | 'unknown_kid', cached: boolean): void {
    this.#verifications.inc({ result, cache: cached ? 'hit' : 'miss' });
  }

  leadershipChanged(event: 'acquired' | 'released', reason?: string): void {
    this.#transitions.inc(reason === undefined ? { event } : { event, reason });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
