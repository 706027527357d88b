// Upkeep that runs on timers rather than on input: dead members leave the
// table after their retention, and admissions about to lapse are asked for
// again. Both used to walk the whole table on a fixed beat (every second,
// every 5 s); now each walks only when something is due, and these tests pin
// down that nothing due is missed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PEER_DEFAULTS } from '../../../src/peer/config.ts';
import { address, peer } from '../support/admitted-peer.ts';

describe('table upkeep', () => {
  it('asks a member for its renewed admission once the old one is in its last third, and not before', () => {
    // m1's admission lapses at 15 s (last third from 10 s); m2's and m3's in an hour.
    const { run } = peer([15_000, 3_600_000, 3_600_000], 301);
    const asked = run(0, 14_000).filter((s) => s.message.type === 'admission-request');
    const names = asked.flatMap((s) => (s.message.type === 'admission-request' ? s.message.names : []));
    assert.ok(names.includes('m1'), 'm1 asked for its renewal');
    const first = asked.find((s) => s.message.type === 'admission-request')!;
    assert.ok(first.at >= 10_000 && first.at <= 10_500, `asked at ${first.at} ms, when due (10 s)`);
    assert.deepEqual([...new Set(names)], ['m1'], 'the others are not due');
  });

  it('removes dead members after their retention, also one that died after the first was due', () => {
    const { core, run } = peer([3_600_000, 3_600_000, 3_600_000], 302);
    const retention = PEER_DEFAULTS.deadRetentionMs;
    run(0, 1_000);
    core.receive(address(2), [{ type: 'dead', name: 'm1', incarnation: 1, from: 'm2' }], 1_000);
    run(1_000, 21_000);
    core.receive(address(2), [{ type: 'dead', name: 'm3', incarnation: 1, from: 'm2' }], 21_000);
    run(21_000, retention + 1_000);
    assert.equal(core.member('m1')?.state, 'dead', 'kept for its retention');
    run(retention + 1_000, retention + 3_000);
    assert.equal(core.member('m1'), undefined, 'm1 reaped');
    assert.equal(core.member('m3')?.state, 'dead', 'm3 is not due yet');
    run(retention + 3_000, retention + 23_000);
    assert.equal(core.member('m3'), undefined, 'm3 reaped');
    assert.equal(core.member('m2')?.state, 'alive');
    // Each removal moved the last row into the hole: the list holds exactly the rest.
    assert.deepEqual(
      core
        .members()
        .map((m) => m.name)
        .sort(),
      [core.name, 'm2'].sort(),
    );
  });
});
