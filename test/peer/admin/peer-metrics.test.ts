// A peer's /metrics through prom-client: leadership, enclave requests and
// verifications, drops by reason, default process and event-loop metrics; and
// the exposition passes `promtool check metrics` (Debian's prometheus package).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { type LeadershipSample, PeerMetrics } from '../../../src/peer/admin/peer-metrics.ts';
import { TrafficCounters } from '../../../src/peer/traffic-counters.ts';

const NOW = 1_800_000_000_000;

function makeMetrics(leadership: LeadershipSample | null) {
  const counters = new TrafficCounters();
  counters.datagramsIn = 12;
  counters.drop('bad-mac');
  counters.drop('bad-mac');
  counters.drop('too-large');
  const metrics = new PeerMetrics({
    counters,
    memberStates: () => ['alive', 'alive', 'suspect'],
    incarnation: () => 42,
    awarenessScore: () => 0,
    ready: () => true,
    leadership: () => leadership,
    now: () => NOW,
  });
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
});
