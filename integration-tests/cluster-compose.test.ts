// `enclave-elect cluster ... --project NAME` on a cluster that `docker compose
// up` started: found by compose's labels, peers named by their own /status.
// The services run the stand-in peer (test/orchestrator/standin-cluster.ts)
// from the project image, so this does not depend on the peer's election.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { addresses, STANDIN_SCRIPT, udpProbe } from '../test/orchestrator/standin-cluster.ts';
import { runBinary } from '../test/support/run-cli.ts';
import { docker, newRunId, sweep } from './support/docker.ts';
import { buildProjectImage, TEST_IMAGE } from './support/image.ts';

const run = promisify(execFile);

function composeFile(runId: string): string {
  const service = (env: Record<string, string>) => ({
    image: TEST_IMAGE,
    entrypoint: ['node', '-e', STANDIN_SCRIPT],
    environment: env,
    init: true,
    labels: { 'io.enclave-elect.test': runId },
    networks: ['cluster'],
  });
  // JSON is YAML: no quoting surprises for the script.
  return JSON.stringify({
    services: { enclave: service({ STANDIN_NAME: 'enclave' }), peer: service({}) },
    networks: { cluster: { labels: { 'io.enclave-elect.test': runId } } },
  });
}

describe('cluster commands on a docker compose project (real engine, stand-in peers)', {
  timeout: 600_000,
}, () => {
  const runId = newRunId();
  const project = `it${runId}`;
  const dir = mkdtempSync(join(tmpdir(), 'enclave-elect-compose-'));
  const file = join(dir, 'compose.json');
  const compose = (...args: string[]) => run('docker', ['compose', '-p', project, '-f', file, ...args]);
  const cli = (...args: string[]) => runBinary(['cluster', ...args, '--project', project]);
  const peerContainer = (n: number) => `${project}-peer-${n}`;

  before(async () => {
    await buildProjectImage();
    writeFileSync(file, composeFile(runId));
    await compose('up', '-d', '--scale', 'peer=3');
  });

  after(async () => {
    await compose('down', '-v', '--timeout', '2').catch(() => undefined);
    await sweep(runId);
    rmSync(dir, { recursive: true, force: true });
  });

  it('status --project finds the peers by compose labels and names them by their /status', async () => {
    const result = await cli('status', '--json');
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.cluster, project);
    assert.deepEqual(
      report.peers.map((p: { container: string }) => p.container),
      [peerContainer(1), peerContainer(2), peerContainer(3)],
    );
    for (const peer of report.peers) {
      const info = await docker.getContainer(peer.container).inspect();
      assert.equal(peer.name, info.Config.Hostname, 'the member name the peer reports');
      assert.equal(peer.error, null);
    }
    assert.deepEqual([report.agreed, report.leader], [false, null], 'the stand-ins report no leader here');
  });

  it('kills a peer by the member name only its /status knows, and starts it by container name', async () => {
    const hostname = (await docker.getContainer(peerContainer(2)).inspect()).Config.Hostname;
    const kill = await cli('kill', hostname, '--json');
    assert.equal(kill.code, 0, kill.stderr);
    assert.equal(JSON.parse(kill.stdout).container, peerContainer(2));
    assert.equal((await docker.getContainer(peerContainer(2)).inspect()).State.Status, 'exited');
    const start = await cli('start', peerContainer(2));
    assert.equal(start.code, 0, start.stderr);
    assert.equal((await docker.getContainer(peerContainer(2)).inspect()).State.Status, 'running');
  });

  it('partitions the compose network and heals it', async () => {
    const main = `${project}_cluster`;
    const partition = await cli(
      'partition',
      'isolate',
      peerContainer(1),
      '--label',
      `io.enclave-elect.test=${runId}`,
    );
    assert.equal(partition.code, 0, partition.stderr);
    assert.match(
      partition.stdout,
      new RegExp(`side A \\(${project}-enclave-elect-side-a\\): ${peerContainer(1)}\n`),
    );
    assert.match(
      partition.stdout,
      new RegExp(`side B \\(${main}\\): .* \\+ enclave`),
      'isolate: the enclave stays with the rest',
    );
    const other = Object.values(await addresses(docker, peerContainer(3)))[0]!;
    assert.equal(await udpProbe(docker, peerContainer(1), other), 'timeout');
    const heal = await cli('heal');
    assert.equal(heal.code, 0, heal.stderr);
    assert.match(heal.stdout, /every running container reaches every other/);
    const back = await addresses(docker, peerContainer(1));
    assert.deepEqual(Object.keys(back), [main]);
    assert.equal(
      await udpProbe(docker, peerContainer(1), (await addresses(docker, peerContainer(3)))[main]!),
      'echoed',
    );
    // The compose service name still resolves to the healed peer (aliases kept).
    const resolved = await run('docker', [
      'exec',
      peerContainer(3),
      'node',
      '-e',
      "require('node:dns').lookup('peer',{all:true},(e,a)=>console.log(a.length))",
    ]);
    assert.equal(resolved.stdout.trim(), '3');
  });

  it("merges the compose containers' logs, prefixed by container name, filtered by event", async () => {
    const result = await cli('logs', '--event', 'standin.started');
    assert.equal(result.code, 0, result.stderr);
    const prefixes = result.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(' | ')[0]!.trim());
    for (const name of [`${project}-enclave-1`, peerContainer(1), peerContainer(2), peerContainer(3)]) {
      assert.ok(prefixes.includes(name), `${name} in ${prefixes.join(', ')}`);
    }
  });

  it('sends scale and down to compose', async () => {
    const scale = await cli('scale', '5');
    assert.equal(scale.code, 1);
    assert.match(
      scale.stderr,
      new RegExp(`E_UNSUPPORTED.*docker compose -p ${project} up -d --scale peer=5`),
    );
    const down = await cli('down');
    assert.equal(down.code, 1);
    assert.match(down.stderr, new RegExp(`docker compose -p ${project} down -v`));
  });
});
