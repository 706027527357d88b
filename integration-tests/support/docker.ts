// Docker plumbing shared by the integration tests: a run id, labelled
// networks, and a sweep that removes everything a run created. Testcontainers'
// reaper (Ryuk) cannot be pulled here, so tests clean up after themselves: in
// `after` hooks, and by label as a last resort (.ci/run sweeps too).
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';

/** Every container, network and volume a test creates carries this label. */
export const TEST_LABEL = 'io.enclave-elect.test';

export const docker = new Docker();

export function newRunId(): string {
  return `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export function testLabels(runId: string): Record<string, string> {
  return { [TEST_LABEL]: runId };
}

export interface TestNetwork {
  id: string;
  name: string;
}

/** A user-defined bridge network (so Docker DNS resolves aliases), labelled with the run id. */
export async function createTestNetwork(runId: string, suffix = 'net'): Promise<TestNetwork> {
  const name = `enclave-elect-${runId}-${suffix}`;
  const network = await docker.createNetwork({
    Name: name,
    Driver: 'bridge',
    CheckDuplicate: true,
    Labels: testLabels(runId),
  });
  return { id: network.id, name };
}

export interface SweepResult {
  containers: string[];
  networks: string[];
  volumes: string[];
}

/** Remove every container, network and volume labelled with this run id (or any run id). */
export async function sweep(runId?: string): Promise<SweepResult> {
  const label = runId ? `${TEST_LABEL}=${runId}` : TEST_LABEL;
  const filters = JSON.stringify({ label: [label] });
  const result: SweepResult = { containers: [], networks: [], volumes: [] };
  for (const info of await docker.listContainers({ all: true, filters })) {
    await docker
      .getContainer(info.Id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
    result.containers.push(info.Names[0] ?? info.Id);
  }
  for (const info of await docker.listNetworks({ filters })) {
    await docker
      .getNetwork(info.Id)
      .remove()
      .catch(() => undefined);
    result.networks.push(info.Name);
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const info of Volumes ?? []) {
    await docker
      .getVolume(info.Name)
      .remove()
      .catch(() => undefined);
    result.volumes.push(info.Name);
  }
  return result;
}

/** stdout and stderr of a container (not a TTY), demultiplexed. */
export async function containerOutput(id: string): Promise<{ stdout: string; stderr: string }> {
  const raw = (await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false })) as Buffer;
  const out = { stdout: '', stderr: '' };
  // Docker's multiplexed stream: 8-byte header [stream, 0, 0, 0, size(4, BE)] per frame.
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const stream = raw[offset];
    const size = raw.readUInt32BE(offset + 4);
    const chunk = raw.subarray(offset + 8, offset + 8 + size).toString('utf8');
    if (stream === 2) out.stderr += chunk;
    else out.stdout += chunk;
    offset += 8 + size;
  }
  return out;
}
