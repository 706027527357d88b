import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countFalsePositives, failoverFigures, measuredLoss } from '../../bench/support/netfault-figures.ts';
import type { HistoryEvent } from '../../src/chaos/history.ts';

const at = (t: number, peer: string, event: string, member?: string): HistoryEvent => ({
  t,
  peer,
  event,
  ...(member === undefined ? {} : { member }),
});

describe('false positives under loss', () => {
  const alive = ['peer-1', 'peer-2', 'peer-3'];
  const window = { from: 1_000, to: 121_000 }; // two minutes

  it('counts suspicions and dead marks about live peers inside the window, per peer-minute', () => {
    const log = [
      at(500, 'peer-1', 'member.suspect', 'peer-2'), // before the window
      at(2_000, 'peer-1', 'member.suspect', 'peer-2'),
      at(3_000, 'peer-3', 'member.suspect', 'peer-2'),
      at(4_000, 'peer-3', 'member.dead', 'peer-2'),
      at(5_000, 'peer-2', 'member.alive', 'peer-2'), // not a declaration
      at(130_000, 'peer-1', 'member.dead', 'peer-3'), // after the window
    ];
    const fp = countFalsePositives(log, window, alive);
    assert.equal(fp.suspicions, 2);
    assert.equal(fp.deaths, 1);
    assert.equal(fp.peerMinutes, 6);
    assert.equal(fp.suspicionsPerPeerMinute, 2 / 6);
    assert.equal(fp.deathsPerPeerMinute, 1 / 6);
    assert.deepEqual(fp.aboutUnknown, 0);
  });

  it('does not count declarations about members outside the live set, but reports them', () => {
    const log = [at(2_000, 'peer-1', 'member.dead', 'peer-9'), at(2_500, 'peer-1', 'member.suspect')];
    const fp = countFalsePositives(log, window, alive);
    assert.equal(fp.deaths, 0);
    assert.equal(fp.suspicions, 0);
    assert.equal(fp.aboutUnknown, 2);
  });

  it('reports zero for a quiet log', () => {
    const fp = countFalsePositives([], window, alive);
    assert.deepEqual([fp.suspicions, fp.deaths, fp.deathsPerPeerMinute], [0, 0, 0]);
  });

  it('refuses an empty window or no live peers', () => {
    assert.throws(() => countFalsePositives([], { from: 5, to: 5 }, alive), /window/);
    assert.throws(() => countFalsePositives([], window, []), /live peer/);
  });
});

describe('measured loss', () => {
  it('is the share of sent gossip datagrams nobody received, over every peer', () => {
    const before = [
      { datagramsIn: 10, datagramsOut: 10 },
      { datagramsIn: 0, datagramsOut: 0 },
    ];
    const after = [
      { datagramsIn: 505, datagramsOut: 510 },
      { datagramsIn: 485, datagramsOut: 500 },
    ];
    // 1000 sent, 980 received in the window.
    assert.equal(measuredLoss(before, after), 0.02);
  });

  it('is null when nothing was sent', () => {
    const zero = [{ datagramsIn: 0, datagramsOut: 0 }];
    assert.equal(measuredLoss(zero, zero), null);
  });
});

describe('failover under delay', () => {
  it('takes nearest-rank p50 and p99 and compares p50 with lease + 1 s', () => {
    const f = failoverFigures([2900, 2100, 3500, 2400, 2600], 2000);
    assert.equal(f.p50Ms, 2600);
    assert.equal(f.p99Ms, 3500);
    assert.equal(f.samples, 5);
    assert.equal(f.targetP50Ms, 3000);
    assert.equal(f.p50WithinTarget, true);
  });

  it('fails the target when the median is above lease + 1 s', () => {
    const f = failoverFigures([3100, 3200, 2000], 2000);
    assert.equal(f.p50WithinTarget, false);
  });

  it('has no verdict without samples', () => {
    const f = failoverFigures([], 2000);
    assert.equal(f.p50Ms, null);
    assert.equal(f.p50WithinTarget, null);
  });
});
