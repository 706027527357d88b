import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failoverStats, failovers, percentile } from '../../src/chaos/failover.ts';
import type { FaultRecord, History, HistoryEvent } from '../../src/chaos/history.ts';

const T0 = 1_800_000_000_000;
const accepted = (peer: string, t: number, epoch: number, leader: string): HistoryEvent => ({
  t: T0 + t,
  peer,
  event: 'certificate.accepted',
  epoch,
  leader,
});
const fault = (extra: Partial<FaultRecord>): FaultRecord => ({
  kind: 'kill',
  target: 'a',
  start: T0,
  heal: T0 + 3000,
  endsProcess: true,
  leaderAtStart: 'a',
  epochAtStart: 4,
  survivors: ['b', 'c'],
  ...extra,
});
const history = (faults: FaultRecord[], events: HistoryEvent[]): History => ({
  leaseMs: 2000,
  startedAt: T0 - 1000,
  endedAt: T0 + 60_000,
  events,
  faults,
  observations: [],
});

describe('failover times', () => {
  it('counts from the fault until the last survivor accepts a newer epoch', () => {
    const list = failovers(
      history(
        [fault({})],
        [accepted('b', 2100, 5, 'c'), accepted('c', 2300, 5, 'c'), accepted('c', 9000, 6, 'b')],
      ),
    );
    assert.deepEqual(
      list.map((f) => [f.from, f.to, f.tookMs]),
      [['a', 'c', 2300]],
    );
  });

  it('ignores faults that did not hit the leader, and enclave restarts', () => {
    const list = failovers(
      history(
        [fault({ target: 'b' }), fault({ kind: 'enclave-restart', target: 'enclave', endsProcess: false })],
        [accepted('b', 100, 5, 'c'), accepted('c', 100, 5, 'c')],
      ),
    );
    assert.deepEqual(list, []);
  });

  it('counts a partition that cut the leader off with others', () => {
    const list = failovers(
      history(
        [fault({ kind: 'partition', target: 'b', peers: ['b', 'a'], survivors: ['c', 'd', 'e'] })],
        [accepted('c', 2500, 5, 'd'), accepted('d', 2600, 5, 'd'), accepted('e', 2550, 5, 'd')],
      ),
    );
    assert.equal(list[0]?.tookMs, 2600);
  });

  it('counts no failover when the leader kept its lease and a later fault changed the epoch', () => {
    const later = fault({ kind: 'stop', start: T0 + 12_000, heal: T0 + 15_000, epochAtStart: 4 });
    const list = failovers(
      history(
        [fault({ kind: 'pause', endsProcess: false }), later],
        [accepted('b', 12_100, 5, 'c'), accepted('c', 12_200, 5, 'c')],
      ),
    );
    assert.deepEqual(
      list.map((f) => [f.fault, f.tookMs]),
      [[2, 200]],
    );
  });

  it('reports an incomplete failover as null (a survivor never moved on)', () => {
    const list = failovers(history([fault({})], [accepted('b', 2100, 5, 'c')]));
    assert.equal(list[0]?.tookMs, null);
    assert.deepEqual(failoverStats(list), { count: 0, incomplete: 1, p50Ms: null, p99Ms: null, maxMs: null });
  });

  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(values, 50), 50);
    assert.equal(percentile(values, 99), 99);
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile([], 50), null);
  });
});
