// `enclave-elect cluster chaos` end to end on the real image with every new
// kind: its own cluster of 5 peers, 3 minutes of the network kinds (delay,
// random and bursty loss, duplication, corruption, one-way, majorities ring,
// bridge) and the host kinds (CPU starvation of a peer, clock offset or strobe,
// a host-wide CPU hog) on a fixed seed, zero invariant violations, and
// no fault helper, qdisc or iptables rule left afterwards. Everything carries
// io.enclave-elect.test=<runId> and is swept afterwards.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOST_KINDS, NETWORK_KINDS } from '../src/chaos/schedule.ts';
import { listHelpers } from '../src/orchestrator/fault-helper.ts';
import { chaosRunSuite } from './support/chaos-run.ts';
import { docker } from './support/docker.ts';

const SEED = 'chaos-net-1';
const NEW_KINDS = [...NETWORK_KINDS, ...HOST_KINDS];

interface Report {
  ok: boolean;
  verdicts: { name: string; ok: boolean; summary: string }[];
  summary: { faultsInjected: number; faultsByKind: Record<string, number>; detection: object };
  faults: { kind: string; start: string; heal: string | null; note: string }[];
}

describe('cluster chaos with every new kind (real engine, real peers)', { timeout: 900_000 }, () => {
  const chaos = chaosRunSuite('chaosnet', 'chaos removes the cluster and the helpers it started');

  it('injects every new kind for 3 minutes with no invariant violated', async (t) => {
    const { report } = await chaos.run<Report>(t, {
      duration: '3m',
      interval: '3s',
      seed: SEED,
      faults: NEW_KINDS,
    });
    t.diagnostic(`failure detection: ${JSON.stringify(report.summary.detection)}`);
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
    chaos.passed();
  });
});
