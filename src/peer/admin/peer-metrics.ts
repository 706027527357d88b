// A peer's Prometheus metrics: what the peer reports through the small
// PeerMetricsRecorder interface below, and what the gauges read when scraped.
// prom-client (peer-exposition.ts) is loaded at the first scrape, not before:
// it costs about 7 MB of RSS, and many peers are never scraped. Until then a
// plain tally counts, and is replayed into prom-client when it loads. The
// admin server serves `render()`; nothing else in the peer knows prom-client.
import { MetricsTally } from './metrics-tally.ts';
import type { PeerExposition } from './peer-exposition.ts';
import type { PeerMetricsRecorder, PeerMetricsSources } from './peer-metrics-types.ts';

export type { LeadershipSample, PeerMetricsRecorder, PeerMetricsSources } from './peer-metrics-types.ts';

/** Request latencies from a fast loopback answer to an elect the enclave held for a lease. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** prom-client's Registry.PROMETHEUS_CONTENT_TYPE, known before prom-client is loaded. */
const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface PeerMetricsOptions {
  /** prom-client's default process and event-loop metrics (default true). */
  defaultMetrics?: boolean;
  /** How the prom-client side is loaded; tests count the calls. */
  load?: () => Promise<typeof import('./peer-exposition.ts')>;
}

export class PeerMetrics implements PeerMetricsRecorder {
  readonly #sources: PeerMetricsSources;
  readonly #options: PeerMetricsOptions;
  readonly #tally = new MetricsTally(LATENCY_BUCKETS);
  /** The tally until prom-client is loaded, then prom-client's own metrics. */
  #recorder: PeerMetricsRecorder = this.#tally;
  #exposition: Promise<PeerExposition> | undefined;

  constructor(sources: PeerMetricsSources, options: PeerMetricsOptions = {}) {
    this.#sources = sources;
    this.#options = options;
  }

  enclaveRequest(operation: string, outcome: string, seconds: number): void {
    this.#recorder.enclaveRequest(operation, outcome, seconds);
  }

  certificateVerified(result: 'valid' | 'invalid' | 'unknown_kid', cached: boolean): void {
    this.#recorder.certificateVerified(result, cached);
  }

  leadershipChanged(event: 'acquired' | 'released', reason?: string): void {
    this.#recorder.leadershipChanged(event, reason);
  }

  get contentType(): string {
    return PROMETHEUS_CONTENT_TYPE;
  }

  async render(): Promise<string> {
    this.#exposition ??= this.#loadExposition().catch((error: unknown) => {
      // Let the next scrape try again; the tally keeps counting meanwhile.
      this.#exposition = undefined;
      throw error;
    });
    return (await this.#exposition).registry.metrics();
  }

  async #loadExposition(): Promise<PeerExposition> {
    const load = this.#options.load ?? (() => import('./peer-exposition.ts'));
    const { createPeerExposition } = await load();
    const exposition = createPeerExposition(this.#sources, {
      defaultMetrics: this.#options.defaultMetrics !== false,
      latencyBuckets: LATENCY_BUCKETS,
    });
    // Replay and switch in one synchronous step: no event falls between them.
    exposition.replay(this.#tally);
    this.#recorder = exposition.recorder;
    return exposition;
  }
}
