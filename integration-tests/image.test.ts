// The container image: built from the Dockerfile, run on a private network.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Wait } from 'testcontainers';
import { VERSION } from '../src/version.ts';
import {
  containerOutput,
  createTestNetwork,
  docker,
  newRunId,
  sweep,
  type TestNetwork,
  testLabels,
} from './support/docker.ts';
import { buildProjectImage, TEST_IMAGE } from './support/image.ts';

describe('container image', { timeout: 600_000 }, () => {
  const runId = newRunId();
  let network: TestNetwork;

  before(async () => {
    const started = Date.now();
    await buildProjectImage();
    const size = (await docker.getImage(TEST_IMAGE).inspect()).Size;
    console.log(
      `# built ${TEST_IMAGE} from the Dockerfile in ${Date.now() - started} ms, ${(size / 1e6).toFixed(0)} MB`,
    );
    network = await createTestNetwork(runId);
  });

  after(async () => {
    const removed = await sweep(runId);
    assert.equal(removed.networks.length, 1, 'the test network is removed');
    const left = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`io.enclave-elect.test=${runId}`] }),
    });
    assert.equal(left.length, 0);
  });

  it('runs `enclave-elect --version` inside a container on a private network', async () => {
    const image = await buildProjectImage();
    const container = await image
      .withNetworkMode(network.name)
      .withNetworkAliases('probe')
      .withLabels(testLabels(runId))
      .withCommand(['--version'])
      .withWaitStrategy(Wait.forOneShotStartup())
      .withStartupTimeout(60_000)
      .start();
    try {
      const id = container.getId();
      const info = await docker.getContainer(id).inspect();
      assert.equal(info.State.ExitCode, 0);
      assert.ok(info.NetworkSettings.Networks[network.name], 'attached to the private network');
      assert.ok(info.NetworkSettings.Networks[network.name]?.Aliases?.includes('probe'));
      const { stdout } = await containerOutput(id);
      assert.equal(stdout.trim(), VERSION);
      console.log(`# container ${id.slice(0, 12)} on ${network.name} printed: ${stdout.trim()}`);
    } finally {
      await container.stop({ remove: true });
    }
  });

  it('runs as the non-root node user with a healthcheck and OCI labels', async () => {
    const info = await docker.getImage(TEST_IMAGE).inspect();
    assert.equal(info.Config.User, 'node');
    // It picks node's flags by command: test/cli/node-entrypoint.test.ts.
    assert.deepEqual(info.Config.Entrypoint, ['/app/src/cli/node-entrypoint.sh']);
    assert.ok(
      info.Config.Healthcheck?.Test?.join(' ').includes('healthcheck'),
      'HEALTHCHECK runs src/peer/admin/healthcheck.js',
    );
    assert.ok(Object.keys(info.Config.ExposedPorts ?? {}).includes('7946/udp'));
    assert.equal(info.Config.Labels?.['org.opencontainers.image.title'], 'enclave-elect');
    assert.equal(info.Config.Labels?.['org.opencontainers.image.version'], 'itest');
  });

  it('exits 2 in the container for an unknown command', async () => {
    // Plain dockerode: testcontainers removes a container whose one-shot start fails.
    const container = await docker.createContainer({
      Image: TEST_IMAGE,
      Cmd: ['no-such-command'],
      Labels: testLabels(runId),
      HostConfig: { NetworkMode: network.name },
    });
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      assert.equal(StatusCode, 2);
      const { stderr } = await containerOutput(container.id);
      assert.match(stderr, /Unknown command 'no-such-command'/);
    } finally {
      await container.remove({ force: true });
    }
  });
});
