// When a `--exec` child must be signalled, from the end of this peer's
// conservative acting window (monotonic ms). The child is to have stopped at
// least STOP_MARGIN_MS before the window ends; the window itself ends the
// leader margin (200 ms by default) before the enclave's lease does. So a
// child stops >= 400 ms before the enclave could grant anyone else, by this
// peer's clock. The signals are scheduled a further timer slack earlier: on a
// starved host the deadline timer fires late (the demo test at load 18 on 2
// cores saw a child stop 294 ms after the window end, though its SIGKILL was
// due 250 ms before it), and a SIGKILL sent late is a child stopped late. The slack
// is the leader margin, the allowance the peer already makes for its own
// timers running late against the enclave's clock.
// Pure: table-tested in test/peer/exec/leader-exec.test.ts.

/** The child has stopped at least this long before the acting window ends. */
export const STOP_MARGIN_MS = 200;
/** SIGKILL to the process being gone (the kernel tears it down; we learn of it on the loop). */
export const KILL_SETTLE_MS = 50;
/** Default time between SIGTERM and SIGKILL: the child's time to stop cleanly. */
export const DEFAULT_TERM_GRACE_MS = 300;
/** Default allowance for a late deadline timer: the default leader margin (`--leader-margin-ms`). */
export const DEFAULT_TIMER_SLACK_MS = 200;

export interface ExecDeadlines {
  /** Send SIGTERM at this time... */
  termAt: number;
  /** ...and SIGKILL at this one if the child still runs. */
  killAt: number;
}

export function execDeadlines(
  windowEnd: number,
  termGraceMs: number,
  timerSlackMs = DEFAULT_TIMER_SLACK_MS,
): ExecDeadlines {
  const killAt = windowEnd - STOP_MARGIN_MS - KILL_SETTLE_MS - timerSlackMs;
  return { termAt: killAt - termGraceMs, killAt };
}

/**
 * Room left in the window for a new child: start one only before its SIGTERM
 * time. After a child was stopped because the window was ending, ask for twice
 * the stop lead: on a starved host renewals land late, and restarting a child
 * each time the window barely reopens only adds load (seen in the demo test).
 */
export function mayStart(
  now: number,
  windowEnd: number,
  termGraceMs: number,
  afterForcedStop = false,
  timerSlackMs = DEFAULT_TIMER_SLACK_MS,
): boolean {
  const { termAt } = execDeadlines(windowEnd, termGraceMs, timerSlackMs);
  const lead = windowEnd - termAt;
  return now < (afterForcedStop ? termAt - lead : termAt);
}
