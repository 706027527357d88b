// `enclave-elect cluster chaos` end to end on the real image: its own cluster
// of 5 peers, 2 minutes of every fault kind on a fixed seed, zero invariant
// violations, both report files written, and report.html rendered in headless
// Chromium with a screenshot. Chromium is required: scripts/provision-ci.sh
// installs it, and the screenshot test fails, saying so, where it is missing.
// Everything carries io.enclave-elect.test=<runId> and is swept afterwards.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CLASSIC_KINDS } from '../src/chaos/schedule.ts';
import { chaosRunSuite } from './support/chaos-run.ts';

const SEED = 'chaos-it-1';
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

interface Report {
  ok: boolean;
  seed: string;
  verdicts: { name: string; ok: boolean; summary: string }[];
  summary: { faultsInjected: number; faultsByKind: Record<string, number>; failovers: { count: number } };
  faults: { start: string; heal: string | null }[];
  history: { events: unknown[]; observations: unknown[] };
}

describe('cluster chaos (real engine, real peers)', { timeout: 900_000 }, () => {
  const chaos = chaosRunSuite('chaos', 'chaos removes the cluster it started');

  it('injects every fault kind for 2 minutes with no invariant violated, and reports it', async (t) => {
    const { result, report } = await chaos.run<Report>(t, {
      duration: '2m',
      interval: '3s',
      seed: SEED,
      faults: CLASSIC_KINDS,
    });
    const dir = chaos.dir();
    assert.equal(report.ok, true);
    assert.equal(report.seed, SEED);
    assert.match(result.stdout, /all invariants hold/);
    for (const kind of CLASSIC_KINDS)
      assert.ok((report.summary.faultsByKind[kind] ?? 0) >= 1, `no ${kind} injected`);
    assert.ok(report.faults.every((f) => f.heal !== null && Date.parse(f.heal) >= Date.parse(f.start)));
    assert.ok(report.summary.failovers.count >= 1, 'at least one failover measured');
    assert.ok(report.history.events.length > 0 && report.history.observations.length > 0);
    assert.ok((await stat(join(dir, 'report.html'))).size > 2000);

    // The saved history checks the same way again.
    await chaos.recheck();
    chaos.passed();
  });

  it('renders report.html in headless Chromium (screenshot)', async () => {
    assert.ok(
      CHROMIUM,
      'chromium is not installed: run scripts/provision-ci.sh (as root), or apt-get install chromium fonts-liberation',
    );
    const dir = chaos.dir();
    const screenshot = join(dir, 'report.png');
    const profile = await mkdtemp(join(tmpdir(), 'chaos-chromium-'));
    try {
      await promisify(execFile)(
        CHROMIUM,
        [
          '--headless',
          // CI runs as root, and Chromium refuses to start as root with its sandbox on.
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          `--user-data-dir=${profile}`,
          '--window-size=1280,1600',
          `--screenshot=${screenshot}`,
          `file://${join(dir, 'report.html')}`,
        ],
        { timeout: 120_000 },
      );
      const png = await readFile(screenshot);
      assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
      assert.ok(png.length > 20_000, `screenshot of ${png.length} bytes looks blank`);
      if (process.env.CHAOS_SCREENSHOT)
        await promisify(execFile)('cp', [screenshot, process.env.CHAOS_SCREENSHOT]);
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
  });
});
