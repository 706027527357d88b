// Time for the runtime shell: a monotonic `now` in milliseconds and one-shot
// timers. The system clock for production; a manual clock that tests advance
// by hand, so simulations with many peers are deterministic and fast.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  /**
   * Run `fn` once what has already arrived has been read (Node: setImmediate,
   * after the event loop's I/O poll). A timer that fires late must not judge a
   * probe before reading the ack waiting in the socket buffer.
   */
  afterPendingIo(fn: () => void): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(delayMs, fn) {
    const timer = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(timer) };
  },
  afterPendingIo(fn) {
    setImmediate(fn);
  },
};

interface ManualTimer {
  at: number;
  id: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that moves only when told; timers run in (time, creation) order. */
export class ManualClock implements Clock {
  private current: number;
  private nextId = 0;
  private heap: ManualTimer[] = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const timer: ManualTimer = {
      at: this.current + Math.max(0, delayMs),
      id: this.nextId++,
      fn,
      cancelled: false,
    };
    this.pushHeap(timer);
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

  /** Run every timer due within the next `ms`, in order, then set the time. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > target) break;
      this.popHeap();
      if (top.cancelled) continue;
      this.current = Math.max(this.current, top.at);
      top.fn();
    }
    this.current = target;
  }

  private less(a: ManualTimer, b: ManualTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.id < b.id);
  }

  private pushHeap(timer: ManualTimer): void {
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private popHeap(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < h.length && this.less(h[l]!, h[smallest]!)) smallest = l;
      if (r < h.length && this.less(h[r]!, h[smallest]!)) smallest = r;
      if (smallest === i) break;
      [h[i], h[smallest]] = [h[smallest]!, h[i]!];
      i = smallest;
    }
  }
}
