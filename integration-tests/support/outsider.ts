// A container of the project image that is not a peer: it sits on a cluster's
// network doing nothing, with some of integration-tests/support/ copied in
// (to /app/integration-tests/support/, so their relative imports reach
// /app/src), for tests to `exec` attacks from inside the network.
import { join } from 'node:path';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { testLabels } from './docker.ts';
import { PROJECT_ROOT, TEST_IMAGE } from './image.ts';

export function startOutsider(
  runId: string,
  network: string,
  scripts: string[],
): Promise<StartedTestContainer> {
  return (
    new GenericContainer(TEST_IMAGE)
      .withEntrypoint(['node', '-e', 'setInterval(() => {}, 1 << 30)'])
      // Not a peer: the image's healthcheck (a peer's /healthz) does not apply.
      .withHealthCheck({ test: ['CMD', 'true'], interval: 1000, startPeriod: 1000 })
      .withWaitStrategy(Wait.forHealthCheck())
      .withLabels(testLabels(runId))
      .withNetworkMode(network)
      .withCopyFilesToContainer(
        scripts.map((file) => ({
          source: join(PROJECT_ROOT, 'integration-tests/support', file),
          target: `/app/integration-tests/support/${file}`,
        })),
      )
      .start()
  );
}
