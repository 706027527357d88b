// A peer's /metrics through prom-client: leadership, enclave requests and
// verifications, drops by reason, default process and event-loop metrics; and
// the exposition passes `promtool check metrics` (Debian's prometheus package).
// prom-client loads at the first scrape, and what happened before it counts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type LeadershipSample,
  PeerMetrics,
  type PeerMetricsOptions,
} from '../../../src/peer/admin/peer-metrics.ts';
import { TrafficCounters } from '../../../src/peer/traffic-counters.ts';

const NOW = 1_800_000_000_000;

function makeMetrics(leadership: LeadershipSample | null, options: PeerMetricsOptions = {}) {
  const counters = new TrafficCounters();
  counters.datagramsIn = 12;
  counters.drop('bad-mac');
  counters.drop('bad-mac');
  counters.drop('too-large');
  const metrics = new PeerMetrics(
    {
      counters,
      memberStates: () => ['alive', 'alive', 'suspect'],
      incarnation: () => 42,
      awarenessScore: () => 0,
      ready: () => true,
      leadership: () => leadership,
      now: () => NOW,
    },
    options,
  );
  return { metrics, counters };
}

/** The value of one sample line, by its exact name and labels. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('peer metrics', () => {
  it('report leadership: is_leader, epoch, lease remaining and transitions with reason', async () => {
    const { metrics } = makeMetrics({ isLeader: true, epoch: 7, leaseEndsAt: NOW + 1500 });
    metrics.leadershipChanged('acquired');
    metrics.leadershipChanged('released', 'expired');
    metrics.leadershipChanged('acquired');
    const text = await metrics.render();
    assert.equal(sample(text, 'enclave_elect_is_leader'), 1);
    assert.equal(sample(text, 'enclave_elect_epoch'), 7);
    assert.equal(sample(text, 'enclave_elect_lease_remaining_seconds'), 1.5);
    assert.equal(sample(text, 'enclave_elect_leader_transitions_total{event="acquired"}'), 2);
    assert.equal(
      sample(text, 'enclave_elect_leader_transitions_total{event="released",reason="expired"}'),
      1,
    );
  });

  it('report a follower, or no election, as not leader with no lease', async () => {
    const follower = await makeMetrics({ isLeader: false, epoch: 3, leaseEndsAt: NOW - 10 }).metrics.render();
    assert.equal(sample(follower, 'enclave_elect_is_leader'), 0);
    assert.equal(
      sample(follower, 'enclave_elect_lease_remaining_seconds'),
      0,
      'an ended lease is 0, not negative',
    );
    const alone = await makeMetrics(null).metrics.render();
    assert.equal(sample(alone, 'enclave_elect_epoch'), 0);
  });

  it('count enclave requests by operation and outcome, with a latency histogram', async () => {
    const { metrics } = makeMetrics(null);
    metrics.enclaveRequest('renew', 'ok', 0.004);
    metrics.enclaveRequest('renew', 'ok', 0.03);
    metrics.enclaveRequest('elect', 'timeout', 1.2);
    const text = await metrics.render();
    assert.equal(sample(text, 'enclave_elect_enclave_requests_total{operation="renew",outcome="ok"}'), 2);
    assert.equal(
      sample(text, 'enclave_elect_enclave_requests_total{operation="elect",outcome="timeout"}'),
      1,
    );
    const bucket = 'enclave_elect_enclave_request_duration_seconds_bucket';
    assert.equal(sample(text, `${bucket}{le="0.005",operation="renew",outcome="ok"}`), 1);
    assert.equal(sample(text, `${bucket}{le="0.05",operation="renew",outcome="ok"}`), 2);
    assert.equal(sample(text, `${bucket}{le="1",operation="elect",outcome="timeout"}`), 0);
    assert.equal(sample(text, `${bucket}{le="2.5",operation="elect",outcome="timeout"}`), 1);
  });

  it('count certificate verifications by result and cache, and datagram drops by reason', async () => {
    const { metrics, counters } = makeMetrics(null);
    metrics.certificateVerified('valid', false);
    metrics.certificateVerified('valid', true);
    metrics.certificateVerified('valid', true);
    metrics.certificateVerified('unknown_kid', false);
    let text = await metrics.render();
    const verifications = 'enclave_elect_certificate_verifications_total';
    assert.equal(sample(text, `${verifications}{result="valid",cache="hit"}`), 2);
    assert.equal(sample(text, `${verifications}{result="unknown_kid",cache="miss"}`), 1);
    assert.equal(sample(text, 'enclave_elect_gossip_datagrams_dropped_total{reason="bad-mac"}'), 2);
    counters.drop('bad-mac');
    text = await metrics.render();
    assert.equal(
      sample(text, 'enclave_elect_gossip_datagrams_dropped_total{reason="bad-mac"}'),
      3,
      'read when scraped',
    );
    assert.equal(sample(text, 'enclave_elect_gossip_datagrams_received_total'), 12);
    assert.equal(sample(text, 'enclave_elect_members{state="suspect"}'), 1);
  });

  it('include the default process and event-loop metrics', async () => {
    const text = await makeMetrics(null).metrics.render();
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      assert.match(text, new RegExp(`^${name} `, 'm'), name);
    }
  });

  it('pass promtool check metrics', async () => {
    const { metrics } = makeMetrics({ isLeader: true, epoch: 2, leaseEndsAt: NOW + 900 });
    metrics.enclaveRequest('attest', 'ok', 0.02);
    metrics.certificateVerified('invalid', false);
    metrics.leadershipChanged('released', 'superseded');
    const result = spawnSync('promtool', ['check', 'metrics'], {
      input: await metrics.render(),
      encoding: 'utf8',
    });
    assert.ifError(result.error); // ENOENT: install Debian's prometheus package (scripts/provision-ci.sh does)
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  });

  describe('loading prom-client', () => {
    const counting = () => {
      const calls = { n: 0 };
      const load = () => {
        calls.n++;
        return import('../../../src/peer/admin/peer-exposition.ts');
      };
      return { calls, load };
    };

    it('loads it at the first scrape only, and counts what happened before', async () => {
      const { calls, load } = counting();
      const { metrics } = makeMetrics(null, { load });
      metrics.enclaveRequest('renew', 'ok', 0.004);
      metrics.certificateVerified('valid', true);
      metrics.leadershipChanged('acquired');
      assert.equal(calls.n, 0, 'not loaded before a scrape');
      let text = await metrics.render();
      assert.equal(calls.n, 1);
      assert.equal(sample(text, 'enclave_elect_enclave_requests_total{operation="renew",outcome="ok"}'), 1);
      assert.equal(
        sample(text, 'enclave_elect_certificate_verifications_total{result="valid",cache="hit"}'),
        1,
      );
      assert.equal(sample(text, 'enclave_elect_leader_transitions_total{event="acquired"}'), 1);
      metrics.enclaveRequest('renew', 'ok', 0.2);
      metrics.leadershipChanged('released', 'resigned');
      text = await metrics.render();
      assert.equal(calls.n, 1, 'loaded once');
      assert.equal(sample(text, 'enclave_elect_enclave_requests_total{operation="renew",outcome="ok"}'), 2);
      assert.equal(
        sample(text, 'enclave_elect_leader_transitions_total{event="released",reason="resigned"}'),
        1,
      );
    });

    it('gives the same histogram for latencies recorded before the first scrape as after it', async () => {
      // Bounds themselves, values just inside them and sums that do not round evenly.
      const latencies = [0.005, 0.005, 0.005, 0.1 + 0.2, 0.3, 0.0049, 0.01, 0.07, 0.09, 4.9, 12];
      const early = makeMetrics(null, { defaultMetrics: false }).metrics;
      for (const s of latencies) early.enclaveRequest('elect', 'ok', s);
      const late = makeMetrics(null, { defaultMetrics: false }).metrics;
      await late.render();
      for (const s of latencies) late.enclaveRequest('elect', 'ok', s);
      const histogram = (text: string) =>
        text
          .split('\n')
          .filter((l) => l.startsWith('enclave_elect_enclave_request_duration_seconds_'))
          .map((l) => {
            const at = l.lastIndexOf(' ');
            return [l.slice(0, at), Number(l.slice(at + 1))] as const;
          });
      const expected = histogram(await late.render());
      const actual = histogram(await early.render());
      assert.equal(actual.length, expected.length);
      for (const [i, [series, value]] of expected.entries()) {
        assert.equal(actual[i]![0], series);
        if (series.includes('_sum')) assert.ok(Math.abs(actual[i]![1] - value) < 1e-12, `${series}`);
        else assert.equal(actual[i]![1], value, series);
      }
    });

    it('tries again at the next scrape when loading fails, losing nothing', async () => {
      let fail = true;
      const load = async () => {
        if (fail) throw new Error('cannot load');
        return import('../../../src/peer/admin/peer-exposition.ts');
      };
      const { metrics } = makeMetrics(null, { load, defaultMetrics: false });
      metrics.certificateVerified('invalid', false);
      await assert.rejects(metrics.render(), /cannot load/);
      metrics.certificateVerified('invalid', false);
      fail = false;
      const text = await metrics.render();
      assert.equal(
        sample(text, 'enclave_elect_certificate_verifications_total{result="invalid",cache="miss"}'),
        2,
      );
    });

    it('is not loaded by a peer process that records but is not scraped', () => {
      const metricsModule = fileURLToPath(
        new URL('../../../src/peer/admin/peer-metrics.ts', import.meta.url),
      );
      const script = `
        import { createRequire } from 'node:module';
        const { PeerMetrics } = await import(${JSON.stringify(metricsModule)});
        const metrics = new PeerMetrics({});
        metrics.enclaveRequest('attest', 'ok', 0.01);
        metrics.certificateVerified('valid', false);
        metrics.leadershipChanged('acquired');
        const cache = createRequire(${JSON.stringify(metricsModule)}).cache;
        process.stdout.write(String(Object.keys(cache).some((path) => path.includes('/prom-client/'))));
      `;
      const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, 'false', 'prom-client is in the module cache');
    });
  });
});
