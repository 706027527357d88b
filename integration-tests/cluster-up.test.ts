// `enclave-elect cluster up`, `scale` and `down` with the real project image:
// the PKI step, the enclave and real peers. The peers gossip today; the
// election (issue 5) may not have landed yet, so agreement is required only
// when the peers' /status carries a `leader` field, and otherwise `up` must
// stop at its --timeout with E_TIMEOUT and leave the cluster for inspection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { execInContainer } from '../src/orchestrator/container-exec.ts';
import { clusterFilter } from '../test/orchestrator/standin-cluster.ts';
import { type CliResult, runBinary } from '../test/support/run-cli.ts';
import { docker, newRunId, sweep } from './support/docker.ts';
import { buildProjectImage, TEST_IMAGE } from './support/image.ts';

interface StatusDoc {
  agreed: boolean;
  leader: string | null;
  peers: { name: string; state: string; error: string | null; status: Record<string, unknown> | null }[];
}

/** CLUSTER_TEST_IMAGE runs an image built elsewhere (e.g. `git archive HEAD | docker build -t enclave-elect:head -`). */
const IMAGE = process.env.CLUSTER_TEST_IMAGE ?? TEST_IMAGE;

describe('cluster up, scale and down (real engine, real image)', { timeout: 600_000 }, () => {
  const runId = newRunId();
  const cluster = `it-${runId}`;
  const cli = (...args: string[]) => runBinary(['cluster', ...args, '--name', cluster]);
  const status = async (): Promise<StatusDoc> => JSON.parse((await cli('status', '--json')).stdout);
  const elects = (doc: StatusDoc) => doc.peers.some((p) => p.status !== null && 'leader' in p.status);

  /** Wait until every running peer sees `n` alive members, and return the status then. */
  async function membersConverge(n: number): Promise<StatusDoc> {
    let doc = await status();
    for (let i = 0; i < 40; i++) {
      const alive = doc.peers.map(
        (p) =>
          (p.status?.members as { state: string }[] | undefined)?.filter((m) => m.state === 'alive').length,
      );
      if (doc.peers.length === n && alive.every((a) => a === n)) return doc;
      await sleep(500);
      doc = await status();
    }
    assert.fail(
      `members did not converge to ${n}: ${JSON.stringify(doc.peers.map((p) => [p.name, p.error]))}`,
    );
  }

  function expectAgreementOrTimeout(result: CliResult, doc: StatusDoc, peers: number) {
    if (elects(doc)) {
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout);
      assert.equal(report.agreed, true);
      assert.equal(report.peers.length, peers);
    } else {
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /E_TIMEOUT.*did not agree on a leader within .*\(expected \d+ peers\)/);
      assert.match(result.stderr, /`enclave-elect cluster logs --name it-/);
      console.log('# the peers report no `leader` yet (issue 5): up/scale stopped at --timeout as they must');
    }
  }

  before(async () => {
    if (IMAGE === TEST_IMAGE) await buildProjectImage();
  });

  after(async () => {
    await sweep(runId);
  });

  it('up: PKI once, enclave, three peers that find each other; agreement or a clear timeout', async () => {
    const result = await cli(
      'up',
      '--peers',
      '3',
      '--image',
      IMAGE,
      '--policy',
      'highest-id',
      '--timeout',
      '20s',
      '--json',
      '--label',
      `io.enclave-elect.test=${runId}`,
    );
    assert.match(result.stderr, /pki: mock attestation root created/);
    assert.match(result.stderr, /enclave started \(policy highest-id, lease 2000 ms\)/);
    const pki = await docker.getContainer(`enclave-elect-${cluster}-pki`).inspect();
    assert.deepEqual([pki.State.Status, pki.State.ExitCode], ['exited', 0]);
    const enclave = await docker.getContainer(`enclave-elect-${cluster}-enclave`).inspect();
    assert.equal(enclave.State.Status, 'running');
    assert.ok(enclave.Config.Cmd.includes('highest-id'));
    const doc = await membersConverge(3);
    assert.deepEqual(
      doc.peers.map((p) => [p.name, p.state]),
      [
        ['peer-1', 'running'],
        ['peer-2', 'running'],
        ['peer-3', 'running'],
      ],
    );
    expectAgreementOrTimeout(result, doc, 3);
  });

  it('peers get the root certificate and no key; everything carries the cluster and test labels', async () => {
    const listing = await execInContainer(
      docker,
      `enclave-elect-${cluster}-peer-1`,
      ['ls', '/trust'],
      10_000,
    );
    assert.equal(listing.stdout.trim(), 'root.crt.pem');
    for (const info of await docker.listContainers({ all: true, filters: clusterFilter(cluster) })) {
      assert.equal(info.Labels['io.enclave-elect.test'], runId);
      assert.equal(info.Labels['io.enclave-elect.managed'], 'true');
    }
    // PKI keys, the published root, the cluster's join secret (admission) and the enclave's state.
    assert.equal(((await docker.listVolumes({ filters: clusterFilter(cluster) })).Volumes ?? []).length, 4);
  });

  it('up with a name that is taken fails and changes nothing', async () => {
    const before = (await docker.listContainers({ all: true, filters: clusterFilter(cluster) })).length;
    const result = await cli('up', '--peers', '1', '--image', IMAGE);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /E_CONFLICT.*already exists/);
    assert.equal(
      (await docker.listContainers({ all: true, filters: clusterFilter(cluster) })).length,
      before,
    );
  });

  it('scale adds peer-4, which joins, then removes the highest-numbered peers', async () => {
    const up = await cli('scale', '4', '--timeout', '10s', '--json');
    const doc = await membersConverge(4);
    expectAgreementOrTimeout(up, doc, 4);
    const peer4 = await docker.getContainer(`enclave-elect-${cluster}-peer-4`).inspect();
    assert.equal(peer4.Config.Labels['io.enclave-elect.test'], runId, 'new peers keep the extra labels');
    const down = await cli('scale', '2', '--timeout', '10s', '--grace', '2', '--no-leader-last', '--json');
    assert.match(down.stderr, /peer-4 stopped and removed/);
    assert.match(down.stderr, /peer-3 stopped and removed/);
    const after = await status();
    assert.deepEqual(
      after.peers.map((p) => p.name),
      ['peer-1', 'peer-2'],
    );
  });

  it('down removes it all and reports it', async () => {
    const result = await cli('down');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /removed 4 containers, 1 network, 4 volumes/);
    assert.equal((await docker.listContainers({ all: true, filters: clusterFilter(cluster) })).length, 0);
    assert.equal((await docker.listNetworks({ filters: clusterFilter(cluster) })).length, 0);
  });
});
