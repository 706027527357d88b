import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { peerCommand } from '../../src/orchestrator/cluster-commands.ts';
import { type ClusterContainer, listClusterContainers } from '../../src/orchestrator/cluster-inventory.ts';
import { removalOrder, scaleCluster, storedSettings } from '../../src/orchestrator/cluster-scale.ts';
import {
  type ClusterSettings,
  enclaveContainerSpec,
  networkSpec,
  peerContainerSpec,
  pkiContainerSpec,
} from '../../src/orchestrator/cluster-spec.ts';
import { upCluster } from '../../src/orchestrator/cluster-up.ts';
import { ensureDockerReachable } from '../../src/orchestrator/docker-client.ts';
import type { StatusReader } from '../../src/orchestrator/peer-status.ts';
import { ensureImage } from '../../src/orchestrator/project-image.ts';
import { downCluster } from '../../src/orchestrator/teardown.ts';
import { FakeDocker } from './fake-docker.ts';
import { ourCluster, peerStatus, tableReader } from './fixtures.ts';

const settings: ClusterSettings = {
  cluster: 'demo',
  image: 'enclave-elect:local',
  policy: 'round-robin',
  leaseMs: 1500,
  extraLabels: { 'io.enclave-elect.test': 'run1' },
};
const quiet = () => undefined;

/** Every running peer of the fake answers that `leader` leads. */
function agreeingReader(docker: FakeDocker, leader = 'peer-1'): StatusReader {
  return async (container: ClusterContainer) => {
    if (docker.container(container.id).state !== 'running') throw new Error('not running');
    return peerStatus(container.name, leader, 1);
  };
}

describe('what `cluster up` creates', () => {
  it('labels everything with the cluster, its role, and the extra labels', () => {
    for (const spec of [
      pkiContainerSpec(settings),
      enclaveContainerSpec(settings),
      peerContainerSpec(settings, 2),
    ]) {
      assert.equal(spec.Labels?.['io.enclave-elect.cluster'], 'demo');
      assert.equal(spec.Labels?.['io.enclave-elect.managed'], 'true');
      assert.equal(spec.Labels?.['io.enclave-elect.test'], 'run1');
      assert.ok(spec.Labels?.['io.enclave-elect.role']);
      assert.deepEqual(spec.HostConfig?.CapDrop, ['ALL']);
      assert.equal(spec.HostConfig?.ReadonlyRootfs, true);
      assert.equal(spec.HostConfig?.Init, true);
    }
    const peer = peerContainerSpec(settings, 2);
    assert.equal(peer.name, 'enclave-elect-demo-peer-2');
    assert.equal(peer.Labels?.['io.enclave-elect.peer'], 'peer-2');
    assert.deepEqual(peer.NetworkingConfig?.EndpointsConfig?.['enclave-elect-demo']?.Aliases, [
      'peer',
      'peer-2',
    ]);
    assert.deepEqual(
      peer.HostConfig?.Binds,
      ['enclave-elect-demo-trust:/trust:ro', 'enclave-elect-demo-join:/join:ro'],
      'peers see the root certificate and the join secret, no key of the PKI',
    );
  });

  it('runs the enclave with the policy, lease, PKI and state volume, under the alias `enclave`', () => {
    const enclave = enclaveContainerSpec(settings);
    assert.deepEqual(enclave.Cmd, [
      'enclave',
      '--pki',
      '/pki',
      '--port',
      '8000',
      '--policy',
      'round-robin',
      '--lease-ms',
      '1500',
      '--state-dir',
      '/state',
      '--cluster-id',
      'demo',
      '--join-secret',
      '/join',
    ]);
    assert.deepEqual(enclave.NetworkingConfig?.EndpointsConfig?.['enclave-elect-demo']?.Aliases, ['enclave']);
    assert.deepEqual(
      enclave.Env,
      ['HEALTHCHECK_URL=http://127.0.0.1:8000/healthz'],
      'the image healthcheck asks the enclave',
    );
    assert.deepEqual(enclave.HostConfig?.Binds, [
      'enclave-elect-demo-pki:/pki:ro',
      'enclave-elect-demo-state:/state',
      'enclave-elect-demo-join:/join:ro',
    ]);
  });

  it('makes the PKI and the join secret once, publishing only the root certificate to the volume peers mount', () => {
    const pki = pkiContainerSpec(settings);
    assert.equal(pki.User, undefined, 'as the image user');
    assert.deepEqual(pki.Cmd, [
      'pki',
      'init',
      '--out',
      '/pki',
      '--if-missing',
      '--publish',
      '/trust',
      '--join',
      '/join',
    ]);
    assert.deepEqual(pki.HostConfig?.Binds, [
      'enclave-elect-demo-pki:/pki',
      'enclave-elect-demo-trust:/trust',
      'enclave-elect-demo-join:/join',
    ]);
  });

  it('joins peers by the alias every peer carries', () => {
    assert.deepEqual(peerCommand('peer-4', settings).cmd, ['peer', '--name', 'peer-4', '--join', 'peer']);
  });

  it('stores the settings on the network for `scale`, and reads them back with the extra labels', async () => {
    const docker = new FakeDocker();
    await docker.createNetwork(networkSpec(settings));
    assert.equal((networkSpec(settings) as { Internal: boolean }).Internal, true);
    assert.deepEqual(await storedSettings(docker.client, 'demo'), settings);
  });
});

describe('cluster up', () => {
  it('creates network, volumes, pki, enclave and peers in order, then waits for agreement', async () => {
    const docker = new FakeDocker();
    const lines: string[] = [];
    const report = await upCluster(
      docker.client,
      { ...settings, peers: 3, build: false, timeoutMs: 5000 },
      { reader: agreeingReader(docker), progress: (l) => lines.push(l), intervalMs: 10 },
    );
    assert.deepEqual(docker.calls, [
      'create network enclave-elect-demo',
      'remove network enclave-elect-demo',
      'create network enclave-elect-demo 10.0.0.0/24',
      'create volume enclave-elect-demo-pki',
      'create volume enclave-elect-demo-trust',
      'create volume enclave-elect-demo-state',
      'create volume enclave-elect-demo-join',
      'create enclave-elect-demo-pki',
      'start enclave-elect-demo-pki',
      'create enclave-elect-demo-enclave',
      'start enclave-elect-demo-enclave',
      'create enclave-elect-demo-peer-1',
      'start enclave-elect-demo-peer-1',
      'create enclave-elect-demo-peer-2',
      'start enclave-elect-demo-peer-2',
      'create enclave-elect-demo-peer-3',
      'start enclave-elect-demo-peer-3',
    ]);
    assert.deepEqual([report.agreed, report.leader, report.peers.length], [true, 'peer-1', 3]);
    assert.match(lines.at(-1)!, /^\[\d+ms\] 3\/3 agree on peer-1, epoch 1$/);
  });

  it('refuses a name that is taken, saying how to see or remove it', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 1);
    await assert.rejects(
      upCluster(
        docker.client,
        { ...settings, peers: 1, build: false, timeoutMs: 100 },
        { reader: tableReader({}), progress: quiet },
      ),
      { code: 'E_CONFLICT', message: /cluster 'demo' already exists.*cluster down --name demo/ },
    );
  });

  it('says when a container name is held by something outside the cluster', async () => {
    const docker = new FakeDocker();
    docker.addContainer({ name: 'enclave-elect-demo-enclave' });
    await assert.rejects(
      upCluster(
        docker.client,
        { ...settings, peers: 1, build: false, timeoutMs: 100 },
        { reader: tableReader({}), progress: quiet },
      ),
      {
        code: 'E_CONFLICT',
        message: /container name enclave-elect-demo-enclave is taken by a container outside this cluster/,
      },
    );
  });

  it('builds a missing image first', async () => {
    const docker = new FakeDocker();
    docker.images.clear();
    const built: string[] = [];
    await upCluster(
      docker.client,
      { ...settings, peers: 1, build: false, timeoutMs: 1000 },
      {
        reader: agreeingReader(docker),
        progress: quiet,
        intervalMs: 10,
        builder: async (image) => {
          built.push(image);
          docker.images.add(image);
        },
      },
    );
    assert.deepEqual(built, ['enclave-elect:local']);
  });

  it('stops with E_TIMEOUT naming what each peer lacks, and leaves the cluster for inspection', async () => {
    const docker = new FakeDocker();
    const reader = tableReader({ 'peer-1': peerStatus('peer-1', null) });
    await assert.rejects(
      upCluster(
        docker.client,
        { ...settings, peers: 2, build: false, timeoutMs: 50 },
        { reader, progress: quiet, intervalMs: 10 },
      ),
      (error: Error & { code: string; exitCode: number }) => {
        assert.equal(error.code, 'E_TIMEOUT');
        assert.equal(error.exitCode, 1);
        assert.match(error.message, /did not agree on a leader within 50ms \(expected 2 peers\): no leader/);
        assert.match(error.message, /peer-1: no verified leader yet/);
        assert.match(error.message, /peer-2: nothing listens on 127\.0\.0\.1:7947/);
        assert.match(error.message, /cluster down --name demo/);
        return true;
      },
    );
    assert.equal(docker.containers.length, 4, 'pki, enclave and two peers stay');
  });

  it('stops waiting on Ctrl-C with exit 130, leaving the cluster running', async () => {
    const docker = new FakeDocker();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    await assert.rejects(
      upCluster(
        docker.client,
        { ...settings, peers: 1, build: false, timeoutMs: 60_000 },
        { reader: tableReader({}), progress: quiet, intervalMs: 10_000, signal: controller.signal },
      ),
      {
        code: 'E_INTERRUPTED',
        exitCode: 130,
        message: /stopped waiting for agreement: no leader.*cluster down --name demo/s,
      },
    );
    assert.ok(Date.now() - started < 5000, 'the wait ends at once, not after the poll interval');
    assert.equal(
      docker.containers.filter((c) => c.state === 'running').length,
      2,
      'enclave and peer keep running',
    );
  });

  it('reports the PKI step failing with its output', async () => {
    const docker = new FakeDocker();
    const create = docker.createContainer.bind(docker);
    docker.createContainer = async (spec) => {
      const handle = await create(spec);
      if (spec.name.endsWith('-pki')) {
        const c = docker.container(spec.name);
        c.labels['fake.exit-code'] = '2';
        c.logs = Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 9]), Buffer.from('bad --out')]);
      }
      return handle;
    };
    await assert.rejects(
      upCluster(
        docker.client,
        { ...settings, peers: 1, build: false, timeoutMs: 50 },
        { reader: tableReader({}), progress: quiet },
      ),
      { code: 'E_PKI', message: /the PKI step exited 2:\nbad --out/ },
    );
  });
});

describe('cluster scale', () => {
  const peer = (name: string, state = 'running') => ({ name, state }) as ClusterContainer;

  it('removes stopped peers first, then the highest numbers, the leader last', () => {
    const peers = [peer('peer-1'), peer('peer-2'), peer('peer-3', 'exited'), peer('peer-10'), peer('peer-4')];
    assert.deepEqual(
      removalOrder(peers, 'peer-10', true).map((p) => p.name),
      ['peer-3', 'peer-4', 'peer-2', 'peer-1', 'peer-10'],
    );
    assert.deepEqual(
      removalOrder(peers, 'peer-10', false).map((p) => p.name),
      ['peer-3', 'peer-10', 'peer-4', 'peer-2', 'peer-1'],
    );
  });

  it('adds peers numbered after the highest, with the stored settings', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 2);
    await scaleCluster(
      docker.client,
      { kind: 'name', name: 'demo' },
      { peers: 4, leaderLast: true, timeoutMs: 1000 },
      {
        reader: agreeingReader(docker),
        progress: quiet,
        intervalMs: 10,
      },
    );
    const peers = (await listClusterContainers(docker.client, { kind: 'name', name: 'demo' })).filter(
      (c) => c.role === 'peer',
    );
    assert.deepEqual(
      peers.map((p) => p.name),
      ['peer-1', 'peer-2', 'peer-3', 'peer-4'],
    );
    assert.equal(docker.container('enclave-elect-demo-peer-4').labels['io.enclave-elect.test'], 'run1');
  });

  it('removes non-leaders gracefully (stop, then remove)', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 3);
    await scaleCluster(
      docker.client,
      { kind: 'name', name: 'demo' },
      { peers: 1, leaderLast: true, timeoutMs: 1000 },
      {
        reader: agreeingReader(docker, 'peer-3'),
        progress: quiet,
        intervalMs: 10,
      },
    );
    assert.deepEqual(docker.calls, [
      'stop enclave-elect-demo-peer-2',
      'remove enclave-elect-demo-peer-2',
      'stop enclave-elect-demo-peer-1',
      'remove enclave-elect-demo-peer-1',
    ]);
  });

  it('sends compose projects to compose', async () => {
    const docker = new FakeDocker();
    await assert.rejects(
      scaleCluster(
        docker.client,
        { kind: 'project', project: 'demo' },
        { peers: 7, leaderLast: true, timeoutMs: 1 },
        {
          reader: tableReader({}),
          progress: quiet,
        },
      ),
      { code: 'E_UNSUPPORTED', message: /docker compose -p demo up -d --scale peer=7/ },
    );
  });
});

describe('cluster down', () => {
  it("removes every container, network and volume with the cluster's labels, and nothing else", async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 2);
    ourCluster(docker, 'other', 1);
    docker.addNetwork('enclave-elect-demo-side-a', {
      'io.enclave-elect.cluster': 'demo',
      'io.enclave-elect.managed': 'true',
      'io.enclave-elect.role': 'partition',
    });
    docker.volumes.push(
      {
        name: 'enclave-elect-demo-pki',
        labels: { 'io.enclave-elect.cluster': 'demo', 'io.enclave-elect.managed': 'true' },
      },
      { name: 'unrelated', labels: {} },
    );
    docker.addContainer({ name: 'bystander', labels: { 'io.enclave-elect.cluster': 'demo' } });
    const result = await downCluster(docker.client, 'demo', quiet);
    assert.deepEqual(result.containers.sort(), [
      'enclave-elect-demo-enclave',
      'enclave-elect-demo-peer-1',
      'enclave-elect-demo-peer-2',
      'enclave-elect-demo-pki',
    ]);
    assert.deepEqual(result.networks.sort(), ['enclave-elect-demo', 'enclave-elect-demo-side-a']);
    assert.deepEqual(result.volumes, ['enclave-elect-demo-pki']);
    assert.deepEqual(docker.containers.map((c) => c.name).sort(), [
      'bystander',
      'enclave-elect-other-enclave',
      'enclave-elect-other-peer-1',
      'enclave-elect-other-pki',
    ]);
    assert.deepEqual(
      docker.volumes.map((v) => v.name),
      ['unrelated'],
    );
    const again = await downCluster(docker.client, 'demo', quiet);
    assert.deepEqual([again.containers, again.networks, again.volumes], [[], [], []]);
  });
});

describe('Docker engine connection', () => {
  it('says where it looked and how to start Docker', async () => {
    const docker = new FakeDocker();
    docker.reachable = false;
    await assert.rejects(ensureDockerReachable(docker.client), {
      code: 'E_DOCKER_UNAVAILABLE',
      message: /Docker is not reachable at .* \(ENOENT\)\. Start it .*dockerd.*DOCKER_HOST/,
    });
  });
});

describe('the project image', () => {
  it('says how to get an image that is missing and cannot be built here', async () => {
    const docker = new FakeDocker();
    docker.images.clear();
    await assert.rejects(
      ensureImage(docker.client, 'enclave-elect:local', {
        build: false,
        progress: quiet,
        context: '/nonexistent',
      }),
      {
        code: 'E_IMAGE_MISSING',
        message:
          'image enclave-elect:local is missing and there is no Dockerfile at /nonexistent to build it from. Build or load it (docker build -t enclave-elect:local .), or pass --image.',
      },
    );
  });

  it('uses a present image as it is unless --build', async () => {
    const docker = new FakeDocker();
    const built: string[] = [];
    const builder = async (image: string) => {
      built.push(image);
    };
    assert.equal(
      await ensureImage(docker.client, 'enclave-elect:local', { build: false, progress: quiet, builder }),
      'present',
    );
    assert.equal(
      await ensureImage(docker.client, 'enclave-elect:local', { build: true, progress: quiet, builder }),
      'built',
    );
    assert.deepEqual(built, ['enclave-elect:local']);
  });
});
