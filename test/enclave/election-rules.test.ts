// The pure election decisions, without HTTP, keys or disks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidatesWithout, decideElect, leaseIsLive, nextEpoch } from '../../src/enclave/election.ts';
import type { EpochState, LeaseRecord } from '../../src/enclave/state-store.ts';

const key = 'A'.repeat(43);
const members = ['a', 'b', 'c'].map((name) => ({ name, key }));
const lease = (overrides: Partial<LeaseRecord> = {}): LeaseRecord => ({
  epoch: 4,
  seq: 0,
  leader: { name: 'b', key },
  leaseEnd: 2000,
  ended: false,
  token: 't',
  kid: 'k1',
  ...overrides,
});
const state = (current: LeaseRecord | null, epoch = 4): EpochState => ({
  clusterId: 'c',
  epoch,
  generation: 1,
  lease: current,
});
const request = { known_epoch: 0 };

describe('election decisions', () => {
  it('a lease is live strictly before its end and unless resigned', () => {
    assert.equal(leaseIsLive(lease(), 1999), true);
    assert.equal(leaseIsLive(lease(), 2000), false);
    assert.equal(leaseIsLive(lease({ ended: true }), 10), false);
    assert.equal(leaseIsLive(null, 0), false);
  });

  it('answers a live lease, waits when the budget covers its end, and refuses to re-serve an inherited one', () => {
    const table: [LeaseRecord, number, number, string][] = [
      [lease(), 1000, 1000, 'current'],
      [lease(), 1000, 1999, 'current'],
      [lease(), 1000, 2000, 'wait'],
      [lease({ kid: 'old' }), 1000, 1000, 'inherited'],
      [lease({ kid: 'old' }), 1000, 2500, 'wait'],
      [lease(), 2000, 2000, 'elect'],
      [lease({ ended: true }), 1000, 1000, 'elect'],
    ];
    for (const [current, now, deadline, kind] of table) {
      assert.equal(
        decideElect(state(current), request, now, deadline, 'k1').kind,
        kind,
        JSON.stringify({ now, deadline }),
      );
    }
  });

  it('a new epoch excludes the previous leader and rises above any known epoch', () => {
    const decision = decideElect(state(lease(), 4), { known_epoch: 9 }, 5000, 5000, 'k1');
    assert.deepEqual(decision, { kind: 'elect', epoch: 10, previousLeader: 'b' });
    assert.deepEqual(
      candidatesWithout(members, 'b'),
      members.filter((m) => m.name !== 'b'),
    );
    assert.equal(nextEpoch(state(null, 0), 0), 1);
    assert.equal(nextEpoch(state(null, 7), 3), 8);
  });

  it('keeps the previous leader when it is the only candidate', () => {
    assert.deepEqual(candidatesWithout([members[1]!], 'b'), [members[1]]);
    assert.deepEqual(candidatesWithout(members, null), members);
  });
});
