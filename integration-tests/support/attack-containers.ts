// The two attackers of the election attack test (issue 14) as containers of
// the project image on a cluster's network, labelled like the cluster and
// removed with it: an outsider holding only the published root certificate,
// and a malicious member holding the join secret. Each runs its attack
// program (copied in beside src/, so its relative imports resolve) as its
// main process and logs its tally as JSON lines.
import { join } from 'node:path';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import {
  ENCLAVE_ALIAS,
  ENCLAVE_PORT,
  JOIN_DIR,
  PEER_ALIAS,
  peerCommand,
  TRUST_DIR,
} from '../../src/orchestrator/cluster-commands.ts';
import { testLabels } from './docker.ts';
import type { ElectionCluster } from './election-cluster.ts';
import { PROJECT_ROOT, TEST_IMAGE } from './image.ts';

const SUPPORT = '/app/integration-tests/support';
const ADMIN_PORT = 7947;

function attacker(cluster: ElectionCluster, program: string): GenericContainer {
  return (
    new GenericContainer(TEST_IMAGE)
      .withEntrypoint(['node', `${SUPPORT}/${program}`])
      .withLabels(testLabels(cluster.runId))
      .withNetworkMode(cluster.network.name)
      .withTmpFs({ '/tmp': 'rw,size=16m' })
      // Not a peer's healthcheck: an attacker is up once its program runs.
      .withHealthCheck({ test: ['CMD', 'true'], interval: 1000, startPeriod: 1000 })
      .withCopyFilesToContainer(
        [program, 'election-attacks.ts'].map((file) => ({
          source: join(PROJECT_ROOT, 'integration-tests/support', file),
          target: `${SUPPORT}/${file}`,
        })),
      )
  );
}

/** The outsider: no join secret, no admitted key; attacks the enclave API directly. */
export async function startOutsiderAttacker(
  cluster: ElectionCluster,
  victim: string,
): Promise<StartedTestContainer> {
  const container = await attacker(cluster, 'outsider-attacker.ts')
    .withEnvironment({
      ENCLAVE_URL: `http://${ENCLAVE_ALIAS}:${ENCLAVE_PORT}`,
      CLUSTER_ID: cluster.clusterId,
      PEER_STATUS_URL: `http://${PEER_ALIAS}:${ADMIN_PORT}/status`,
      VICTIM: victim,
    })
    .withWaitStrategy(Wait.forHealthCheck())
    .start();
  cluster.outsiders.push(container);
  return container;
}

/** The malicious member `name`: a real, admitted peer in-process, plus its attacks with its own key. */
export async function startMaliciousMember(
  cluster: ElectionCluster,
  name: string,
  victim: string,
): Promise<StartedTestContainer> {
  const { cmd, env } = peerCommand(name, { cluster: cluster.clusterId });
  const container = await attacker(cluster, 'malicious-member.ts')
    .withCommand(cmd.slice(1)) // the arguments after `peer`
    .withEnvironment({
      ...Object.fromEntries(env.map((e) => e.split('=', 2) as [string, string])),
      LOG_LEVEL: 'info',
      LOG_PRETTY: '0',
      VICTIM: victim,
    })
    .withNetworkAliases(name)
    .withBindMounts([
      { source: cluster.volumes.trust, target: TRUST_DIR, mode: 'ro' },
      { source: cluster.volumes.join, target: JOIN_DIR, mode: 'ro' },
    ])
    .withWaitStrategy(Wait.forLogMessage(/"event":"peer\.started"/))
    .start();
  cluster.outsiders.push(container);
  return container;
}
