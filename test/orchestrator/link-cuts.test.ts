import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterContainer } from '../../src/orchestrator/cluster-inventory.ts';
import {
  bridgePlan,
  hears,
  type LinkCutPlan,
  oneWayPlan,
  ringPlan,
  ringReach,
} from '../../src/orchestrator/link-cuts.ts';

function peers(n: number): ClusterContainer[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `id-${i + 1}`,
    container: `c-peer-${i + 1}`,
    role: 'peer' as const,
    name: `peer-${i + 1}`,
    state: 'running',
    statusText: 'Up',
    labels: {},
    networks: ['main'],
    addresses: { main: `10.0.0.${i + 2}` },
  }));
}

/** Who each peer hears (itself included), as names. */
function heard(plan: LinkCutPlan, all: ClusterContainer[]): Record<string, string[]> {
  return Object.fromEntries(
    all.map((listener) => [listener.name, all.filter((s) => hears(plan, listener, s)).map((s) => s.name)]),
  );
}

describe('one-way cuts', () => {
  it('stops TO hearing FROM while FROM still hears TO', () => {
    const [a, b, c] = peers(3) as [ClusterContainer, ClusterContainer, ClusterContainer];
    const plan = oneWayPlan([a], [b, c]);
    assert.equal(hears(plan, b, a), false);
    assert.equal(hears(plan, c, a), false);
    assert.equal(hears(plan, a, b), true);
    assert.equal(hears(plan, a, c), true);
    assert.equal(hears(plan, b, c), true);
    assert.equal(plan.summary, 'peer-1 -> peer-2,peer-3 cut (the other way open)');
  });

  it('refuses overlapping or empty groups', () => {
    const [a, b] = peers(2) as [ClusterContainer, ClusterContainer];
    assert.throws(() => oneWayPlan([a], [a, b]), { code: 'E_USAGE', message: /peer-1 in both/ });
    assert.throws(() => oneWayPlan([], [b]), { code: 'E_USAGE', message: /two disjoint non-empty groups/ });
  });
});

describe('majorities ring', () => {
  it('lets each of 5 peers hear a majority (its two neighbours), and no two the same majority', () => {
    const all = peers(5);
    const who = heard(ringPlan(all), all);
    assert.deepEqual(who, {
      'peer-1': ['peer-1', 'peer-2', 'peer-5'],
      'peer-2': ['peer-1', 'peer-2', 'peer-3'],
      'peer-3': ['peer-2', 'peer-3', 'peer-4'],
      'peer-4': ['peer-3', 'peer-4', 'peer-5'],
      'peer-5': ['peer-1', 'peer-4', 'peer-5'],
    });
  });

  for (const n of [4, 5, 6, 7, 9, 10]) {
    it(`gives every one of ${n} peers a majority, all different, and cuts are symmetric`, () => {
      const all = peers(n);
      const plan = ringPlan(all);
      const sets = Object.values(heard(plan, all)).map((names) => names.join(','));
      for (const set of sets) assert.ok(set.split(',').length > n / 2, `${set} is a majority of ${n}`);
      assert.equal(new Set(sets).size, n, 'no two peers hear the same majority');
      for (const x of all) for (const y of all) assert.equal(hears(plan, x, y), hears(plan, y, x));
    });
  }

  it('needs at least 4 peers', () => {
    assert.throws(() => ringPlan(peers(3)), { code: 'E_USAGE', message: /at least 4 peers/ });
    assert.deepEqual([4, 5, 6, 7, 9].map(ringReach), [1, 1, 2, 2, 2]);
  });
});

describe('bridge', () => {
  it('joins two halves only through the bridge peer', () => {
    const all = peers(5);
    const plan = bridgePlan(all, all[2]!);
    assert.deepEqual(heard(plan, all), {
      'peer-1': ['peer-1', 'peer-2', 'peer-3'],
      'peer-2': ['peer-1', 'peer-2', 'peer-3'],
      'peer-3': ['peer-1', 'peer-2', 'peer-3', 'peer-4', 'peer-5'],
      'peer-4': ['peer-3', 'peer-4', 'peer-5'],
      'peer-5': ['peer-3', 'peer-4', 'peer-5'],
    });
    assert.equal(plan.summary, 'peer-1,peer-2 | peer-3 | peer-4,peer-5');
  });

  it('needs the bridge to be one of the peers and two others', () => {
    const all = peers(2);
    assert.throws(() => bridgePlan(all, all[0]!), { code: 'E_USAGE', message: /at least 2 others/ });
  });
});
