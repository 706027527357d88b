// The invariant "no stale append accepted", on hand-made histories: a ledger
// that accepted an append older than one it had accepted, from a leader that
// was not acting, after its successor began acting, or after its lease, is
// caught; the fence doing its job (refusals, late appends within the lease) is not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventFromLogLine, type History, type HistoryEvent } from '../../src/chaos/history.ts';
import { checkHistory, staleAppends } from '../../src/chaos/invariants.ts';
import { appendCounts, ledgerAppends } from '../../src/chaos/ledger-appends.ts';
import { describeOffending } from '../../src/chaos/report-html.ts';

const T0 = 1_800_000_000_000;
const LEASE = 2000;

function history(events: HistoryEvent[]): History {
  return {
    leaseMs: LEASE,
    startedAt: T0,
    endedAt: T0 + 60_000,
    events: [{ t: T0 - 5000, peer: 'ledger', event: 'ledger.listening' }, ...events],
    faults: [],
    observations: [],
  };
}

const acquired = (peer: string, t: number, epoch: number): HistoryEvent => ({
  t: T0 + t,
  peer,
  event: 'leader.acquired',
  epoch,
});
const released = (peer: string, t: number, epoch: number, stoppedAt = t): HistoryEvent => ({
  t: T0 + t,
  peer,
  event: 'leader.released',
  epoch,
  reason: 'expired',
  stoppedAt: T0 + stoppedAt,
});
let index = 0;
/** The ledger accepted `leader`'s token (epoch, seq) at t; its lease ends `leaseLeft` ms later. */
const append = (t: number, leader: string, epoch: number, seq: number, leaseLeft = 1500): HistoryEvent => ({
  t: T0 + t,
  peer: 'ledger',
  event: 'ledger.accepted',
  index: ++index,
  leader,
  epoch,
  seq,
  leaseEnd: T0 + t + leaseLeft,
});
const refused = (t: number, code: string, epoch: number, seq: number): HistoryEvent => ({
  t: T0 + t,
  peer: 'ledger',
  event: 'ledger.rejected',
  code,
  epoch,
  seq,
  newest: { epoch: epoch + 1, seq: 0 },
});

/** peer-1 leads epoch 1 from 0 to 5 s (window end), peer-2 epoch 2 from 6 s on. */
const twoLeaders = [acquired('peer-1', 0, 1), released('peer-1', 5400, 1, 5000), acquired('peer-2', 6000, 2)];

describe('invariant: no stale append accepted', () => {
  it('is violated by an append older than one the ledger had already accepted', () => {
    const v = staleAppends(
      history([
        ...twoLeaders,
        append(1000, 'peer-1', 1, 3),
        append(6500, 'peer-2', 2, 0),
        append(6600, 'peer-1', 1, 9),
      ]),
    );
    assert.equal(v.ok, false);
    assert.equal(v.offending.length >= 1, true);
    const first = v.offending[0] as { why: string; append: HistoryEvent };
    assert.match(first.why, /older than \(epoch 2, seq 0\)/);
    assert.equal(first.append.epoch, 1);
  });

  it('is violated by an append accepted after a successor began acting, even before the successor wrote', () => {
    const v = staleAppends(
      history([...twoLeaders, append(1000, 'peer-1', 1, 3), append(6300, 'peer-1', 1, 9)]),
    );
    assert.equal(v.ok, false);
    assert.match((v.offending[0] as { why: string }).why, /peer-2 had acted as leader \(epoch 2\) since/);
  });

  it('is violated by an append from a peer that never acted as leader of that epoch', () => {
    const v = staleAppends(history([...twoLeaders, append(2000, 'peer-3', 1, 0)]));
    assert.equal(v.ok, false);
    assert.match((v.offending[0] as { why: string }).why, /peer-3 was not acting as leader of epoch 1/);
  });

  it('is violated by an append accepted before its leader began acting', () => {
    const v = staleAppends(history([...twoLeaders, append(5900, 'peer-2', 2, 0)]));
    assert.equal(v.ok, false);
  });

  it('is violated by an append accepted after its token lease ended', () => {
    const v = staleAppends(history([...twoLeaders, append(3000, 'peer-1', 1, 2, -300)]));
    assert.equal(v.ok, false);
    assert.match((v.offending[0] as { why: string }).why, /lease ended 300 ms before/);
  });

  it('holds when appends follow the leaders in order and the stale ones were refused', () => {
    const h = history([
      ...twoLeaders,
      append(1000, 'peer-1', 1, 3),
      append(4000, 'peer-1', 1, 7),
      append(6500, 'peer-2', 2, 0),
      refused(6600, 'E_TOKEN_STALE', 1, 9),
      refused(9000, 'E_TOKEN_EXPIRED', 1, 9),
      append(9500, 'peer-2', 2, 8),
    ]);
    const v = staleAppends(h);
    assert.equal(v.ok, true, JSON.stringify(v.offending));
    assert.match(v.summary, /4 of 6 appends accepted, 2 rejected \(2 stale or expired\)/);
    assert.deepEqual(appendCounts(ledgerAppends(h)!), {
      attempted: 6,
      accepted: 4,
      rejected: 2,
      staleRejected: 2,
    });
  });

  it('holds for a late append past the leader window but within its lease, before any successor acted', () => {
    // A paused leader wakes after its window (5 s) and its write lands at 5.15 s: nobody else could lead yet.
    const v = staleAppends(history([...twoLeaders, append(5150, 'peer-1', 1, 7, 50)]));
    assert.equal(v.ok, true, JSON.stringify(v.offending));
    assert.match(v.summary, /1 after its leader's window, within its lease/);
  });

  it('tolerates 50 ms of clock difference at the edges of an interval', () => {
    const v = staleAppends(
      history([...twoLeaders, append(-30, 'peer-1', 1, 0), append(6040, 'peer-1', 1, 9, 10)]),
    );
    assert.equal(v.ok, true, JSON.stringify(v.offending));
  });

  it('is checked with the others only when the run recorded a ledger', () => {
    const withLedger = checkHistory(history([...twoLeaders, append(1000, 'peer-1', 1, 0)]));
    assert.ok(withLedger.some((v) => v.name === 'no stale append accepted'));
    const { events: _, ...rest } = history([]);
    const without = checkHistory({ ...rest, events: twoLeaders });
    assert.ok(!without.some((v) => v.name === 'no stale append accepted'));
  });

  it("reads the ledger's log lines into history events", () => {
    const line =
      '{"level":30,"time":"2026-11-27T16:00:00.123Z","component":"ledger","event":"ledger.rejected","code":"E_TOKEN_STALE","epoch":3,"seq":4,"newest":{"epoch":4,"seq":0}}';
    assert.deepEqual(eventFromLogLine(line, 'ledger', 0), {
      t: Date.parse('2026-11-27T16:00:00.123Z'),
      peer: 'ledger',
      event: 'ledger.rejected',
      epoch: 3,
      seq: 4,
      code: 'E_TOKEN_STALE',
      newest: { epoch: 4, seq: 0 },
    });
    const ok =
      '{"time":"2026-11-27T16:00:00.200Z","event":"ledger.accepted","index":7,"epoch":4,"seq":1,"leader":"peer-2","leaseEnd":1800000001000}';
    assert.deepEqual(eventFromLogLine(ok, 'ledger', 0), {
      t: Date.parse('2026-11-27T16:00:00.200Z'),
      peer: 'ledger',
      event: 'ledger.accepted',
      epoch: 4,
      leader: 'peer-2',
      seq: 1,
      leaseEnd: 1800000001000,
      index: 7,
    });
  });
});

describe('the --exec margin in a history', () => {
  it("reads an exec.exited line's window left and why", () => {
    const line =
      '{"time":"2026-11-27T16:00:01.000Z","peer":"peer-2","event":"exec.exited","code":null,"signal":"SIGTERM","why":"window-ending","windowLeftMs":612}';
    const e = eventFromLogLine(line, 'x', 0);
    assert.deepEqual(
      [e?.event, e?.peer, e?.why, e?.windowLeftMs],
      ['exec.exited', 'peer-2', 'window-ending', 612],
    );
  });
});

describe('a stale append in report.html', () => {
  it('is told in one sentence with its leader, token order, time and why', () => {
    const v = staleAppends(history([...twoLeaders, append(6300, 'peer-1', 1, 9)]));
    assert.equal(
      describeOffending(v.name, v.offending[0], T0),
      "the ledger accepted peer-1's append (epoch 1, seq 9) at +6.3s: peer-2 had acted as leader (epoch 2) since 300 ms before the accept.",
    );
  });
});
