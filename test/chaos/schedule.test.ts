import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAULT_KINDS, generateSchedule, parseFaultKinds } from '../../src/chaos/schedule.ts';

const PEERS = ['peer-1', 'peer-2', 'peer-3', 'peer-4', 'peer-5'];
const base = { seed: 's1', durationMs: 600_000, intervalMs: 5000, faults: FAULT_KINDS, peers: PEERS };

describe('fault schedule', () => {
  it('is the same for the same seed and different for another', () => {
    assert.deepEqual(generateSchedule(base), generateSchedule({ ...base }));
    assert.notDeepEqual(generateSchedule(base), generateSchedule({ ...base, seed: 's2' }));
  });

  it('uses every chosen kind within the first faults, and only chosen kinds', () => {
    const all = generateSchedule(base);
    assert.deepEqual(new Set(all.slice(0, FAULT_KINDS.length).map((f) => f.kind)), new Set(FAULT_KINDS));
    const some = generateSchedule({ ...base, faults: ['kill', 'pause'] });
    assert.ok(some.every((f) => f.kind === 'kill' || f.kind === 'pause'));
  });

  it('spaces faults by the mean interval, capped at four means', () => {
    const gaps = generateSchedule({ ...base, durationMs: 3_600_000 }).map((f) => f.gapMs);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    assert.ok(mean > 4000 && mean < 6000, `mean gap ${mean}`);
    assert.ok(gaps.every((g) => g >= 0 && g <= 20_000));
  });

  it('fills the duration: more faults for a longer run', () => {
    const short = generateSchedule({ ...base, durationMs: 60_000 }).length;
    const long = generateSchedule({ ...base, durationMs: 600_000 }).length;
    assert.ok(short >= 1 && long > 5 * short, `${short} vs ${long}`);
  });

  it('aims peer faults at the leader or a known peer, and the enclave restart at the enclave', () => {
    for (const f of generateSchedule(base)) {
      if (f.kind === 'enclave-restart') assert.equal(f.target, 'enclave');
      else assert.ok(f.target === 'leader' || PEERS.includes(f.target), f.target);
      if (f.kind === 'restart' || f.kind === 'enclave-restart') assert.equal(f.holdMs, 0);
      else assert.ok(f.holdMs >= 1000, `${f.kind} held ${f.holdMs}`);
    }
  });

  it('cuts off a minority in a partition, so the rest keep a majority', () => {
    const partitions = generateSchedule({ ...base, faults: ['partition'] });
    assert.ok(partitions.length > 10);
    for (const f of partitions) {
      const cut = new Set([f.target, ...(f.with ?? [])]);
      assert.ok(cut.size * 2 < PEERS.length, `cut ${[...cut]}`);
      assert.ok(!f.with?.includes(f.target));
      assert.ok(f.enclaveSide === 'rest' || f.enclaveSide === 'isolated');
    }
    assert.ok(partitions.some((f) => f.enclaveSide === 'isolated'));
  });

  it('parses --faults and names the unknown kind', () => {
    assert.deepEqual(parseFaultKinds('kill, pause,kill'), ['kill', 'pause']);
    assert.throws(() => parseFaultKinds('kill,explode'), /unknown explode/);
    assert.throws(() => parseFaultKinds(''), /none given/);
  });
});
