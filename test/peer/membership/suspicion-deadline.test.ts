// After a tick at `now`, the next suspicion deadline the table reports is
// later than `now`. It used to be cached while the table had fewer than 32
// live members (confirmations shorten a suspicion); once more joined, the
// correlated rule (a starved peer runs suspicions to their unconfirmed
// timeout) made the real deadline later, nothing refreshed the cache, and a
// timer due "now" fired again at once, for ever. Found when a change kept
// fake members alive longer in the hostile-input property test: the virtual
// clock never advanced.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { membershipConfig, PEER_DEFAULTS } from '../../../src/peer/config.ts';
import { BroadcastQueue } from '../../../src/peer/membership/broadcast-queue.ts';
import { MemberTable } from '../../../src/peer/membership/member-table.ts';
import { seededRandom } from '../../../src/random/seeded-random.ts';
import { openRecord as record } from '../support/open-members.ts';

describe('suspicion deadlines as the table grows', () => {
  it('are judged with the live count of now, so an expired-looking deadline is never reported again', () => {
    const config = membershipConfig(PEER_DEFAULTS);
    const table = new MemberTable(record(0), 0, {
      settings: config,
      maxMembers: config.maxMembers,
      queue: new BroadcastQueue(),
      newsQueue: new BroadcastQueue(128),
      random: seededRandom('suspicion-deadline'),
      emit: () => {},
      onRefute: () => {},
      onSuspect: () => {},
      onEcho: () => {},
    });
    for (let i = 1; i <= 20; i++) table.applyAlive(record(i), 0);
    // A starved peer (timeouts x8); m1 suspected by m2, confirmed by m3 and m4: shortened.
    table.setSuspicionStretch(8);
    for (const from of [2, 3, 4]) table.applySuspect('m1', 1, `m${from}`, 1_000);
    const cached = table.nextSuspicionDeadline();
    // 20 more join: 41 live, so confirmations no longer shorten it here.
    for (let i = 21; i <= 40; i++) table.applyAlive(record(i), 1_100);
    table.expireSuspicions(cached);
    assert.equal(table.get('m1')?.state, 'suspect', 'runs to its unconfirmed timeout');
    const next = table.nextSuspicionDeadline();
    assert.ok(next > cached, `expired nothing at ${cached} ms, and reports ${next} ms`);
  });
});
