// `peer --exec` under a manual clock: the child starts when the peer starts
// acting as leader (token and epoch in its env), is signalled SIGTERM then
// SIGKILL so it has stopped >= 200 ms before the acting window ends, is
// signalled at once on release, and never runs while the peer is not leader.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execDeadlines, STOP_MARGIN_MS } from '../../../src/peer/exec/exec-timing.ts';
import {
  type ChildEvents,
  type ExecLeadership,
  type ExecLogEvent,
  LeaderExec,
} from '../../../src/peer/exec/leader-exec.ts';
import { type Clock, ManualClock } from '../../../src/time/clock.ts';

const GRACE = 300;

/** A fake child: records signals; exits when told, or at once on a signal it obeys. */
class FakeChild {
  signals: string[] = [];
  readonly env: Record<string, string>;
  readonly events: ChildEvents;
  readonly obeys: Set<string>;
  constructor(env: Record<string, string>, events: ChildEvents, obeys: Set<string>) {
    this.env = env;
    this.events = events;
    this.obeys = obeys;
  }
  readonly pid = 4242;
  running = true;
  signal(signal: 'SIGTERM' | 'SIGKILL') {
    this.signals.push(signal);
    if (this.obeys.has(signal)) this.exit(null, signal);
  }
  exit(code: number | null, signal: string | null) {
    if (!this.running) return;
    this.running = false;
    this.events.exited(code, signal);
  }
}

/** `timerLateMs`: every timer fires that much after its due time, as on a starved host. */
function setup(obeys: string[] = ['SIGTERM', 'SIGKILL'], timerLateMs = 0) {
  const clock = new ManualClock(1000);
  const lateClock: Clock = {
    now: () => clock.now(),
    wallNow: () => clock.wallNow(),
    setTimer: (delayMs, fn) => clock.setTimer(delayMs + timerLateMs, fn),
    afterPendingIo: (fn) => clock.afterPendingIo(fn),
    sleep: (ms, signal) => clock.sleep(ms, signal),
  };
  const lead: ExecLeadership = { acting: false, windowEnd: null, epoch: 0, token: null };
  const children: FakeChild[] = [];
  const logs: ExecLogEvent[] = [];
  const exec = new LeaderExec({
    command: 'writer --append',
    clock: lateClock,
    termGraceMs: GRACE,
    leadership: () => lead,
    tokenUrl: () => 'http://127.0.0.1:7947/v1/token',
    spawn: (_command, env, events) => {
      const child = new FakeChild(env, events, new Set(obeys));
      children.push(child);
      return child;
    },
    log: (event) => logs.push(event),
  });
  /** The peer acquires or renews: the window now ends `windowMs` from now. */
  const acting = (epoch: number, windowMs: number) => {
    Object.assign(lead, { acting: true, windowEnd: clock.now() + windowMs, epoch, token: `token-${epoch}` });
    exec.update();
  };
  const released = () => {
    Object.assign(lead, { acting: false, windowEnd: null, token: null });
    exec.update();
  };
  const running = () => children.filter((c) => c.running);
  return { clock, lead, exec, children, logs, acting, released, running };
}

describe('--exec lifecycle', () => {
  it('never starts a child while the peer is not acting as leader', () => {
    const t = setup();
    t.exec.update();
    t.clock.advance(10_000);
    t.exec.update();
    assert.equal(t.children.length, 0);
  });

  it('starts the child on acquire with the token, the epoch and the token URL in its env', () => {
    const t = setup();
    t.acting(3, 1800);
    assert.equal(t.children.length, 1);
    assert.equal(t.children[0]!.env.ENCLAVE_ELECT_TOKEN, 'token-3');
    assert.equal(t.children[0]!.env.ENCLAVE_ELECT_EPOCH, '3');
    assert.equal(t.children[0]!.env.ENCLAVE_ELECT_TOKEN_URL, 'http://127.0.0.1:7947/v1/token');
    assert.deepEqual(t.logs[0], { event: 'exec.started', pid: 4242, epoch: 3, command: 'writer --append' });
  });

  it('keeps the child running while renewals keep extending the window', () => {
    const t = setup();
    t.acting(1, 1800);
    for (let i = 0; i < 40; i++) {
      t.clock.advance(500);
      t.acting(1, 1800);
    }
    assert.deepEqual(t.children[0]!.signals, []);
    assert.equal(t.running().length, 1);
  });

  it('sends SIGTERM when renewals stop, so the child has stopped >= 200 ms before the window ends', () => {
    const t = setup();
    t.acting(1, 1800);
    const windowEnd = t.lead.windowEnd!;
    const { termAt } = execDeadlines(windowEnd, GRACE);
    t.clock.advance(termAt - t.clock.now() - 1);
    assert.deepEqual(t.children[0]!.signals, [], 'not before its time');
    t.clock.advance(1);
    assert.deepEqual(t.children[0]!.signals, ['SIGTERM']);
    const exited = t.logs.find((l) => l.event === 'exec.exited');
    assert.ok(exited && exited.event === 'exec.exited');
    assert.ok(
      exited.windowLeftMs! >= STOP_MARGIN_MS,
      `stopped ${exited.windowLeftMs} ms before the window end`,
    );
  });

  it('sends SIGKILL to a child that ignores SIGTERM, still >= 200 ms before the window ends', () => {
    const t = setup(['SIGKILL']);
    t.acting(1, 1800);
    const windowEnd = t.lead.windowEnd!;
    t.clock.advance(windowEnd - t.clock.now());
    assert.deepEqual(t.children[0]!.signals, ['SIGTERM', 'SIGKILL']);
    const exited = t.logs.find((l) => l.event === 'exec.exited');
    assert.ok(exited && exited.event === 'exec.exited' && exited.windowLeftMs! >= STOP_MARGIN_MS);
    const signalled = t.logs
      .filter((l) => l.event === 'exec.signalled')
      .map((l) => l.event === 'exec.signalled' && l.why);
    assert.deepEqual(signalled, ['window-ending', 'window-ending']);
  });

  it('still stops a child that ignores SIGTERM >= 200 ms before the window ends when every timer fires 200 ms late', () => {
    const t = setup(['SIGKILL'], 200);
    t.acting(1, 1800);
    t.clock.advance(t.lead.windowEnd! - t.clock.now());
    assert.deepEqual(t.children[0]!.signals, ['SIGTERM', 'SIGKILL']);
    const exited = t.logs.find((l) => l.event === 'exec.exited');
    assert.ok(exited && exited.event === 'exec.exited');
    assert.ok(
      exited.windowLeftMs! >= STOP_MARGIN_MS,
      `stopped ${exited.windowLeftMs} ms before the window end`,
    );
  });

  it('signals the child at once when the peer stops acting, and starts a new one on the next acquire', () => {
    const t = setup();
    t.acting(4, 1800);
    t.clock.advance(300);
    t.released();
    assert.deepEqual(t.children[0]!.signals, ['SIGTERM']);
    assert.equal(t.running().length, 0);
    t.clock.advance(5000);
    t.exec.update();
    assert.equal(t.children.length, 1, 'no child while not leader');
    t.acting(6, 1800);
    assert.equal(t.children.length, 2);
    assert.equal(t.children[1]!.env.ENCLAVE_ELECT_EPOCH, '6');
  });

  it('does not start a child in a window too short to stop it in time', () => {
    const t = setup();
    t.acting(2, STOP_MARGIN_MS + 50 + GRACE); // SIGTERM would be due now
    assert.equal(t.children.length, 0);
  });

  it('does not restart a child that exited on its own until the next acquire', () => {
    const t = setup();
    t.acting(2, 1800);
    t.children[0]!.exit(1, null);
    t.clock.advance(500);
    t.acting(2, 1800);
    assert.equal(t.children.length, 1);
    const exited = t.logs.find((l) => l.event === 'exec.exited');
    assert.deepEqual(exited && exited.event === 'exec.exited' && [exited.code, exited.signal], [1, null]);
  });

  it('restarts after a forced stop once a late renewal reopens the window with twice the stop lead', () => {
    const t = setup(['SIGTERM']);
    t.acting(2, 1800);
    t.clock.advance(execDeadlines(t.lead.windowEnd!, GRACE).termAt - t.clock.now());
    assert.equal(t.running().length, 0);
    t.clock.advance(10);
    t.acting(2, 1000); // a renewal landed, but the window is barely past the stop lead: wait
    assert.equal(t.children.length, 1);
    t.acting(2, 1800); // the renewal landed late, the window is long again
    assert.equal(t.children.length, 2);
  });

  it('passes the child output to the log as events', () => {
    const t = setup();
    t.acting(1, 1800);
    t.children[0]!.events.output('stdout', 'appended 1');
    assert.deepEqual(t.logs.at(-1), { event: 'exec.output', stream: 'stdout', line: 'appended 1' });
  });

  it('stop() signals the child and resolves when it exits', async () => {
    const t = setup();
    t.acting(1, 1800);
    await t.exec.stop();
    assert.deepEqual(t.children[0]!.signals, ['SIGTERM']);
    t.acting(2, 1800);
    assert.equal(t.children.length, 1, 'a stopped supervisor starts nothing');
  });
});

describe('exec deadlines', () => {
  it('SIGKILL 250 ms + the timer slack (the leader margin, 200 ms) and SIGTERM the grace earlier before the window end', () => {
    assert.deepEqual(execDeadlines(10_000, 300), { termAt: 9250, killAt: 9550 });
    assert.deepEqual(execDeadlines(10_000, 0), { termAt: 9550, killAt: 9550 });
    assert.deepEqual(execDeadlines(10_000, 300, 0), { termAt: 9450, killAt: 9750 });
    assert.deepEqual(execDeadlines(10_000, 300, 500), { termAt: 8950, killAt: 9250 });
  });
});
