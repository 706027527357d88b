// A starved prober (local health stretching its timeouts 4-fold or more, 32
// or more live members) probes a member once more before suspecting it: its
// own slowness fails probes more often than the target's death, and each
// suspicion costs every peer a rumour and the target a refutation every peer
// must hear. A prober in good health suspects at the first failed probe.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { membershipConfig, PEER_DEFAULTS } from '../../../src/peer/config.ts';
import { Membership } from '../../../src/peer/membership/membership.ts';
import { seededRandom } from '../../../src/random/seeded-random.ts';
import { openAddress as address, openRecord as record } from '../support/open-members.ts';

/** A core with `members` others that never answer; per member, its failed probes before this peer suspected it. */
function failuresBeforeSuspicion(members: number, untilMs: number): number[] {
  const core = new Membership({
    self: record(0),
    config: membershipConfig(PEER_DEFAULTS),
    random: seededRandom(`starved-recheck-${members}`),
    now: 0,
    datagramOverhead: 4,
  });
  for (let i = 1; i <= members; i++) core.receive(address(i), [{ type: 'alive', member: record(i) }], 0);
  const failed = new Map<string, number>();
  const counts: number[] = [];
  for (let now = 0; now < untilMs; now += 10) {
    for (const effect of core.tick(now)) {
      if (effect.type !== 'event') continue;
      const e = effect.event;
      if (e.event === 'probe.failed') failed.set(e.member, (failed.get(e.member) ?? 0) + 1);
      if (e.event === 'member.suspect' && e.from === 'm0') counts.push(failed.get(e.member) ?? 0);
    }
  }
  return counts;
}

describe('a starved prober checks twice before suspecting', () => {
  it('with 40 members: two failed probes per suspicion once local health is 4-fold', () => {
    const counts = failuresBeforeSuspicion(40, 60_000);
    // The first failed probe (no nacks from 3 helpers) already takes local health to 4-fold.
    assert.ok(counts.length >= 5, `${counts.length} suspicions`);
    assert.ok(
      counts.slice(1).every((c) => c === 2),
      `failed probes before each suspicion: ${counts}`,
    );
  });

  it('with 20 members (a small cluster, each peer on its own host): one failed probe per suspicion', () => {
    const counts = failuresBeforeSuspicion(20, 60_000);
    assert.ok(counts.length >= 5);
    assert.ok(
      counts.every((c) => c === 1),
      `${counts}`,
    );
  });
});
