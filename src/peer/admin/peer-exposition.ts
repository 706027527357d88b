// The prom-client side of a peer's metrics: one registry per peer with the
// default process and event-loop metrics, gauges read from the peer when
// scraped (membership, traffic, leadership), and the counters and histogram
// the peer feeds. Loaded by PeerMetrics at the first scrape only.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { MemberState } from '../../protocol/gossip-messages.ts';
import type { MetricsTally } from './metrics-tally.ts';
import type { PeerMetricsRecorder, PeerMetricsSources } from './peer-metrics-types.ts';

const PREFIX = 'enclave_elect_';

const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export interface PeerExposition {
  registry: Registry;
  /** Records straight into prom-client's metrics. */
  recorder: PeerMetricsRecorder;
  /** Adds what `tally` counted before this exposition existed. */
  replay(tally: MetricsTally): void;
}

export function createPeerExposition(
  sources: PeerMetricsSources,
  options: { defaultMetrics: boolean; latencyBuckets: number[] },
): PeerExposition {
  const registry = new Registry();
  const registers = [registry];
  const now = sources.now ?? Date.now;
  if (options.defaultMetrics) {
    collectDefaultMetrics({ register: registry });
    // Gauges named *_total fail `promtool check metrics`; each is the sum of the
    // same metric by type (nodejs_active_handles{type=...}), which stays.
    for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name);
  }

  const requests = new Counter({
    name: `${PREFIX}enclave_requests_total`,
    help: 'Enclave requests, by operation (attest, elect, renew, resign) and outcome.',
    labelNames: ['operation', 'outcome'],
    registers,
  });
  const latency = new Histogram({
    name: `${PREFIX}enclave_request_duration_seconds`,
    help: 'Enclave request latency, by operation and outcome (elect includes the time the enclave holds it).',
    labelNames: ['operation', 'outcome'],
    buckets: options.latencyBuckets,
    registers,
  });
  const verifications = new Counter({
    name: `${PREFIX}certificate_verifications_total`,
    help: 'Leader certificate verifications, by result and whether the cache answered.',
    labelNames: ['result', 'cache'],
    registers,
  });
  const transitions = new Counter({
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

  const transitionLabels = (event: 'acquired' | 'released', reason: string | undefined) =>
    reason === undefined ? { event } : { event, reason };
  return {
    registry,
    recorder: {
      enclaveRequest(operation, outcome, seconds) {
        requests.inc({ operation, outcome });
        latency.observe({ operation, outcome }, seconds);
      },
      certificateVerified(result, cached) {
        verifications.inc({ result, cache: cached ? 'hit' : 'miss' });
      },
      leadershipChanged(event, reason) {
        transitions.inc(transitionLabels(event, reason));
      },
    },
    replay(tally) {
      for (const request of tally.requests.values()) {
        const labels = { operation: request.operation, outcome: request.outcome };
        requests.inc(
          labels,
          request.bucketCounts.reduce((a, b) => a + b, 0),
        );
        // prom-client takes observations one by one (bounded by what happened before the first scrape).
        for (const [bucket, count] of request.bucketCounts.entries()) {
          const value = count > 0 ? tally.replayValue(request, bucket) : 0;
          for (let n = 0; n < count; n++) latency.observe(labels, value);
        }
      }
      for (const { result, cached, count } of tally.verifications.values()) {
        verifications.inc({ result, cache: cached ? 'hit' : 'miss' }, count);
      }
      for (const { event, reason, count } of tally.transitions.values()) {
        transitions.inc(transitionLabels(event, reason), count);
      }
    },
  };
}
