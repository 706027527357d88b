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
import { suspicionTiming } from '../../../src/peer/membership/timing.ts';
import { seededRandom } from '../../../src/random/seeded-random.ts';
import { openRecord as record } from '../support/open-members.ts';

function newTable(): MemberTable {
  const config = membershipConfig(PEER_DEFAULTS);
  return new MemberTable(record(0), 0, {
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
}

describe('suspicion deadlines as the table grows', () => {
  it('are judged with the live count of now, so an expired-looking deadline is never reported again', () => {
    const table = newTable();
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

describe('suspicion deadlines as local health recovers', () => {
  // Found in the loopback bench at N = 1,000: as the cold start ended, peers whose
  // awareness fell below the correlated stretch had every suspicion confirmed
  // while they were starved shortened to its minimum at once, and declared
  // hundreds of members dead that were still refuting across a backlog.
  it('keeps the unconfirmed timeout of a suspicion confirmed while this peer was starved with the others', () => {
    const table = newTable();
    for (let i = 1; i <= 40; i++) table.applyAlive(record(i), 0);
    table.setSuspicionStretch(8);
    for (const from of [2, 3, 4]) table.applySuspect('m1', 1, `m${from}`, 1_000);
    const starved = table.nextSuspicionDeadline();
    // Local health recovers: timeouts x1, and confirmations would count again.
    table.setSuspicionStretch(1);
    const recovered = table.nextSuspicionDeadline();
    const config = membershipConfig(PEER_DEFAULTS);
    const unconfirmed = suspicionTiming(41, config).maxMs;
    assert.equal(recovered, 1_000 + unconfirmed, 'the unconfirmed timeout, at the stretch of now');
    assert.ok(recovered < starved);
    table.expireSuspicions(1_000 + 2 * config.suspicionMult * config.gossipIntervalMs);
    assert.equal(table.get('m1')?.state, 'suspect', 'not dead at twice the confirmed minimum');
    // A suspicion raised after the recovery is shortened by its confirmations as Lifeguard says.
    for (const from of [2, 3, 4]) table.applySuspect('m5', 1, `m${from}`, 2_000);
    table.expireSuspicions(2_000 + config.suspicionMult * config.gossipIntervalMs);
    assert.equal(table.get('m5')?.state, 'dead');
  });
});
