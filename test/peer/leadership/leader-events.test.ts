// Leadership changes as a watcher hears them: the difference of two views.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  currentState,
  initialWatchState,
  type LeaderEventType,
  leaderEvents,
} from '../../../src/peer/leadership/leader-events.ts';
import { type LeadershipView, NO_LEADERSHIP } from '../../../src/peer/leadership/leadership-view.ts';

const NOW = 1_800_000_000_000;
const view = (
  epoch: number,
  seq: number,
  name = 'peer-a',
  acting = false,
  leaseEnd = NOW + 2000,
): LeadershipView => ({
  leader: { name, key: `key-${name}` },
  epoch,
  seq,
  leaseEnd,
  acting,
  token: acting ? 'cert~att' : null,
});

function types(
  prev: LeadershipView,
  next: LeadershipView,
  reason: string | null = null,
  now = NOW,
): LeaderEventType[] {
  return leaderEvents(initialWatchState(prev, NOW), next, now, reason).events.map((e) => e.type);
}

describe('leader events', () => {
  it('a first leader, or one of a new epoch, is elected', () => {
    assert.deepEqual(types(NO_LEADERSHIP, view(1, 0)), ['elected']);
    assert.deepEqual(types(view(1, 3), view(2, 0, 'peer-b')), ['elected']);
  });

  it('a renewal of the same epoch is renewed', () => {
    assert.deepEqual(types(view(4, 1), view(4, 2)), ['renewed']);
    assert.deepEqual(types(view(4, 2), view(4, 2)), [], 'no change, no event');
  });

  it('this peer starting to act is elected with acting: true', () => {
    const events = leaderEvents(
      initialWatchState(view(5, 0), NOW),
      view(5, 1, 'peer-a', true),
      NOW,
      null,
    ).events;
    assert.deepEqual(
      events.map((e) => [e.type, e.data.acting]),
      [['elected', true]],
    );
  });

  it('this peer stopping to act is released with the reason, then elected for the successor', () => {
    const events = leaderEvents(
      initialWatchState(view(6, 4, 'peer-a', true), NOW),
      view(7, 0, 'peer-b'),
      NOW,
      'resigned',
    ).events;
    assert.deepEqual(
      events.map((e) => [e.type, e.data.reason, e.data.leader]),
      [
        ['released', 'resigned', 'peer-b'],
        ['elected', undefined, 'peer-b'],
      ],
    );
    assert.deepEqual(types(view(6, 4, 'peer-a', true), view(6, 4, 'peer-a', false)), ['released']);
  });

  it('a lease that ends with no newer certificate is no-leader, told once', () => {
    const ending = view(8, 2, 'peer-a', false, NOW + 10);
    const after = leaderEvents(initialWatchState(ending, NOW), ending, NOW + 10, null);
    assert.deepEqual(
      after.events.map((e) => e.type),
      ['no-leader'],
    );
    assert.deepEqual(leaderEvents(after.state, ending, NOW + 50, null).events, []);
    assert.deepEqual(
      leaderEvents(after.state, view(9, 0), NOW + 60, null).events.map((e) => e.type),
      ['elected'],
    );
  });

  it('the current state for a new watcher is elected with a live lease, else no-leader', () => {
    assert.equal(currentState(view(3, 1), NOW).type, 'elected');
    assert.equal(currentState(view(3, 1), NOW).id, '3.1');
    assert.equal(currentState(view(3, 1, 'peer-a', false, NOW - 1), NOW).type, 'no-leader');
    assert.equal(currentState(NO_LEADERSHIP, NOW).type, 'no-leader');
  });
});
