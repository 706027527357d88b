// The one clock of the whole system, injected everywhere time is read or
// waited on: a monotonic `now` for timers, windows and deadlines, a wall
// `wallNow` for what crosses processes (lease ends in certificates, log times,
// attestation validity), one-shot timers and a cancellable sleep. The system
// clock for production; a ManualClock that tests advance by hand moves both
// times together, so one seeded test can drive a datagram all the way to an
// adopted certificate deterministically.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds (arbitrary origin): for timers, windows, deadlines. */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch: for times other processes read. */
  wallNow(): number;
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  /**
   * Run `fn` once what has already arrived has been read (Node: setImmediate,
   * after the event loop's I/O poll). A timer that fires late must not judge a
   * probe before reading the ack waiting in the socket buffer.
   */
  afterPendingIo(fn: () => void): void;
  /** Resolve after `ms` (or at once when `signal` aborts). Never rejects. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Both times of this process: performance.now() and Date.now(). */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer(delayMs, fn) {
    const timer = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(timer) };
  },
  afterPendingIo(fn) {
    setImmediate(fn);
  },
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, Math.max(0, ms));
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

interface ManualTimer {
  at: number;
  id: number;
  fn: () => void;
  cancelled: boolean;
}

/** A fixed wall start (2023-11-14T22:13:20Z), so manual runs print the same times. */
export const MANUAL_WALL_START = 1_700_000_000_000;

/**
 * A clock that moves only when told; timers run in (time, creation) order.
 * Monotonic and wall time advance together: wall = wallStart + (now - start).
 */
export class ManualClock implements Clock {
  #current: number;
  readonly #wallOffset: number;
  #nextId = 0;
  #heap: ManualTimer[] = [];
  #sleeping = 0;

  constructor(start = 0, wallStart = MANUAL_WALL_START) {
    this.#current = start;
    this.#wallOffset = wallStart - start;
  }

  now(): number {
    return this.#current;
  }

  wallNow(): number {
    return this.#current + this.#wallOffset;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const timer: ManualTimer = {
      at: this.#current + Math.max(0, delayMs),
      id: this.#nextId++,
      fn,
      cancelled: false,
    };
    this.#pushHeap(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Simulated I/O is timers too: run `fn` after those already due at this moment. */
  afterPendingIo(fn: () => void): void {
    this.setTimer(0, fn);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      this.#sleeping += 1;
      const wake = (): void => {
        timer.cancel();
        signal?.removeEventListener('abort', wake);
        this.#sleeping -= 1;
        resolve();
      };
      const timer = this.setTimer(ms, wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  /** Sleeps not yet woken: tests wait for a held request to be holding. */
  get sleeping(): number {
    return this.#sleeping;
  }

  /** Run every timer due within the next `ms`, in order, then set the time. */
  advance(ms: number): void {
    const target = this.#current + ms;
    for (;;) {
      const top = this.#heap[0];
      if (!top || top.at > target) break;
      this.#popHeap();
      if (top.cancelled) continue;
      this.#current = Math.max(this.#current, top.at);
      top.fn();
    }
    this.#current = target;
  }

  #less(a: ManualTimer, b: ManualTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.id < b.id);
  }

  #pushHeap(timer: ManualTimer): void {
    const h = this.#heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  #popHeap(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < h.length && this.#less(h[l]!, h[smallest]!)) smallest = l;
      if (r < h.length && this.#less(h[r]!, h[smallest]!)) smallest = r;
      if (smallest === i) break;
      [h[i], h[smallest]] = [h[smallest]!, h[i]!];
      i = smallest;
    }
  }
}
