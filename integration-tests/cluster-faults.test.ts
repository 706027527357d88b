// `enclave-elect cluster` status, faults, logs and down against the real
// engine, on a cluster laid out like `cluster up` makes it whose containers run
// a stand-in peer (test/orchestrator/standin-cluster.ts), so this does not
// depend on the peer's election.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clusterFilter, startStandinCluster } from '../test/orchestrator/standin-cluster.ts';
import { runBinary } from '../test/support/run-cli.ts';
import { containerOutput, docker, newRunId, sweep } from './support/docker.ts';
import { buildProjectImage, TEST_IMAGE } from './support/image.ts';

describe('cluster status, faults, logs and down (real engine, stand-in peers)', { timeout: 600_000 }, () => {
  const runId = newRunId();
  const cluster = `it-${runId}`;
  const cli = (...args: string[]) => runBinary(['cluster', ...args, '--name', cluster]);
  const state = async (member: string) =>
    (await docker.getContainer(`enclave-elect-${cluster}-${member}`).inspect()).State.Status;

  before(async () => {
    await buildProjectImage();
    await startStandinCluster(docker, { cluster, image: TEST_IMAGE, runId, peers: 3, leader: 'peer-2' });
  });

  after(async () => {
    await sweep(runId);
    const left = await docker.listContainers({ all: true, filters: clusterFilter(cluster) });
    assert.equal(left.length, 0);
  });

  it('status --json reads every /status by exec inside the container, with no published port', async () => {
    const result = await cli('status', '--json');
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.deepEqual(Object.keys(report).sort(), ['agreed', 'cluster', 'epoch', 'leader', 'peers']);
    assert.deepEqual(
      report.peers.map((p: { name: string; state: string; error: null; status: { name: string } }) => [
        p.name,
        p.state,
        p.error,
        p.status.name,
      ]),
      [
        ['peer-1', 'running', null, 'peer-1'],
        ['peer-2', 'running', null, 'peer-2'],
        ['peer-3', 'running', null, 'peer-3'],
      ],
    );
    assert.deepEqual(
      [report.cluster, report.agreed, report.leader, report.epoch],
      [cluster, true, 'peer-2', 3],
    );
    for (const info of await docker.listContainers({ filters: clusterFilter(cluster) })) {
      assert.deepEqual(
        info.Ports.filter((p) => p.PublicPort !== undefined),
        [],
        'nothing is published',
      );
    }
  });

  it('status works from a place with no route to the containers: only the engine API is used', async () => {
    // The CLI in a container with no network at all, talking to the engine through its socket:
    // like a remote DOCKER_HOST, it cannot reach any container address, only the API.
    const runner = await docker.createContainer({
      Image: TEST_IMAGE,
      Cmd: ['cluster', 'status', '--json', '--name', cluster],
      User: '0:0',
      Labels: { 'io.enclave-elect.test': runId },
      HostConfig: { NetworkMode: 'none', Binds: ['/var/run/docker.sock:/var/run/docker.sock'] },
    });
    await runner.start();
    const { StatusCode } = (await runner.wait()) as { StatusCode: number };
    const { stdout, stderr } = await containerOutput(runner.id);
    await runner.remove({ force: true });
    assert.equal(StatusCode, 0, stderr);
    const report = JSON.parse(stdout);
    assert.deepEqual([report.agreed, report.leader, report.peers.length], [true, 'peer-2', 3]);
  });

  it('status prints the table and the summary line', async () => {
    const result = await cli('status');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^CONTAINER\s+NAME\s+STATE\s+MEMBERS\s+LEADER/);
    assert.match(
      result.stdout,
      new RegExp(`enclave-elect-${cluster}-peer-2\\s+peer-2\\s+running\\s+1\\s+peer-2\\*\\s+3`),
    );
    assert.match(result.stdout, /\n3\/3 agree on peer-2, epoch 3\n$/);
    assert.match(
      result.stdout,
      /^enclave: Up .* \(container enclave-elect-.*-enclave\)$/m,
      'the enclave is listed too',
    );
  });

  it('kill leader kills the peer the others name; status then says it is not running', async () => {
    const result = await cli('kill', 'leader', '--json');
    assert.equal(result.code, 0, result.stderr);
    const killed = JSON.parse(result.stdout);
    assert.deepEqual(
      [killed.name, killed.before, killed.after, killed.how],
      ['peer-2', 'running', 'exited', 'leader (epoch 3)'],
    );
    assert.equal(await state('peer-2'), 'exited');
    const status = JSON.parse((await cli('status', '--json')).stdout);
    assert.equal(status.peers[1].error, 'container is exited');
    assert.equal(status.agreed, true, 'the two running stand-ins still agree');
  });

  it('refuses to stop a stopped peer, naming its state, then starts it', async () => {
    const stop = await cli('stop', 'peer-2');
    assert.equal(stop.code, 1);
    assert.match(
      stop.stderr,
      /E_STATE.*cannot stop peer-2 .*: it is exited, and stop needs it running\. `enclave-elect cluster start peer-2/,
    );
    const start = await cli('start', 'peer-2');
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stdout, /^started peer-2 \(container enclave-elect-.*-peer-2\): exited -> running$/m);
    assert.equal(await state('peer-2'), 'running');
  });

  it('pause freezes a peer (status says so) and unpause resumes it; pause --for unpauses by itself', async () => {
    assert.equal((await cli('pause', 'peer-3')).code, 0);
    assert.equal(await state('peer-3'), 'paused');
    const status = JSON.parse((await cli('status', '--json')).stdout);
    assert.equal(status.peers[2].error, 'container is paused');
    const again = await cli('pause', 'peer-3');
    assert.match(
      again.stderr,
      /it is paused, and pause needs it running\. `enclave-elect cluster unpause peer-3/,
    );
    assert.equal((await cli('unpause', 'peer-3')).code, 0);
    assert.equal(await state('peer-3'), 'running');
    const started = Date.now();
    const timed = await cli('pause', 'peer-1', '--for', '1500ms');
    assert.equal(timed.code, 0, timed.stderr);
    assert.ok(Date.now() - started >= 1500, 'it waited');
    assert.match(timed.stdout, /paused and unpaused peer-1/);
    assert.equal(await state('peer-1'), 'running');
  });

  it('kill random --seed picks the same peer again for the same seed', async () => {
    const first = JSON.parse((await cli('kill', 'random', '--seed', 'replay-me', '--json')).stdout);
    assert.equal(first.seed, 'replay-me');
    assert.equal((await cli('start', first.name)).code, 0);
    const second = JSON.parse((await cli('kill', 'random', '--seed', 'replay-me', '--json')).stdout);
    assert.equal(second.name, first.name);
    assert.equal((await cli('start', first.name)).code, 0);
  });

  it('kill --signal SIGTERM lets the process end itself; restart and an enclave target work', async () => {
    const term = await cli('kill', 'peer-1', '--signal', 'SIGTERM');
    assert.equal(term.code, 0, term.stderr);
    for (let i = 0; i < 50 && (await state('peer-1')) !== 'exited'; i++)
      await new Promise((r) => setTimeout(r, 100));
    const info = await docker.getContainer(`enclave-elect-${cluster}-peer-1`).inspect();
    assert.deepEqual(
      [info.State.Status, info.State.ExitCode],
      ['exited', 0],
      'exited 0 from its SIGTERM handler',
    );
    assert.equal((await cli('restart', 'peer-1', '--grace', '1')).code, 0);
    assert.equal(await state('peer-1'), 'running');
    const enclave = await cli('restart', 'enclave', '--grace', '1', '--json');
    assert.equal(enclave.code, 0, enclave.stderr);
    assert.equal(JSON.parse(enclave.stdout).container, `enclave-elect-${cluster}-enclave`);
  });

  it('names the peers when a target does not exist', async () => {
    const result = await cli('kill', 'peer-9');
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /E_NOT_FOUND.*no peer or container 'peer-9'.*Peers: peer-1 \(running\), peer-2 \(running\), peer-3 \(running\)/,
    );
  });

  it('logs merges the containers, prefixed by name, and filters by event', async () => {
    const all = await cli('logs');
    assert.equal(all.code, 0, all.stderr);
    for (const name of ['enclave', 'peer-1', 'peer-2', 'peer-3']) {
      assert.match(all.stdout, new RegExp(`^${name} *\\| plain line from ${name}$`, 'm'));
    }
    const events = await cli('logs', '--event', 'standin.*');
    const lines = events.stdout.trim().split('\n');
    assert.ok(lines.length >= 4, events.stdout);
    for (const line of lines) assert.match(line, /^[a-z0-9-]+ *\| \{.*"event":"standin\.started"/);
    const one = await cli('logs', 'peer-3', '--event', 'standin.started');
    assert.match(one.stdout, /^peer-3 \| \{.*"peer":"peer-3"/);
    assert.doesNotMatch(one.stdout, /peer-1/);
  });

  it('down removes every container, network and volume with the cluster label, and says so', async () => {
    const before = await docker.listContainers({ all: true, filters: clusterFilter(cluster) });
    const result = await cli('down', '--json');
    assert.equal(result.code, 0, result.stderr);
    const removed = JSON.parse(result.stdout);
    assert.equal(removed.containers.length, before.length);
    assert.deepEqual(removed.networks, [`enclave-elect-${cluster}`]);
    assert.equal((await docker.listContainers({ all: true, filters: clusterFilter(cluster) })).length, 0);
    assert.equal((await docker.listNetworks({ filters: clusterFilter(cluster) })).length, 0);
    assert.equal(((await docker.listVolumes({ filters: clusterFilter(cluster) })).Volumes ?? []).length, 0);
    const again = await cli('down');
    assert.equal(again.code, 0);
    assert.match(again.stdout, /nothing to remove/);
  });
});
