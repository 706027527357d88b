// `enclave-elect cluster partition` and `heal` against the real engine: the
// kernel drops datagrams between the sides (a UDP echo from inside one
// container to another times out), they flow within a side, and after heal
// every container is back at its old address and every pair echoes again.
// Stand-in peers (test/orchestrator/standin-cluster.ts) answer UDP on 7946.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  addresses,
  clusterFilter,
  startStandinCluster,
  udpProbe,
} from '../test/orchestrator/standin-cluster.ts';
import { runBinary } from '../test/support/run-cli.ts';
import { docker, newRunId, sweep } from './support/docker.ts';
import { buildProjectImage, TEST_IMAGE } from './support/image.ts';

describe('cluster partition and heal (real engine, stand-in peers)', { timeout: 600_000 }, () => {
  const runId = newRunId();
  const cluster = `it-${runId}`;
  const main = `enclave-elect-${cluster}`;
  const container = (member: string) => `${main}-${member}`;
  const members = ['enclave', 'peer-1', 'peer-2', 'peer-3', 'peer-4', 'peer-5'];
  const cli = (...args: string[]) => runBinary(['cluster', ...args, '--name', cluster]);
  const original: Record<string, string> = {};

  /** From `from`, echo over UDP to `to` at its address on `network` (or its only address). */
  async function echo(from: string, to: string, network?: string): Promise<string> {
    const theirs = await addresses(docker, container(to));
    const address = network ? theirs[network] : Object.values(theirs)[0];
    assert.ok(address, `${to} has an address on ${network ?? 'some network'}`);
    return udpProbe(docker, container(from), address);
  }

  before(async () => {
    await buildProjectImage();
    await startStandinCluster(docker, { cluster, image: TEST_IMAGE, runId, peers: 5, leader: 'peer-1' });
    for (const m of members) original[m] = (await addresses(docker, container(m)))[main]!;
  });

  after(async () => {
    await sweep(runId);
    assert.equal((await docker.listNetworks({ filters: clusterFilter(cluster) })).length, 0);
  });

  it('datagrams flow between peers and to the enclave before any partition', async () => {
    assert.equal(await echo('peer-1', 'peer-5', main), 'echoed');
    assert.equal(await echo('peer-4', 'enclave', main), 'echoed');
  });

  it('partitions 5 peers into 3|2 with the enclave on the 3-side; the kernel drops datagrams across', async () => {
    const result = await cli('partition', 'peer-1,peer-2,peer-3/peer-4,peer-5', '--json');
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.deepEqual(report.sides, [
      { side: 'A', network: main, peers: ['peer-1', 'peer-2', 'peer-3'], enclave: true },
      { side: 'B', network: `${main}-side-b`, peers: ['peer-4', 'peer-5'], enclave: false },
    ]);
    assert.equal(report.proof.checked, 30, 'every ordered pair of the six was probed');
    assert.deepEqual(report.proof.unexpected, []);
    // Within a side: datagrams flow.
    assert.equal(await echo('peer-1', 'peer-3'), 'echoed');
    assert.equal(await echo('peer-2', 'enclave', main), 'echoed');
    assert.equal(await echo('peer-4', 'peer-5'), 'echoed');
    // Across: dropped, both ways, and the enclave is out of the 2-side's reach.
    assert.equal(await echo('peer-1', 'peer-4'), 'timeout');
    assert.equal(await echo('peer-5', 'peer-2'), 'timeout');
    assert.equal(await echo('peer-4', 'enclave'), 'timeout');
    // The enclave's side stays put, addresses and all; the other side moved, and its old addresses lead nowhere.
    assert.deepEqual(await addresses(docker, container('peer-1')), { [main]: original['peer-1'] });
    assert.deepEqual(await addresses(docker, container('enclave')), { [main]: original.enclave });
    assert.equal(Object.keys(await addresses(docker, container('peer-4'))).join(), `${main}-side-b`);
    assert.equal(await udpProbe(docker, container('peer-1'), original['peer-4']!), 'timeout');
  });

  it('the status of every peer is still read by exec during the partition', async () => {
    const status = JSON.parse((await cli('status', '--json')).stdout);
    assert.deepEqual(
      status.peers.map((p: { error: string | null }) => p.error),
      [null, null, null, null, null],
    );
  });

  it('heals: everyone back on the main network at the same address, every pair echoes, no side network left', async () => {
    const result = await cli('heal', '--json');
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.deepEqual(report.moved, ['peer-4', 'peer-5']);
    assert.deepEqual(
      report.readdressed,
      [],
      'the cluster network has a user-set subnet: old addresses granted',
    );
    assert.deepEqual(report.removedNetworks, [`${main}-side-b`]);
    assert.deepEqual([report.proof.checked, report.proof.unexpected], [30, []]);
    for (const m of members) {
      assert.deepEqual(
        await addresses(docker, container(m)),
        { [main]: original[m] },
        `${m} is back at its address`,
      );
    }
    for (const from of members) {
      const results = await Promise.all(
        members.filter((to) => to !== from).map((to) => echo(from, to, main)),
      );
      assert.deepEqual(new Set(results), new Set(['echoed']), `${from} reaches every other`);
    }
    const networks = await docker.listNetworks({ filters: clusterFilter(cluster) });
    assert.deepEqual(
      networks.map((n) => n.Name),
      [main],
    );
  });

  it('isolates the leader with the enclave on the other side (B), and heals again', async () => {
    const result = await cli('partition', 'isolate', 'leader', '--enclave-side', 'B');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^side A \(.*-side-a\): peer-1$/m);
    assert.match(
      result.stdout,
      new RegExp(`^side B \\(${main}\\): peer-2, peer-3, peer-4, peer-5 \\+ enclave$`, 'm'),
    );
    assert.equal(await echo('peer-1', 'enclave'), 'timeout');
    assert.equal(await echo('peer-3', 'enclave'), 'echoed');
    const heal = await cli('heal');
    assert.equal(heal.code, 0, heal.stderr);
    assert.match(heal.stdout, /proved by 30 probes: every running container reaches every other/);
    assert.equal(await echo('peer-1', 'enclave', main), 'echoed');
  });

  it('with --enclave-side both, each side reaches the enclave but not the other side', async () => {
    const result = await cli('partition', 'peer-1,peer-2/peer-3,peer-4,peer-5', '--enclave-side', 'both');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await echo('peer-1', 'enclave', `${main}-side-a`), 'echoed');
    assert.equal(await echo('peer-5', 'enclave', main), 'echoed');
    assert.equal(await echo('peer-1', 'peer-5'), 'timeout');
    // A peer stopped during a partition comes back with the heal too (it is not probed while stopped).
    assert.equal((await cli('stop', 'peer-2', '--grace', '1')).code, 0);
    const heal = await cli('heal', '--json');
    assert.equal(heal.code, 0, heal.stderr);
    assert.deepEqual(JSON.parse(heal.stdout).proof.skipped, ['peer-2 (exited)']);
    assert.equal((await cli('start', 'peer-2')).code, 0);
    assert.equal(await echo('peer-2', 'peer-5', main), 'echoed');
    assert.equal((await addresses(docker, container('peer-2')))[main], original['peer-2']);
  });

  it('refuses groups that leave a peer out, before touching any network', async () => {
    const result = await cli('partition', 'peer-1/peer-2');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /peer-3, peer-4, peer-5 are in no group/);
    assert.deepEqual(
      (await docker.listNetworks({ filters: clusterFilter(cluster) })).map((n) => n.Name),
      [main],
    );
  });
});
