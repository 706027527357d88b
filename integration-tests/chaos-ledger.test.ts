// `enclave-elect cluster chaos --demo` end to end on the real image: its own
// cluster of 5 peers that each run the ledger writer while they lead, plus the
// fenced ledger; 2 minutes of the classic kinds (kill, stop, pause, partition,
// restart, enclave-restart; half of them aimed at the leader, i.e. the writer)
// on a fixed seed. Every invariant holds, "no stale append accepted" among
// them, the ledger accepted appends, and the saved report re-checks the same.
// The counts and the --exec stop margins are printed. Everything carries
// io.enclave-elect.test=<runId> and is swept afterwards.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryEvent } from '../src/chaos/history.ts';
import type { ChaosReport } from '../src/chaos/report.ts';
import { CLASSIC_KINDS } from '../src/chaos/schedule.ts';
import { STOP_MARGIN_MS } from '../src/peer/exec/exec-timing.ts';
import { chaosRunSuite } from './support/chaos-run.ts';

const SEED = 'chaos-ledger-1';
const STALE_VERDICT = 'no stale append accepted';

/** The --exec children stopped because the window was ending: how long before its end each was seen gone. */
function execMargins(events: HistoryEvent[]): number[] {
  return events
    .filter((e) => e.event === 'exec.exited' && e.why === 'window-ending' && e.windowLeftMs !== undefined)
    .map((e) => Math.round(e.windowLeftMs!))
    .sort((a, b) => a - b);
}

describe('cluster chaos --demo (real engine, real peers, the fenced ledger)', { timeout: 900_000 }, () => {
  const chaos = chaosRunSuite('ledger', 'chaos removes the cluster it started, ledger included');

  it('pauses, partitions and kills the writing leader for 2 minutes: no stale append accepted', async (t) => {
    const { report } = await chaos.run<ChaosReport>(t, {
      duration: '2m',
      interval: '2s',
      seed: SEED,
      faults: CLASSIC_KINDS,
      extra: ['--demo'],
    });
    const appends = report.summary.appends;
    const margins = execMargins(report.history.events);
    const late = margins.filter((m) => m < STOP_MARGIN_MS);
    const leaderFaults = report.faults.filter((f) => f.target === f.leaderAtStart);
    t.diagnostic(
      `faults ${report.summary.faultsInjected} (${Object.entries(report.summary.faultsByKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}; ${leaderFaults.length} on the leader); appends attempted ${appends?.attempted}, ` +
        `accepted ${appends?.accepted}, rejected ${appends?.rejected} (stale or expired ${appends?.staleRejected})`,
    );
    t.diagnostic(
      `--exec stops at window end: ${margins.length}, ${late.length} under ${STOP_MARGIN_MS} ms; window left (ms): ${margins.join(' ') || 'none'}`,
    );

    const stale = report.verdicts.find((v) => v.name === STALE_VERDICT);
    assert.ok(stale?.ok, `the verdict "${STALE_VERDICT}" is reported and holds: ${stale?.summary}`);
    assert.ok(appends && appends.accepted >= 1, 'the writing leaders got appends accepted');
    for (const kind of ['pause', 'partition', 'kill'])
      assert.ok((report.summary.faultsByKind[kind] ?? 0) >= 1, `no ${kind} injected`);
    assert.ok(leaderFaults.length >= 1, 'at least one fault hit the writing leader');

    // The saved history checks the same way again, the ledger's verdict included.
    assert.match(await chaos.recheck(), /PASS\s+no stale append accepted/);
    chaos.passed();
  });
});
