// One `cluster chaos --peers 5` run of an integration test: its own cluster
// (io.enclave-elect.test=<runId> on everything it creates) and report
// directory; afterwards the run's resources are swept and must already be gone,
// and the report is removed only when the test passed (a failed run's report is
// the evidence, and its path is in the failure message).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { type CliResult, runBinary } from '../../test/support/run-cli.ts';
import { newRunId, sweep, TEST_LABEL } from './docker.ts';
import { buildProjectImage, TEST_IMAGE } from './image.ts';

/** CHAOS_TEST_IMAGE (or CLUSTER_TEST_IMAGE) runs a prebuilt image, e.g. of HEAD: `git archive HEAD | docker build -t enclave-elect:head -`. */
export const CHAOS_IMAGE = process.env.CHAOS_TEST_IMAGE ?? process.env.CLUSTER_TEST_IMAGE ?? TEST_IMAGE;

export interface ChaosSpec {
  duration: string;
  interval: string;
  seed: string;
  faults: readonly string[];
  /** More flags, e.g. --demo. */
  extra?: string[];
}

interface Verdicts {
  verdicts: { name: string; ok: boolean; summary: string }[];
}

/** Registers the suite's before/after hooks; call inside `describe`. */
export function chaosRunSuite(prefix: string, leftBehind: string) {
  const runId = newRunId();
  const cluster = `it-${prefix}-${runId}`;
  let dir = '';
  let passed = false;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), `${prefix}-it-`));
    if (CHAOS_IMAGE === TEST_IMAGE) await buildProjectImage();
  });

  after(async () => {
    const left = await sweep(runId);
    if (passed) await rm(dir, { recursive: true, force: true });
    assert.deepEqual(left.containers, [], leftBehind);
  });

  return {
    /** The report directory (set once the suite started). */
    dir: () => dir,
    passed: () => {
      passed = true;
    },
    /**
     * Run chaos with its own 5-peer cluster, print its summary as diagnostics,
     * and fail, naming the seed and the kept report, on any failed verdict or a
     * non-zero exit.
     */
    async run<R extends Verdicts>(
      t: TestContext,
      spec: ChaosSpec,
    ): Promise<{ result: CliResult; report: R }> {
      const result = await runBinary([
        'cluster',
        'chaos',
        ...(spec.extra ?? []),
        ...['--peers', '5', '--name', cluster, '--duration', spec.duration, '--interval', spec.interval],
        ...['--seed', spec.seed, '--faults', spec.faults.join(','), '--image', CHAOS_IMAGE],
        ...['--report', dir, '--label', `${TEST_LABEL}=${runId}`],
      ]);
      for (const line of result.stdout.trim().split('\n')) t.diagnostic(line);
      const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as R;
      const failed = report.verdicts.filter((v) => !v.ok);
      assert.deepEqual(
        failed,
        [],
        `seed ${spec.seed}, report kept in ${dir}: ${result.stdout}\n${result.stderr.slice(-3000)}`,
      );
      assert.equal(result.code, 0, result.stderr.slice(-3000));
      return { result, report };
    },
    /** The saved history checks the same way again; its summary. */
    async recheck(): Promise<string> {
      const recheck = await runBinary(['cluster', 'chaos', '--check', join(dir, 'report.json')]);
      assert.equal(recheck.code, 0, recheck.stdout + recheck.stderr);
      return recheck.stdout;
    },
  };
}
