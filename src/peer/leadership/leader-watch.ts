// Fans leadership changes out to watchers (the SSE stream, --exec). Polls the
// view every `pollMs` (the lease ending is a change no one announces) and at
// once when poked (the election adopted a certificate or changed its mind), so
// a watcher hears of a change within one poll interval at worst.
import type { Clock, TimerHandle } from '../../time/clock.ts';
import {
  currentState,
  initialWatchState,
  type LeaderEvent,
  leaderEvents,
  type WatchState,
} from './leader-events.ts';
import type { LeadershipSource } from './leadership-view.ts';

export interface LeaderWatchOptions {
  source: LeadershipSource;
  /** Its wallNow() judges lease ends (wall times); its timers drive the poll. */
  clock: Clock;
  /** Default 25: a quarter of the 100 ms watch-latency target. */
  pollMs?: number;
}

export interface WatchSubscription {
  /** Also hear of renewals (seq + 1 every lease/4). */
  renewals?: boolean;
}

type Listener = (event: LeaderEvent) => void;

export class LeaderWatch {
  readonly #o: Required<LeaderWatchOptions>;
  readonly #listeners = new Map<Listener, WatchSubscription>();
  #state: WatchState;
  #releases: number;
  #timer: TimerHandle | undefined;

  constructor(options: LeaderWatchOptions) {
    this.#o = { pollMs: 25, ...options };
    this.#state = initialWatchState(options.source.view(), options.clock.wallNow());
    this.#releases = options.source.releases().count;
  }

  get watchers(): number {
    return this.#listeners.size;
  }

  start(): void {
    if (this.#timer) return;
    const loop = () => {
      this.poke();
      this.#timer = this.#o.clock.setTimer(this.#o.pollMs, loop);
    };
    this.#timer = this.#o.clock.setTimer(this.#o.pollMs, loop);
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Tell `listener` the current state now, then every change. Returns the unsubscribe. */
  subscribe(listener: Listener, options: WatchSubscription = {}): () => void {
    this.poke(); // bring everyone else up to date first, so the new watcher's first event is current
    listener(currentState(this.#state.view, this.#o.clock.wallNow()));
    this.#listeners.set(listener, options);
    return () => this.#listeners.delete(listener);
  }

  /** Look at the view now and tell watchers what changed. */
  poke(): void {
    const release = this.#o.source.releases();
    const reason = release.count !== this.#releases ? release.reason : null;
    this.#releases = release.count;
    const { state, events } = leaderEvents(
      this.#state,
      this.#o.source.view(),
      this.#o.clock.wallNow(),
      reason,
    );
    this.#state = state;
    for (const event of events) {
      for (const [listener, options] of this.#listeners) {
        if (event.type === 'renewed' && !options.renewals) continue;
        try {
          listener(event);
        } catch {
          // A failing watcher (its socket closed mid-write) must not stop the others.
        }
      }
    }
  }
}
