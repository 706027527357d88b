// Runs a command while this peer acts as leader (`peer --exec`): starts it when
// leadership begins, with the fencing token and epoch in its environment;
// SIGTERM, then SIGKILL, timed from the acting window's end (exec-timing.ts)
// so the child has stopped before the peer's own window ends; at once when the
// peer stops acting. Its output and exit are logged as events. Time and the
// process are injected, so the lifecycle is tested under a manual clock.
import type { Clock, TimerHandle } from '../../time/clock.ts';
import { DEFAULT_TERM_GRACE_MS, DEFAULT_TIMER_SLACK_MS, execDeadlines, mayStart } from './exec-timing.ts';

export interface ExecLeadership {
  acting: boolean;
  /** End of the acting window, monotonic ms (the clock's `now`); null when not acting. */
  windowEnd: number | null;
  epoch: number;
  token: string | null;
}

export interface ChildHandle {
  readonly pid: number | undefined;
  signal(signal: 'SIGTERM' | 'SIGKILL'): void;
}

export interface ChildEvents {
  output(stream: 'stdout' | 'stderr', line: string): void;
  exited(code: number | null, signal: string | null): void;
}

export type Spawn = (command: string, env: Record<string, string>, events: ChildEvents) => ChildHandle;

export type ExecLogEvent =
  | { event: 'exec.started'; pid: number | undefined; epoch: number; command: string }
  | { event: 'exec.output'; stream: 'stdout' | 'stderr'; line: string }
  | {
      event: 'exec.signalled';
      signal: 'SIGTERM' | 'SIGKILL';
      why: 'released' | 'window-ending';
      windowLeftMs: number | null;
    }
  | {
      event: 'exec.exited';
      code: number | null;
      signal: string | null;
      /** Why it was signalled; null: it exited on its own. */
      why: 'released' | 'window-ending' | null;
      /** How long before the acting window's end it stopped (null: the peer was not acting by then). */
      windowLeftMs: number | null;
    };

export interface LeaderExecOptions {
  command: string;
  spawn: Spawn;
  clock: Clock;
  /** The leadership as it is now; read on every update. */
  leadership(): ExecLeadership;
  /** Environment for the child beside the leadership variables (PATH, HOME...). */
  baseEnv?: Record<string, string>;
  /** Where the child can fetch a fresh token (the token in its env is good for one lease). */
  tokenUrl?: () => string;
  termGraceMs?: number;
  /** Signal this much earlier than the stop margin needs, for a deadline timer that fires late (the leader margin). */
  timerSlackMs?: number;
  log(event: ExecLogEvent): void;
}

export const EXEC_ENV = {
  token: 'ENCLAVE_ELECT_TOKEN',
  epoch: 'ENCLAVE_ELECT_EPOCH',
  tokenUrl: 'ENCLAVE_ELECT_TOKEN_URL',
} as const;

interface Running {
  child: ChildHandle;
  signalled: 'SIGTERM' | 'SIGKILL' | null;
  why: 'released' | 'window-ending' | null;
}

export class LeaderExec {
  readonly #o: LeaderExecOptions & { termGraceMs: number; timerSlackMs: number };
  #running: Running | undefined;
  #timer: TimerHandle | undefined;
  /** The child left on its own during this acting period: not restarted until the next one. */
  #exitedOnItsOwn = false;
  /** A child was stopped because the window was ending, in this acting period. */
  #forcedStop = false;
  #wasActing = false;
  #stopped = false;
  /** The last acting window's end, kept after release to report how early a child stopped. */
  #lastWindowEnd: number | null = null;

  constructor(options: LeaderExecOptions) {
    this.#o = { termGraceMs: DEFAULT_TERM_GRACE_MS, timerSlackMs: DEFAULT_TIMER_SLACK_MS, ...options };
  }

  get running(): boolean {
    return this.#running !== undefined;
  }

  /** Look at the leadership now: start, keep, or signal the child; re-arm the deadline timer. */
  update(): void {
    if (this.#stopped) return;
    const now = this.#o.clock.now();
    const lead = this.#o.leadership();
    const acting = lead.acting && lead.windowEnd !== null && now < lead.windowEnd;
    if (acting) this.#lastWindowEnd = lead.windowEnd;
    if (!acting && this.#wasActing) {
      this.#exitedOnItsOwn = false;
      this.#forcedStop = false;
    }
    this.#wasActing = acting;
    this.#timer?.cancel();
    this.#timer = undefined;

    if (!acting) {
      if (this.#running) this.#signal('SIGTERM', 'released', null);
      return;
    }
    const windowEnd = lead.windowEnd!;
    const { termAt, killAt } = execDeadlines(windowEnd, this.#o.termGraceMs, this.#o.timerSlackMs);
    if (!this.#running) {
      const room = mayStart(now, windowEnd, this.#o.termGraceMs, this.#forcedStop, this.#o.timerSlackMs);
      if (!this.#exitedOnItsOwn && room && lead.token !== null) {
        this.#start(lead);
      }
      if (!this.#running) return;
    }
    if (now >= killAt) this.#signal('SIGKILL', 'window-ending', windowEnd - now);
    else if (now >= termAt) this.#signal('SIGTERM', 'window-ending', windowEnd - now);
    const next = now < termAt ? termAt : killAt;
    if (this.#running && this.#running.signalled !== 'SIGKILL') {
      this.#timer = this.#o.clock.setTimer(next - now, () => this.update());
    }
  }

  /** The peer is stopping: signal the child and stop starting new ones. Resolves when it has exited. */
  async stop(graceMs = this.#o.termGraceMs): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    const running = this.#running;
    if (!running) return;
    const exited = new Promise<void>((resolve) => {
      const kill = this.#o.clock.setTimer(graceMs, () => {
        if (this.#running === running) this.#signal('SIGKILL', 'released', null);
        resolve();
      });
      this.#onExit = () => {
        kill.cancel();
        resolve();
      };
    });
    this.#signal('SIGTERM', 'released', null);
    await exited;
  }

  #onExit: (() => void) | undefined;

  #start(lead: ExecLeadership): void {
    const env: Record<string, string> = {
      ...this.#o.baseEnv,
      [EXEC_ENV.token]: lead.token!,
      [EXEC_ENV.epoch]: String(lead.epoch),
      ...(this.#o.tokenUrl ? { [EXEC_ENV.tokenUrl]: this.#o.tokenUrl() } : {}),
    };
    const running: Running = { child: undefined as unknown as ChildHandle, signalled: null, why: null };
    this.#running = running;
    running.child = this.#o.spawn(this.#o.command, env, {
      output: (stream, line) => this.#o.log({ event: 'exec.output', stream, line }),
      exited: (code, signal) => this.#exited(running, code, signal),
    });
    this.#o.log({
      event: 'exec.started',
      pid: running.child.pid,
      epoch: lead.epoch,
      command: this.#o.command,
    });
  }

  #signal(
    signal: 'SIGTERM' | 'SIGKILL',
    why: 'released' | 'window-ending',
    windowLeftMs: number | null,
  ): void {
    const running = this.#running;
    if (!running || running.signalled === signal || running.signalled === 'SIGKILL') return;
    running.signalled = signal;
    running.why ??= why;
    this.#o.log({
      event: 'exec.signalled',
      signal,
      why,
      windowLeftMs: windowLeftMs === null ? null : Math.round(windowLeftMs),
    });
    running.child.signal(signal);
  }

  #exited(running: Running, code: number | null, signal: string | null): void {
    if (this.#running !== running) return;
    this.#running = undefined;
    const now = this.#o.clock.now();
    const lead = this.#o.leadership();
    const windowEnd = lead.acting && lead.windowEnd !== null ? lead.windowEnd : this.#lastWindowEnd;
    this.#o.log({
      event: 'exec.exited',
      code,
      signal,
      why: running.why,
      windowLeftMs: windowEnd === null ? null : windowEnd - now,
    });
    if (running.signalled === null) this.#exitedOnItsOwn = true;
    if (running.why === 'window-ending') this.#forcedStop = true;
    this.#onExit?.();
    this.#onExit = undefined;
    // A child stopped because the window was ending may be followed by a new one
    // if a late renewal reopened the window.
    this.update();
  }
}
