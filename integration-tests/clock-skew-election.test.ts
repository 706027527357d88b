// Clock skew against the real election (docs/chaos.md, "What holds under a
// skew of s on peers"): the documented bound is |s| < the leader margin
// (200 ms at the 2 s lease). Three real peers, every one armed with
// libfaketime. Inside the bound, a leader skewed +150 ms hands over (it is
// paused until its lease runs out) and the log-based "no overlapping leaders"
// verdict holds. Beyond it, a leader skewed +2.5 s loses the lead with no fault
// at all (its lease looks over before it renews), and the verdict reports an
// overlap that the peer's logged times alone create: corrected by the offset,
// the same intervals do not overlap. Everything carries the test label.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { History, HistoryEvent } from '../src/chaos/history.ts';
import { overlappingLeaders } from '../src/chaos/invariants.ts';
import { collectLogEvents } from '../src/chaos/recording.ts';
import { armClocks } from '../src/orchestrator/clock-fault.ts';
import { requireCluster } from '../src/orchestrator/cluster-inventory.ts';
import { runBinary } from '../test/support/run-cli.ts';
import { docker, newRunId, sweep, TEST_LABEL } from './support/docker.ts';
import { buildProjectImage, TEST_IMAGE } from './support/image.ts';

const IMAGE = process.env.CLUSTER_TEST_IMAGE ?? TEST_IMAGE;
const INSIDE_MS = 150;
const BEYOND_MS = 2500;

interface Report {
  agreed: boolean;
  leader: string | null;
  epoch: number | null;
}

describe('clock skew against the election: inside and beyond the bound', { timeout: 600_000 }, () => {
  const runId = newRunId();
  const cluster = `it-skew-${runId}`;
  const env = { ENCLAVE_ELECT_EXTRA_LABELS: `${TEST_LABEL}=${runId}` };
  const cli = (...args: string[]) => runBinary(['cluster', ...args, '--name', cluster], env);
  const status = async (): Promise<Report> => JSON.parse((await cli('status', '--json')).stdout);
  const startedAt = Date.now();

  async function until(what: string, ok: (r: Report) => boolean, timeoutMs: number): Promise<Report> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const report = await status();
      if (ok(report)) return report;
      if (Date.now() > deadline)
        assert.fail(`${what} within ${timeoutMs} ms; last ${JSON.stringify(report)}`);
      await sleep(500);
    }
  }

  /** The cluster's leader log events so far, as the chaos checker reads them. */
  async function history(events?: HistoryEvent[]): Promise<History> {
    const containers = await requireCluster(docker, { kind: 'name', name: cluster });
    return {
      leaseMs: 2000,
      startedAt,
      endedAt: Date.now(),
      events: events ?? (await collectLogEvents(docker, containers, startedAt)),
      faults: [],
      observations: [],
    };
  }

  before(async () => {
    if (IMAGE === TEST_IMAGE) await buildProjectImage();
    const up = await cli(
      'up',
      '--peers',
      '3',
      '--image',
      IMAGE,
      '--timeout',
      '60s',
      '--label',
      `${TEST_LABEL}=${runId}`,
    );
    assert.equal(up.code, 0, up.stderr);
    const armed = await armClocks(
      docker,
      { kind: 'name', name: cluster },
      { progress: () => undefined, extraLabels: { [TEST_LABEL]: runId } },
    );
    assert.equal(armed.length, 3, 'every peer armed once');
    await until('the armed peers agree', (r) => r.agreed, 60_000);
  });

  after(async () => {
    await cli('down');
    await sweep(runId);
  });

  it(`inside the bound (+${INSIDE_MS} ms on the leader): a handover logs no overlap`, async (t) => {
    const before = await until('agreement', (r) => r.agreed && r.leader !== null, 30_000);
    const skewed = await cli('clock', before.leader!, '--offset', `+${INSIDE_MS}ms`);
    assert.equal(skewed.code, 0, skewed.stderr);
    // A paused leader stops acting when its own window ends; the enclave grants the next epoch after the lease.
    assert.equal((await cli('pause', before.leader!)).code, 0);
    await sleep(4000);
    assert.equal((await cli('unpause', before.leader!)).code, 0);
    const after = await until(
      'a new leader agreed',
      (r) => r.agreed && (r.epoch ?? 0) > (before.epoch ?? 0),
      30_000,
    );
    assert.equal((await cli('clock', before.leader!, '--clear')).code, 0);
    t.diagnostic(
      `${before.leader} (epoch ${before.epoch}, +${INSIDE_MS} ms) -> ${after.leader} (epoch ${after.epoch})`,
    );
    const verdict = overlappingLeaders(await history());
    assert.equal(verdict.ok, true, verdict.summary);
  });

  it(`beyond the bound (+${BEYOND_MS} ms on the leader): it loses the lead with no fault, and the logs show an overlap that did not happen`, async (t) => {
    const before = await until('agreement', (r) => r.agreed && r.leader !== null, 30_000);
    const leader = before.leader!;
    const skewFrom = Date.now();
    const skewed = await cli('clock', leader, '--offset', `+${BEYOND_MS}ms`);
    assert.equal(skewed.code, 0, skewed.stderr);
    // Its lease (2 s) now looks over before its next renewal: the lead moves with no fault injected.
    const after = await until(
      'the epoch moves on without any fault',
      (r) => (r.epoch ?? 0) > (before.epoch ?? 0),
      20_000,
    );
    await sleep(3000);
    const events = (await history()).events;
    assert.equal((await cli('clock', leader, '--clear')).code, 0);
    t.diagnostic(
      `${leader} (epoch ${before.epoch}, +${BEYOND_MS} ms) -> epoch ${after.epoch}, ${after.leader}`,
    );
    const naive = overlappingLeaders(await history(events));
    t.diagnostic(`log-based verdict: ${naive.summary}`);
    assert.equal(naive.ok, false, 'the skewed leader’s logged release lies after its successor began');
    // The skewed peer's lines logged after the skew took effect carry its clock: true time is BEYOND_MS earlier.
    const corrected = events.map((e) =>
      e.peer === leader && e.t >= skewFrom + BEYOND_MS
        ? {
            ...e,
            t: e.t - BEYOND_MS,
            ...(e.stoppedAt === undefined ? {} : { stoppedAt: e.stoppedAt - BEYOND_MS }),
          }
        : e,
    );
    const truth = overlappingLeaders(await history(corrected.sort((a, b) => a.t - b.t)));
    assert.equal(truth.ok, true, `in true time: ${truth.summary}`);
  });
});
