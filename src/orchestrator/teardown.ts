// `cluster down`: remove every container, network and volume that carries the
// cluster's label, and say what was removed. Containers go first (a network in
// use cannot be removed), then networks (main and partition sides), then volumes.
import { EnclaveElectError } from '../errors.ts';
import { type DockerClient, dockerMessage, dockerStatus } from './docker-client.ts';
import { HELPER_LABEL, listHelpers } from './fault-helper.ts';
import { LABEL } from './labels.ts';

export interface DownResult {
  cluster: string;
  containers: string[];
  networks: string[];
  volumes: string[];
}

type Docker = Pick<
  DockerClient,
  'listContainers' | 'getContainer' | 'listNetworks' | 'getNetwork' | 'listVolumes' | 'getVolume'
>;

async function removeIgnoringGone(what: string, remove: () => Promise<unknown>): Promise<void> {
  try {
    await remove();
  } catch (error) {
    if (dockerStatus(error) === 404) return; // already gone: that is what we wanted
    throw new EnclaveElectError('E_DOCKER', `removing ${what} failed: ${dockerMessage(error)}`, {
      cause: error,
    });
  }
}

export async function downCluster(
  docker: Docker,
  cluster: string,
  progress: (line: string) => void,
): Promise<DownResult> {
  const filters = JSON.stringify({ label: [`${LABEL.cluster}=${cluster}`, `${LABEL.managed}=true`] });
  const result: DownResult = { cluster, containers: [], networks: [], volumes: [] };
  const members = await docker.listContainers({ all: true, filters });
  // Fault helpers share a member's network namespace but not its labels: remove them first.
  for (const info of await listHelpers(docker)) {
    if (!members.some((m) => m.Id === info.Labels?.[HELPER_LABEL.target])) continue;
    const name = (info.Names?.[0] ?? info.Id).replace(/^\//, '');
    await removeIgnoringGone(`container ${name}`, () => docker.getContainer(info.Id).remove({ force: true }));
    result.containers.push(name);
    progress(`removed fault helper ${name}`);
  }
  for (const info of members) {
    const name = (info.Names?.[0] ?? info.Id).replace(/^\//, '');
    await removeIgnoringGone(`container ${name}`, () =>
      docker.getContainer(info.Id).remove({ force: true, v: true }),
    );
    result.containers.push(name);
    progress(`removed container ${name}`);
  }
  for (const info of await docker.listNetworks({ filters })) {
    await removeIgnoringGone(`network ${info.Name}`, () => docker.getNetwork(info.Id).remove());
    result.networks.push(info.Name);
    progress(`removed network ${info.Name}`);
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const info of Volumes ?? []) {
    await removeIgnoringGone(`volume ${info.Name}`, () => docker.getVolume(info.Name).remove());
    result.volumes.push(info.Name);
    progress(`removed volume ${info.Name}`);
  }
  return result;
}
