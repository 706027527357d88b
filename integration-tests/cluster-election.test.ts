// The end-to-end scenario with real peers and the real enclave, driven
// only through `enclave-elect cluster`: up 5 peers, kill the leader and see a
// new one with a higher epoch, partition 3|2 with the enclave on the 3-side
// (the 3-side keeps or re-elects a leader with a live lease, the 2-side elects
// none), heal and see all five agree again, down. Skipped, saying so, while the
// peers' /status carries no `leader` (the election of issue 5 not yet in the image).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterFilter } from '../test/orchestrator/standin-cluster.ts';
import { runBinary } from '../test/support/run-cli.ts';
import { docker, newRunId, sweep } from './support/docker.ts';
import { buildProjectImage, TEST_IMAGE } from './support/image.ts';

interface Leader {
  name: string;
  epoch: number;
  leaseEndsAt: string | number;
  verified: boolean;
}
interface Peer {
  name: string;
  state: string;
  error: string | null;
  status: { leader?: Leader | null; isLeader?: boolean } | null;
}
interface Report {
  agreed: boolean;
  leader: string | null;
  epoch: number | null;
  peers: Peer[];
}

const leaseLeft = (leader: Leader) =>
  (typeof leader.leaseEndsAt === 'number' ? leader.leaseEndsAt : Date.parse(leader.leaseEndsAt)) - Date.now();

/** CLUSTER_TEST_IMAGE runs an image built elsewhere (e.g. `git archive HEAD | docker build -t enclave-elect:head -`). */
const IMAGE = process.env.CLUSTER_TEST_IMAGE ?? TEST_IMAGE;

describe('election through the orchestrator (real engine, real peers)', { timeout: 900_000 }, () => {
  const runId = newRunId();
  const cluster = `it-${runId}`;
  const cli = (...args: string[]) => runBinary(['cluster', ...args, '--name', cluster]);
  const status = async (): Promise<Report> => JSON.parse((await cli('status', '--json')).stdout);

  async function until(what: string, ok: (r: Report) => boolean, timeoutMs: number): Promise<Report> {
    const deadline = Date.now() + timeoutMs;
    let report = await status();
    while (!ok(report)) {
      if (Date.now() > deadline)
        assert.fail(
          `${what} within ${timeoutMs} ms; last: ${JSON.stringify(report.peers.map((p) => [p.name, p.state, p.status?.leader?.name, p.status?.leader?.epoch, p.error]))}`,
        );
      await sleep(500);
      report = await status();
    }
    return report;
  }

  before(async () => {
    if (IMAGE === TEST_IMAGE) await buildProjectImage();
  });

  after(async () => {
    await cli('down');
    await sweep(runId);
    assert.equal((await docker.listContainers({ all: true, filters: clusterFilter(cluster) })).length, 0);
  });

  it('up: five peers agree on one verified leader', async () => {
    const result = await cli(
      'up',
      '--peers',
      '5',
      '--image',
      IMAGE,
      '--timeout',
      '60s',
      '--json',
      '--label',
      `io.enclave-elect.test=${runId}`,
    );
    assert.equal(result.code, 0, result.stderr);
    const report: Report = JSON.parse(result.stdout);
    assert.equal(report.agreed, true);
    assert.equal(report.peers.length, 5);
    assert.ok(report.peers.every((p) => p.status?.leader?.verified === true));
    console.log(`# up: ${result.stderr.trim().split('\n').at(-1)}`);
  });

  it('kill leader: the survivors agree on a new leader with a higher epoch', async () => {
    const before = await status();
    const killed = JSON.parse((await cli('kill', 'leader', '--json')).stdout);
    assert.equal(killed.name, before.leader);
    const started = Date.now();
    const after = await until(
      'the four survivors agree on a new leader',
      (r) => r.agreed && r.leader !== before.leader && (r.epoch ?? 0) > (before.epoch ?? 0),
      15_000,
    );
    console.log(
      `# kill ${killed.name} (epoch ${before.epoch}) -> ${after.leader} (epoch ${after.epoch}) seen after ${Date.now() - started} ms`,
    );
    assert.equal((await cli('start', killed.name)).code, 0);
    await until(
      'all five agree again',
      (r) => r.agreed && r.peers.every((p) => p.state === 'running'),
      20_000,
    );
  });

  it('partition 3|2 with the enclave on the 3-side: the 3-side keeps a live leader, the 2-side elects none; heal: all agree', async () => {
    const before = await status();
    const leader = before.leader!;
    const others = before.peers.map((p) => p.name).filter((n) => n !== leader);
    const three = [leader, others[0]!, others[1]!];
    const two = [others[2]!, others[3]!];
    const result = await cli('partition', `${three.join(',')}/${two.join(',')}`, '--enclave-side', 'A');
    assert.equal(result.code, 0, result.stderr);
    await sleep(6_000); // three leases of 2 s
    const during = await status();
    const on = (names: string[]) => during.peers.filter((p) => names.includes(p.name));
    const a = on(three).map((p) => p.status?.leader);
    assert.ok(
      a.every((l) => l?.verified && leaseLeft(l) > 0),
      `3-side holds a live lease: ${JSON.stringify(a)}`,
    );
    assert.equal(new Set(a.map((l) => `${l!.name}@${l!.epoch}`)).size, 1, '3-side agrees');
    for (const p of on(two)) {
      const l = p.status?.leader;
      assert.ok(!l || leaseLeft(l) <= 0, `${p.name} on the 2-side holds no live lease: ${JSON.stringify(l)}`);
      assert.ok(
        !l || l.epoch <= Math.max(...a.map((x) => x!.epoch)),
        `${p.name}: no newer epoch than the 3-side`,
      );
      assert.notEqual(
        p.status?.isLeader === true && l && leaseLeft(l) > 0,
        true,
        `${p.name} does not act as leader`,
      );
    }
    const heal = await cli('heal');
    assert.equal(heal.code, 0, heal.stderr);
    const started = Date.now();
    const healed = await until('all five agree after heal', (r) => r.agreed && r.peers.length === 5, 20_000);
    console.log(
      `# heal -> 5/5 agree on ${healed.leader}, epoch ${healed.epoch}, after ${Date.now() - started} ms`,
    );
  });
});
