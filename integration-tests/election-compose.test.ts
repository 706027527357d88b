// Issue 5, test 8: the compose file itself, as a newcomer runs it — `docker
// compose up --build --scale peer=5` through testcontainers'
// DockerComposeEnvironment — converges on one verified leader, and `down -v`
// leaves nothing of the project. The project is named enclave-elect-itest-*,
// which .ci/run sweeps should a run die before its `after` hook.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { DockerComposeEnvironment, type StartedDockerComposeEnvironment, Wait } from 'testcontainers';
import type { PeerStatus } from '../src/orchestrator/peer-status.ts';
import { docker, newRunId } from './support/docker.ts';
import { until } from './support/election-cluster.ts';
import { PROJECT_ROOT } from './support/image.ts';

process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

const PEERS = 5;
const run = promisify(execFile);

describe('docker-compose.yml: up --build --scale peer=5', { timeout: 900_000 }, () => {
  const project = `enclave-elect-itest-${newRunId()}`;
  const projectFilter = (more: string[] = []) =>
    JSON.stringify({ label: [`com.docker.compose.project=${project}`, ...more] });
  let environment: StartedDockerComposeEnvironment | undefined;

  after(async () => {
    try {
      await environment?.down({ removeVolumes: true, timeout: 5000 });
    } finally {
      // Also when `up` failed half-way: compose removes what the project has.
      await run('docker', ['compose', '-p', project, 'down', '-v', '--timeout', '2'], {
        cwd: PROJECT_ROOT,
      }).catch(() => undefined);
    }
    const left = [
      ...(await docker.listContainers({ all: true, filters: projectFilter() })).map((c) => c.Names[0]),
      ...(await docker.listNetworks({ filters: projectFilter() })).map((n) => n.Name),
      ...((await docker.listVolumes({ filters: projectFilter() })).Volumes ?? []).map((v) => v.Name),
    ];
    assert.deepEqual(left, [], 'down -v leaves no container, network or volume of the project');
  });

  it('8. five replicas converge on one verified leader', async () => {
    environment = await new DockerComposeEnvironment(PROJECT_ROOT, 'docker-compose.yml')
      .withProjectName(project)
      .withBuild()
      .withClientOptions({ commandOptions: ['--scale', `peer=${PEERS}`] })
      // Started, not healthy: on a loaded host a healthcheck (a fresh node process, 2 s
      // timeout) can fail for a while, and testcontainers gives up at the first
      // "unhealthy". Convergence, read from /status below, is what this test asserts.
      .withDefaultWaitStrategy(Wait.forLogMessage(/"event":"(peer\.started|enclave\.listening)"/))
      .withStartupTimeout(180_000)
      .up();
    const upAt = Date.now();
    const peers = await docker.listContainers({
      filters: projectFilter(['com.docker.compose.service=peer']),
    });
    assert.equal(peers.length, PEERS);
    const network = `${project}_cluster`;
    const addresses = peers.map((p) => p.NetworkSettings.Networks[network]?.IPAddress);
    assert.ok(
      addresses.every((a) => a),
      `every peer is on ${network}`,
    );
    let last: (PeerStatus | string)[] = [];
    const statuses = await until(
      'five peers see each other and agree on one verified, acting leader',
      async () => {
        last = await Promise.all(
          addresses.map((ip) =>
            fetch(`http://${ip}:7947/status`, { signal: AbortSignal.timeout(2000) })
              .then((r) => r.json() as Promise<PeerStatus>)
              .catch((e: Error) => e.message),
          ),
        );
        const views = last.filter((v): v is PeerStatus => typeof v !== 'string');
        const leader = views[0]?.leader;
        if (views.length !== PEERS || !leader) return undefined;
        const agree = views.every(
          (v) =>
            v.leader?.verified === true &&
            v.leader.name === leader.name &&
            v.leader.epoch === leader.epoch &&
            v.isLeader === (v.name === leader.name) &&
            v.members?.filter((m) => m.state === 'alive').length === PEERS,
        );
        return agree ? views : undefined;
      },
      60_000,
      () =>
        JSON.stringify(
          last.map((v) => (typeof v === 'string' ? v : [v.name, v.leader?.name, v.leader?.epoch])),
        ),
    );
    const names = statuses.map((s) => s.name).sort();
    assert.deepEqual(
      names,
      Array.from({ length: PEERS }, (_, i) => `${project}-peer-${i + 1}`),
      'peers are named after their containers',
    );
    for (const s of statuses) {
      assert.equal(s.enclave?.trusted, true, `${s.name} trusts the enclave`);
      assert.equal(s.members?.filter((m) => m.state === 'alive').length, PEERS, `${s.name} sees all five`);
    }
    console.log(
      `# compose: ${statuses[0]!.leader!.name} leads epoch ${statuses[0]!.leader!.epoch}, agreed ${Date.now() - upAt} ms after up returned`,
    );
  });
});
