import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { History, HistoryEvent } from '../../src/chaos/history.ts';
import { agreementAfterHeals, checkHistory } from '../../src/chaos/invariants.ts';
import { buildReport, checkSavedHistory } from '../../src/chaos/report.ts';
import { escapeHtml, renderReportHtml } from '../../src/chaos/report-html.ts';
import type { ChaosRun } from '../../src/chaos/run-chaos.ts';
import { runBinary } from '../support/run-cli.ts';

const T0 = 1_800_000_000_000;
const ev = (peer: string, t: number, event: string, extra: Partial<HistoryEvent> = {}): HistoryEvent => ({
  t: T0 + t,
  peer,
  event,
  ...extra,
});
const agreeRound = (t: number, leader: string, epoch: number) =>
  ['a', 'b', 'c'].map((peer) => ({ t: T0 + t, peer, live: true, leader, epoch, verified: true }));

/** A run of three peers: a leads epoch 1, is killed at 10 s, b takes over at epoch 2, a restarts and agrees. */
function goodHistory(): History {
  return {
    peers: ['a', 'b', 'c'],
    leaseMs: 2000,
    startedAt: T0,
    endedAt: T0 + 30_000,
    events: [
      ev('a', 100, 'certificate.accepted', { epoch: 1, leader: 'a' }),
      ev('b', 110, 'certificate.accepted', { epoch: 1, leader: 'a' }),
      ev('c', 120, 'certificate.accepted', { epoch: 1, leader: 'a' }),
      ev('a', 150, 'leader.acquired', { epoch: 1 }),
      ev('b', 12_100, 'certificate.accepted', { epoch: 2, leader: 'b' }),
      ev('c', 12_150, 'certificate.accepted', { epoch: 2, leader: 'b' }),
      ev('b', 12_200, 'leader.acquired', { epoch: 2 }),
      ev('a', 13_700, 'certificate.accepted', { epoch: 2, leader: 'b' }),
    ],
    faults: [
      {
        kind: 'kill',
        target: 'a',
        start: T0 + 10_000,
        heal: T0 + 13_000,
        endsProcess: true,
        processEndedAt: T0 + 10_020,
        leaderAtStart: 'a',
        epochAtStart: 1,
        survivors: ['b', 'c'],
        note: 'SIGKILL, then start',
      },
    ],
    observations: [...agreeRound(9000, 'a', 1), ...agreeRound(14_500, 'b', 2)],
    exits: [{ t: T0 + 10_020, name: 'a', container: 'x-a', exitCode: 137 }],
  };
}

function run(history: History): ChaosRun {
  return {
    seed: 'test',
    schedule: [],
    skipped: [],
    history,
    verdicts: checkHistory(history),
    failovers: [],
    failoverStats: { count: 0, incomplete: 0, p50Ms: null, p99Ms: null, maxMs: null },
    cleanup: [],
    interrupted: false,
  };
}

const meta = { cluster: 'x', image: null, durationMs: 30_000, intervalMs: 5000, faults: ['kill'] };

describe('checking a recorded run', () => {
  it('passes a clean run and measures agreement from the restarted peer’s log', () => {
    const h = goodHistory();
    assert.ok(
      checkHistory(h).every((v) => v.ok),
      JSON.stringify(checkHistory(h).filter((v) => !v.ok)),
    );
    assert.deepEqual(agreementAfterHeals(h), [
      { heal: T0 + 13_000, tookMs: 700, observedMs: 1500, bootMs: 0 },
    ]);
  });

  it('does not take a restarted peer’s acceptance from before its kill as evidence', () => {
    const h = goodHistory();
    h.events = h.events.filter((e) => !(e.peer === 'a' && e.epoch === 2));
    h.events.push(ev('a', 9500, 'certificate.accepted', { epoch: 2, leader: 'b' }));
    assert.equal(agreementAfterHeals(h)[0]?.tookMs, 1500);
  });

  it('counts a restarted peer from its peer.started, and reports the boot time', () => {
    const h = goodHistory();
    h.events = h.events.filter((e) => !(e.peer === 'a' && e.epoch === 2));
    h.events.push(
      ev('a', 16_000, 'peer.started'),
      ev('a', 16_900, 'certificate.accepted', { epoch: 2, leader: 'b' }),
    );
    h.observations = [...agreeRound(9000, 'a', 1), ...agreeRound(17_500, 'b', 2)];
    assert.deepEqual(agreementAfterHeals(h), [
      { heal: T0 + 13_000, tookMs: 900, observedMs: 4500, bootMs: 3000 },
    ]);
    assert.ok(checkHistory(h).every((v) => v.ok));
    // Up at 16 s but agreeing only 4.1 s later: too slow, whatever the boot took.
    h.events.push(ev('a', 20_100, 'certificate.accepted', { epoch: 2, leader: 'b' }));
    h.observations.push(...agreeRound(20_200, 'b', 2));
    h.observations = h.observations.filter((o) => o.t !== T0 + 17_500);
    assert.equal(agreementAfterHeals(h)[0]?.tookMs, 4100);
    assert.equal(checkHistory(h).find((v) => v.name.startsWith('agreement'))?.ok, false);
  });

  it('does not count peers that agreed all along as disagreeing when the restarted one is listed first', () => {
    const h = goodHistory();
    h.observations.splice(
      3,
      0,
      {
        t: T0 + 13_500,
        from: T0 + 13_100,
        peer: 'a',
        live: true,
        leader: null,
        epoch: null,
        verified: false,
      },
      ...agreeRound(13_500, 'b', 2)
        .slice(1)
        .map((o) => ({ ...o, from: T0 + 13_100 })),
    );
    assert.equal(agreementAfterHeals(h)[0]?.tookMs, 700);
  });

  it('does not let a round begun before the heal confirm agreement', () => {
    const h = goodHistory();
    // Read from 12.5 s (a still down, not live) to 13.1 s: the others agree, but it says nothing about a.
    h.observations.splice(
      3,
      0,
      {
        t: T0 + 13_100,
        from: T0 + 12_500,
        peer: 'a',
        live: false,
        leader: null,
        epoch: null,
        verified: false,
      },
      ...agreeRound(13_100, 'b', 2)
        .slice(1)
        .map((o) => ({ ...o, from: T0 + 12_500 })),
    );
    assert.equal(agreementAfterHeals(h)[0]?.observedMs, 1500);
  });

  it('fails on a container exit no fault explains', () => {
    const h = goodHistory();
    h.exits!.push({ t: T0 + 20_000, name: 'c', container: 'x-c', exitCode: 1 });
    const v = checkHistory(h).find((x) => x.name === 'no unexpected process exits')!;
    assert.equal(v.ok, false);
    assert.match(v.summary, /c \(code 1\)/);
  });

  it('fails on a certificate rejected as invalid, but not on an unknown key id', () => {
    const h = goodHistory();
    h.events.push(ev('c', 5000, 'certificate.rejected', { reason: 'E_CERT_UNKNOWN_KID' }));
    assert.ok(checkHistory(h).every((v) => v.ok));
    h.events.push(
      ev('c', 6000, 'certificate.rejected', { reason: 'E_CERT_INVALID', error: 'bad signature' }),
    );
    const v = checkHistory(h).find((x) => x.name === 'no certificate rejected as invalid')!;
    assert.equal(v.ok, false);
    assert.equal(v.offending.length, 1);
  });

  it('ends a SIGTERM’d leader’s interval when its process died, not when the fault began', () => {
    const h = goodHistory();
    h.faults[0]!.processEndedAt = T0 + 12_300; // a still led when b acquired at 12.2 s
    const v = checkHistory(h).find((x) => x.name === 'no overlapping leaders')!;
    assert.equal(v.ok, false);
    assert.equal((v.offending[0] as { overlapMs: number }).overlapMs, 100);
  });
});

describe('report', () => {
  it('has the seed, faults with start and heal, verdicts and the history', () => {
    const report = buildReport(run(goodHistory()), meta);
    assert.equal(report.ok, true);
    assert.equal(report.seed, 'test');
    assert.equal(report.faults[0]?.heal, new Date(T0 + 13_000).toISOString());
    assert.equal(report.faults[0]?.agreementMs, 700);
    assert.equal(report.summary.failovers.count, 1);
    assert.equal(report.summary.failovers.p50Ms, 2150);
    assert.equal(report.leaderIntervals.length, 2);
  });

  it('renders one self-contained page: verdict banner, lanes, no external assets', () => {
    const html = renderReportHtml(buildReport(run(goodHistory()), meta));
    assert.match(html, /All 6 invariants hold over 1 injected faults/);
    assert.match(html, /<svg/);
    for (const lane of ['a', 'b', 'c', 'enclave']) assert.match(html, new RegExp(`class="lane">${lane}<`));
    assert.equal((html.match(/fill="#2ca02c"/g) ?? []).length, 3); // legend + two leader intervals
    assert.doesNotMatch(html, /<script|src="http|href="http|@import/);
  });

  it('says which invariant failed and how to replay', () => {
    const h = goodHistory();
    h.events.push(ev('c', 5000, 'certificate.accepted', { epoch: 1, leader: 'c' }));
    const html = renderReportHtml(buildReport(run(h), meta));
    assert.match(html, /INVARIANT VIOLATED: one leader per epoch\. Replay with --seed test/);
    assert.match(html, /Offending events/);
    assert.match(html, /epoch 1 was certified for a and c\./);
  });

  it('tells an overlap in words, with times from the start of the run', () => {
    const h = goodHistory();
    h.faults[0]!.processEndedAt = T0 + 12_300;
    const html = renderReportHtml(buildReport(run(h), meta));
    assert.match(
      html,
      /a acted as leader of epoch 1 from \+150ms until \+12\.3s \(process-ended\), while b acted as leader of epoch 2 from \+12\.2s: 100 ms with two leaders\./,
    );
  });

  it('charts failure detection: a dot per kill at its latency, a bar per live member declared dead', () => {
    const h = goodHistory();
    h.events.push(
      ev('b', 12_500, 'member.dead', { member: 'a', incarnation: 1, from: 'b' }),
      ev('c', 12_600, 'member.dead', { member: 'a', incarnation: 1, from: 'b' }),
      ev('a', 20_000, 'member.dead', { member: 'c', incarnation: 3, from: 'b' }),
    );
    const report = buildReport(run(h), meta);
    assert.deepEqual(report.summary.detection, {
      detected: 1,
      undetected: 0,
      p50Ms: 2500,
      maxMs: 2500,
      falsePositives: 1,
    });
    const html = renderReportHtml(report);
    assert.match(html, /aria-label="failure detection"/);
    assert.match(html, /<circle [^>]*><title>#1 kill a: declared dead by b after 2\.5s<\/title>/);
    assert.match(
      html,
      /<title>\+20\.0s: c \(incarnation 3\) declared dead by b while running and reachable; 1 peer\(s\) logged it<\/title>/,
    );
    assert.match(html, /1 false positive\(s\)/);
  });

  it('says so when there was nothing to detect and no false positive', () => {
    const h = goodHistory();
    h.faults = [];
    const html = renderReportHtml(buildReport(run(h), meta));
    assert.match(html, /No kill or stop faults to detect, and no live member declared dead\./);
  });

  it('escapes what peers wrote', () => {
    assert.equal(escapeHtml('<b>"x" & \'y\'</b>'), '&#60;b&#62;&#34;x&#34; &#38; &#39;y&#39;&#60;/b&#62;');
  });
});

describe('--check FILE', () => {
  it('re-checks a saved report and a bare history; exit 1 on a violation', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chaos-check-'));
    try {
      const good = join(dir, 'report.json');
      await writeFile(good, JSON.stringify(buildReport(run(goodHistory()), meta)));
      const checked = await checkSavedHistory(good);
      assert.equal(checked.seed, 'test');
      assert.ok(checked.verdicts.every((v) => v.ok));

      const bad = goodHistory();
      bad.events.push(ev('c', 12_250, 'leader.acquired', { epoch: 2 }));
      const badFile = join(dir, 'history.json');
      await writeFile(badFile, JSON.stringify(bad));
      const ok = await runBinary(['cluster', 'chaos', '--check', good]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /PASS {2}one leader per epoch/);
      const failed = await runBinary(['cluster', 'chaos', '--check', badFile]);
      assert.equal(failed.code, 1, failed.stderr);
      assert.match(failed.stdout, /FAIL {2}no overlapping leaders/);

      const notHistory = join(dir, 'other.json');
      await writeFile(notHistory, '{"hello": 1}');
      const usage = await runBinary(['cluster', 'chaos', '--check', notHistory]);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /neither a chaos report/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
