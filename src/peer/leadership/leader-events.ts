// The leadership changes a watcher is told of, computed as the difference of
// two successive views (pure: views and the time in, events out).
//   elected    a leader of a new epoch, or this peer starting to act as leader
//              (`acting` says which), or a leader again after none
//   renewed    the same epoch's lease renewed (seq + 1); sent only to watchers that ask
//   released   this peer stopped acting as leader, with the reason
//   no-leader  the held certificate's lease ended and no newer one came
import { hasLiveLeader, type LeadershipView } from './leadership-view.ts';

export type LeaderEventType = 'elected' | 'renewed' | 'released' | 'no-leader';

export interface LeaderEvent {
  type: LeaderEventType;
  /** `${epoch}.${seq}`: the SSE event id. */
  id: string;
  data: {
    leader: string | null;
    epoch: number;
    seq: number;
    lease_end: number | null;
    acting: boolean;
    reason?: string;
  };
}

function event(type: LeaderEventType, view: LeadershipView, reason?: string): LeaderEvent {
  return {
    type,
    id: `${view.epoch}.${view.seq}`,
    data: {
      leader: view.leader?.name ?? null,
      epoch: view.epoch,
      seq: view.seq,
      lease_end: view.leaseEnd,
      acting: view.acting,
      ...(reason === undefined ? {} : { reason }),
    },
  };
}

/** The event that tells a new (or reconnecting) watcher the state as it is. */
export function currentState(view: LeadershipView, now: number): LeaderEvent {
  return hasLiveLeader(view, now) ? event('elected', view) : event('no-leader', view, 'no live lease');
}

export interface WatchState {
  view: LeadershipView;
  /** Whether watchers were last told of a live leader. */
  live: boolean;
}

export function initialWatchState(view: LeadershipView, now: number): WatchState {
  return { view, live: hasLiveLeader(view, now) };
}

/**
 * Events from the last state to a new view at wall time `now`;
 * `releaseReason` is why this peer stopped acting, if it did.
 */
export function leaderEvents(
  prev: WatchState,
  next: LeadershipView,
  now: number,
  releaseReason: string | null,
): { state: WatchState; events: LeaderEvent[] } {
  const events: LeaderEvent[] = [];
  if (prev.view.acting && !next.acting) events.push(event('released', next, releaseReason ?? 'expired'));
  const live = hasLiveLeader(next, now);
  if (live) {
    if (!prev.live || next.epoch !== prev.view.epoch || (next.acting && !prev.view.acting)) {
      events.push(event('elected', next));
    } else if (next.seq > prev.view.seq) {
      events.push(event('renewed', next));
    }
  } else if (prev.live) {
    events.push(event('no-leader', next, 'lease ended'));
  }
  return { state: { view: next, live }, events };
}
