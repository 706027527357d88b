// `enclave-elect cluster chaos` end to end on the real image with every new
// kind: its own cluster of 5 peers, 3 minutes of the network kinds (delay,
// random and bursty loss, duplication, corruption, one-way, majorities ring,
// bridge) and the host kinds (CPU starvation of a peer, clock offset or strobe,
// a host-wide CPU hog) on a fixed seed, zero invariant violations, and
// no fault helper, qdisc or iptables rule left afterwards. Everything carries
// io.enclave-elect.test=<runId> and is swept afterwards.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HOST_KINDS, NETWORK_KINDS } from '../src/chaos/schedule.ts';
import { listHelpers } from '../src/orchestrator/fault-helper.ts';
import { runBinary } from '../test/support/run-cli.ts';
import { docker, newRunId, sweep, TEST_LABEL } from './support/docker.ts';
import { buildProjectImage, TEST_IMAGE } from './support/image.ts';

const IMAGE = process.env.CHAOS_TEST_IMAGE ?? process.env.CLUSTER_TEST_IMAGE ?? TEST_IMAGE;
const SEED = 'chaos-net-1';
const NEW_KINDS = [...NETWORK_KINDS, ...HOST_KINDS];

interface Report {
  ok: boolean;
  verdicts: { name: string; ok: boolean; summary: string }[];
  summary: { faultsInjected: number; faultsByKind: Record<string, number>; detection: object };
  faults: { kind: string; start: string; heal: string | null; note: string }[];
}

describe('cluster chaos with every new kind (real engine, real peers)', { timeout: 900_000 }, () => {
  const runId = newRunId();
  const cluster = `it-chaosnet-${runId}`;
  let dir = '';
  let passed = false;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chaos-net-it-'));
    if (IMAGE === TEST_IMAGE) await buildProjectImage();
  });

  after(async () => {
    const left = await sweep(runId);
    if (passed) await rm(dir, { recursive: true, force: true });
    assert.deepEqual(left.containers, [], 'chaos removes the cluster and the helpers it started');
  });

  it('injects every new kind for 3 minutes with no invariant violated', async (t) => {
    const result = await runBinary([
      'cluster',
      'chaos',
      '--peers',
      '5',
      '--name',
      cluster,
      '--duration',
      '3m',
      '--interval',
      '3s',
      '--seed',
      SEED,
      '--faults',
      NEW_KINDS.join(','),
      '--image',
      IMAGE,
      '--report',
      dir,
      '--label',
      `${TEST_LABEL}=${runId}`,
    ]);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as Report;
    for (const line of result.stdout.trim().split('\n')) t.diagnostic(line);
    t.diagnostic(`failure detection: ${JSON.stringify(report.summary.detection)}`);
    const failed = report.verdicts.filter((v) => !v.ok);
    assert.deepEqual(
      failed,
      [],
      `seed ${SEED}, report kept in ${dir}: ${result.stdout}\n${result.stderr.slice(-3000)}`,
    );
    assert.equal(result.code, 0, result.stderr.slice(-3000));
    for (const kind of NEW_KINDS) {
      assert.ok((report.summary.faultsByKind[kind] ?? 0) >= 1, `no ${kind} injected`);
    }
    const failedToInject = report.faults.filter((f) => f.note.startsWith('failed'));
    assert.deepEqual(failedToInject, [], 'every fault was applied');
    assert.ok(report.faults.every((f) => f.heal !== null && Date.parse(f.heal) >= Date.parse(f.start)));
    // The parameters travel with each fault (the report's hover text shows them).
    const delay = report.faults.find((f) => f.kind === 'delay')!;
    assert.match(delay.note, /delay \d+ms/);
    assert.deepEqual(await listHelpers(docker), [], 'no fault helper left');
    passed = true;
  });
});
