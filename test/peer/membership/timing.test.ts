import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Awareness } from '../../../src/peer/membership/awareness.ts';
import { Suspicion } from '../../../src/peer/membership/suspicion.ts';
import {
  pullIntervalMs,
  pushPullIntervalMs,
  remainingSuspicionTime,
  retransmitLimit,
  suspicionTiming,
} from '../../../src/peer/membership/timing.ts';

describe('remainingSuspicionTime (memberlist table)', () => {
  const cases: [n: number, k: number, elapsed: number, min: number, max: number, expected: number][] = [
    [0, 3, 0, 2000, 30_000, 30_000],
    [1, 3, 2000, 2000, 30_000, 14_000],
    [2, 3, 3000, 2000, 30_000, 4810],
    [3, 3, 4000, 2000, 30_000, -2000],
    [4, 3, 5000, 2000, 30_000, -3000],
    [5, 3, 10_000, 2000, 30_000, -8000],
  ];
  for (const [n, k, elapsed, min, max, expected] of cases) {
    it(`${n} of ${k} confirmations after ${elapsed} ms leaves ${expected} ms`, () => {
      assert.equal(remainingSuspicionTime(n, k, elapsed, min, max), expected);
    });
  }

  it('uses the minimum when no confirmations are expected', () => {
    assert.equal(remainingSuspicionTime(0, 0, 500, 2000, 30_000), 1500);
  });
});

describe('suspicion timing', () => {
  const settings = { suspicionMult: 4, suspicionMaxMult: 6, gossipIntervalMs: 200 };

  it('keeps the confirmed minimum flat and grows the unconfirmed maximum with log10(n)', () => {
    assert.deepEqual(suspicionTiming(1, settings), { minMs: 800, maxMs: 4800, expectedConfirmations: 0 });
    assert.deepEqual(suspicionTiming(5, settings), { minMs: 800, maxMs: 4800, expectedConfirmations: 2 });
    assert.deepEqual(suspicionTiming(100, settings), { minMs: 800, maxMs: 9600, expectedConfirmations: 2 });
    assert.equal(suspicionTiming(1000, settings).maxMs, 14_400);
  });

  it('expects no confirmations when too few others could give them', () => {
    assert.equal(suspicionTiming(3, settings).expectedConfirmations, 0);
    assert.equal(suspicionTiming(4, settings).expectedConfirmations, 2);
  });

  it('shrinks a suspicion with each independent confirmation, ignoring repeats', () => {
    const s = new Suspicion('peer-1', 10_000, { minMs: 1000, maxMs: 6000, expectedConfirmations: 2 });
    assert.equal(s.deadline(), 16_000);
    assert.equal(s.confirm('peer-1'), false, 'the first suspector is not a confirmation');
    assert.equal(s.confirm('peer-2'), true);
    assert.equal(s.confirm('peer-2'), false);
    assert.equal(s.deadline(), 10_000 + Math.floor(6000 - (Math.log(2) / Math.log(3)) * 5000));
    assert.equal(s.confirm('peer-3'), true);
    assert.equal(s.deadline(), 11_000);
    assert.equal(s.confirm('peer-4'), false, 'no news beyond the expected confirmations');
  });
});

describe('retransmit limit and anti-entropy interval', () => {
  it('is mult x ceil(log10(n+1))', () => {
    assert.equal(retransmitLimit(4, 1), 4);
    assert.equal(retransmitLimit(4, 9), 4);
    assert.equal(retransmitLimit(4, 10), 8);
    assert.equal(retransmitLimit(4, 1000), 16);
  });

  it('keeps push-pull bytes per peer flat above 32 members', () => {
    assert.equal(pushPullIntervalMs(10_000, 5), 10_000);
    assert.equal(pushPullIntervalMs(10_000, 32), 10_000);
    assert.equal(pushPullIntervalMs(10_000, 64), 20_000);
    assert.equal(pushPullIntervalMs(10_000, 1000) / 1000, pushPullIntervalMs(10_000, 500) / 500);
  });

  it('keeps periodic pull bytes per peer flat above 256 members', () => {
    assert.equal(pullIntervalMs(10_000, 256), 10_000);
    assert.equal(pullIntervalMs(10_000, 1000), 39_063);
    // 4 bytes per member per pull: bytes per second the same at 500 and 1000 members.
    assert.equal(
      Math.round((4 * 1000) / pullIntervalMs(10_000, 1000)),
      Math.round((4 * 500) / pullIntervalMs(10_000, 500)),
    );
  });
});

describe('awareness', () => {
  it('stays within 0..max-1', () => {
    const a = new Awareness(8);
    a.apply(-3);
    assert.equal(a.score, 0);
    a.apply(20);
    assert.equal(a.score, 7);
    a.apply(-1);
    assert.equal(a.score, 6);
  });
});
