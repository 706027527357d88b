// A cluster laid out like `cluster up` makes it (labels, a main network) whose
// "peers" are fault-helper containers running its UDP echo tool instead of the
// election: network faults and partitions are measured from outside the
// system under test, with no dependence on it. Every container keeps no
// capability at all, like the real peers.
import assert from 'node:assert/strict';
import { demultiplex } from '../../src/orchestrator/docker-stream.ts';
import { docker, testLabels } from './docker.ts';

export const ECHO = '/usr/local/lib/fault-helper/udp-echo.mjs';

export interface NetStandin {
  cluster: string;
  /** Member name (peer-1, ..., enclave) -> container id. */
  ids: Record<string, string>;
  containerName: (member: string) => string;
}

export async function startNetStandin(
  runId: string,
  image: string,
  peers: number,
  options: { enclave?: boolean } = {},
): Promise<NetStandin> {
  const cluster = `it-${runId}`;
  const network = `enclave-elect-${cluster}`;
  await docker.createNetwork({
    Name: network,
    Driver: 'bridge',
    CheckDuplicate: true,
    Labels: {
      ...testLabels(runId),
      'io.enclave-elect.managed': 'true',
      'io.enclave-elect.cluster': cluster,
      'io.enclave-elect.role': 'network',
    },
  });
  const containerName = (member: string) => `enclave-elect-${cluster}-${member}`;
  const members = [
    ...Array.from({ length: peers }, (_, i) => `peer-${i + 1}`),
    ...(options.enclave ? ['enclave'] : []),
  ];
  const ids: Record<string, string> = {};
  for (const member of members) {
    const role = member === 'enclave' ? 'enclave' : 'peer';
    const container = await docker.createContainer({
      name: containerName(member),
      Image: image,
      Entrypoint: ['node'],
      Cmd: [ECHO, 'serve', '7000'],
      Labels: {
        ...testLabels(runId),
        'io.enclave-elect.managed': 'true',
        'io.enclave-elect.cluster': cluster,
        'io.enclave-elect.role': role,
        ...(role === 'peer' ? { 'io.enclave-elect.peer': member } : {}),
      },
      HostConfig: { NetworkMode: network, CapDrop: ['ALL'] },
    });
    await container.start();
    ids[member] = container.id;
  }
  return { cluster, ids, containerName };
}

/** Run the echo tool in a container and parse the JSON line it prints. */
export async function echoTool<T>(id: string, args: string[]): Promise<T> {
  const exec = await docker.getContainer(id).exec({
    Cmd: ['node', ECHO, ...args],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', resolve);
  });
  const { stdout, stderr } = demultiplex(Buffer.concat(chunks));
  assert.ok(stdout.trim() !== '', `udp-echo ${args.join(' ')} printed nothing: ${stderr}`);
  return JSON.parse(stdout) as T;
}

/** Datagrams `to` received of 20 that `from` sent it: one direction only. */
export async function heardOf20(standin: NetStandin, from: string, to: string): Promise<number> {
  const listening = echoTool<{ received: number }>(standin.ids[to]!, ['listen', '7001', '1500']);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await echoTool<{ sent: number }>(standin.ids[from]!, ['send', standin.containerName(to), '7001', '20']);
  return (await listening).received;
}
