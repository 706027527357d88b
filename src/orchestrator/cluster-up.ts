// `cluster up`: a labelled network and volumes, the one-shot PKI step, the
// enclave and N peers from the project image; then wait until every peer
// names the same verified leader. What was created stays on failure, so it
// can be inspected (`cluster logs`) and removed (`cluster down`).
import type { NetworkCreateOptions } from 'dockerode';
import { EnclaveElectError } from '../errors.ts';
import { listClusterContainers } from './cluster-inventory.ts';
import {
  type ClusterSettings,
  enclaveContainerSpec,
  ledgerContainerSpec,
  networkSpec,
  peerContainerSpec,
  pkiContainerSpec,
  type VolumeKind,
  volumeSpec,
} from './cluster-spec.ts';
import { waitForAgreement } from './convergence.ts';
import { type DockerClient, dockerMessage, dockerStatus } from './docker-client.ts';
import { demultiplex } from './docker-stream.ts';
import { LABEL } from './labels.ts';
import type { StatusReader } from './peer-status.ts';
import { ensureImage, type ImageBuilder } from './project-image.ts';
import type { ClusterStatusReport } from './status-report.ts';

type Docker = Pick<
  DockerClient,
  | 'listContainers'
  | 'getContainer'
  | 'createContainer'
  | 'listNetworks'
  | 'createNetwork'
  | 'getNetwork'
  | 'createVolume'
  | 'getImage'
>;

export interface UpOptions extends ClusterSettings {
  peers: number;
  build: boolean;
  timeoutMs: number;
}

export interface UpContext {
  reader: StatusReader;
  progress: (line: string) => void;
  builder?: ImageBuilder;
  intervalMs?: number;
  signal?: AbortSignal;
}

export const MAX_PEERS = 100;

function leftAsIs(cluster: string): string {
  return `What was created is left for inspection: \`enclave-elect cluster logs --name ${cluster}\`; \`enclave-elect cluster down --name ${cluster}\` removes it.`;
}

async function assertNameFree(docker: Docker, cluster: string): Promise<void> {
  const filters = JSON.stringify({ label: [`${LABEL.cluster}=${cluster}`] });
  const containers = await listClusterContainers(docker, { kind: 'name', name: cluster });
  const networks = await docker.listNetworks({ filters });
  if (containers.length === 0 && networks.length === 0) return;
  throw new EnclaveElectError(
    'E_CONFLICT',
    `cluster '${cluster}' already exists (${containers.length} containers, ${networks.length} networks). \`enclave-elect cluster status --name ${cluster}\` shows it, \`enclave-elect cluster down --name ${cluster}\` removes it, or choose another --name.`,
  );
}

/** Create (and optionally start) a container, turning a taken name into a clear E_CONFLICT. */
export async function createContainer(
  docker: Pick<DockerClient, 'createContainer'>,
  spec: Parameters<DockerClient['createContainer']>[0],
) {
  try {
    return await docker.createContainer(spec);
  } catch (error) {
    if (dockerStatus(error) === 409) {
      throw new EnclaveElectError(
        'E_CONFLICT',
        `the container name ${spec.name} is taken by a container outside this cluster: remove it (docker rm ${spec.name}) or choose another --name`,
        { cause: error },
      );
    }
    if (dockerStatus(error) === 404) {
      throw new EnclaveElectError(
        'E_IMAGE_MISSING',
        `image ${spec.Image} is missing: ${dockerMessage(error)}`,
        {
          cause: error,
        },
      );
    }
    throw new EnclaveElectError('E_DOCKER', `creating ${spec.name} failed: ${dockerMessage(error)}`, {
      cause: error,
    });
  }
}

/**
 * The main network, with the subnet Docker picks made explicit: on a network
 * with a user-configured subnet a container can ask for an address, so `heal`
 * gives every container back the address its peers know it by.
 */
export async function createMainNetwork(
  docker: Pick<Docker, 'createNetwork' | 'getNetwork'>,
  spec: NetworkCreateOptions,
) {
  const first = await docker.createNetwork(spec);
  const info = await docker.getNetwork(first.id).inspect();
  const config = (info.IPAM?.Config ?? [])[0] as { Subnet?: string; Gateway?: string } | undefined;
  if (!config?.Subnet) return;
  await docker.getNetwork(first.id).remove();
  await docker.createNetwork({
    ...spec,
    IPAM: {
      Driver: 'default',
      Config: [{ Subnet: config.Subnet, ...(config.Gateway ? { Gateway: config.Gateway } : {}) }],
    },
  });
}

async function runPki(
  docker: Docker,
  settings: ClusterSettings,
  progress: (line: string) => void,
): Promise<void> {
  const container = await createContainer(docker, pkiContainerSpec(settings));
  await container.start();
  const { StatusCode } = (await container.wait()) as { StatusCode: number };
  if (StatusCode !== 0) {
    const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as Buffer;
    const { stdout, stderr } = demultiplex(raw);
    throw new EnclaveElectError(
      'E_PKI',
      `the PKI step exited ${StatusCode}:\n${`${stderr}${stdout}`.trim().slice(-1500)}\n${leftAsIs(settings.cluster)}`,
    );
  }
  progress('pki: mock attestation root created');
}

export async function upCluster(
  docker: Docker,
  options: UpOptions,
  context: UpContext,
): Promise<ClusterStatusReport> {
  const { progress } = context;
  await assertNameFree(docker, options.cluster);
  const image = await ensureImage(docker, options.image, {
    build: options.build,
    progress,
    ...(context.builder ? { builder: context.builder } : {}),
  });
  progress(`image ${options.image} ${image === 'built' ? 'built' : 'present'}`);
  const network = networkSpec(options);
  await createMainNetwork(docker, network);
  progress(`network ${network.Name}`);
  for (const kind of ['pki', 'trust', 'state', 'join'] as VolumeKind[])
    await docker.createVolume(volumeSpec(options, kind));
  await runPki(docker, options, progress);
  const enclave = await createContainer(docker, enclaveContainerSpec(options));
  await enclave.start();
  progress(`enclave started (policy ${options.policy}, lease ${options.leaseMs} ms)`);
  if (options.demo) {
    await (await createContainer(docker, ledgerContainerSpec(options))).start();
    progress('ledger started (demo: every peer runs the ledger writer while it leads)');
  }
  for (let i = 1; i <= options.peers; i++) {
    const spec = peerContainerSpec(options, i);
    await (await createContainer(docker, spec)).start();
    progress(`${spec.Hostname} started`);
  }
  progress(`waiting until all ${options.peers} peers agree on one verified leader`);
  return waitForAgreement(
    docker,
    { kind: 'name', name: options.cluster },
    {
      expectPeers: options.peers,
      timeoutMs: options.timeoutMs,
      reader: context.reader,
      progress,
      hint: leftAsIs(options.cluster),
      ...(context.intervalMs === undefined ? {} : { intervalMs: context.intervalMs }),
      ...(context.signal === undefined ? {} : { signal: context.signal }),
    },
  );
}
