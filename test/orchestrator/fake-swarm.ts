// A swarm manager's engine API without an engine, for the `--swarm` commands:
// a stack `ee` (the enclave on node1, peers on node2 and node3), a reader
// container that answers the peers' /status, and one-shot node jobs whose
// steps are recorded and answered by the test's own `onJob`.

import type { PeerStatus } from '../../src/orchestrator/peer-status.ts';
import type { NodeStep, NodeStepResult } from '../../src/orchestrator/swarm-node-job.ts';
import { STACK_LABEL, type StackTask } from '../../src/orchestrator/swarm-tasks.ts';

export function stackTask(
  id: string,
  service: string,
  slot: number,
  node: string,
  state = 'running',
): StackTask {
  return {
    id,
    service,
    name: `ee_${service}.${slot}`,
    node,
    nodeId: `id-${node}`,
    containerId: `c-${id}`,
    state,
    desiredState: 'running',
    message: '',
    address: `10.0.1.${slot + (service === 'enclave' ? 1 : 10)}`,
    network: 'ee_cluster',
    image: 'enclave-elect:local',
  };
}

/** A multiplexed Docker log stream holding one stdout frame. */
export function stdoutFrame(text: string): Buffer {
  const header = Buffer.alloc(8);
  header[0] = 1;
  header.writeUInt32BE(Buffer.byteLength(text), 4);
  return Buffer.concat([header, Buffer.from(text)]);
}

export function peerStatus(name: string, leader: string, epoch: number): PeerStatus {
  return { name, isLeader: name === leader, leader: { name: leader, epoch, verified: true } };
}

export interface RecordedJob {
  nodeId: string;
  image: string;
  steps: NodeStep[];
  removed: boolean;
}

export interface FakeSwarmOptions {
  tasks: StackTask[];
  /** /status per task id (peers); a task without one does not answer. */
  statuses?: Record<string, PeerStatus>;
  /** Nodes and their swarm state; default: every task's node, ready. */
  nodes?: { id: string; hostname: string; state: string; availability?: string }[];
  /** Log lines (`<ISO time> <text>`) per service name (ee_peer, ee_enclave), all logged by its first task. */
  logs?: Record<string, string[]>;
  /** Answers one job; default: every step succeeds with nothing to say. */
  onJob?: (
    nodeId: string,
    steps: NodeStep[],
  ) => NodeStepResult[] | { error: string; results: NodeStepResult[] };
}

export function fakeSwarm(options: FakeSwarmOptions) {
  const jobs: RecordedJob[] = [];
  const at = '2026-11-27T13:00:00.000Z';
  const onJob = options.onJob ?? ((_node: string, steps: NodeStep[]) => steps.map(() => ({ at })));
  const nodes: NonNullable<FakeSwarmOptions['nodes']> =
    options.nodes ??
    [...new Map(options.tasks.map((t) => [t.nodeId, t.node]))].map(([id, hostname]) => ({
      id,
      hostname,
      state: 'ready',
    }));
  const raw = (t: StackTask) => ({
    ID: t.id,
    ServiceID: t.service,
    NodeID: t.nodeId,
    Slot: Number(t.name.split('.')[1]),
    DesiredState: t.desiredState,
    Status: { State: t.state, ContainerStatus: { ContainerID: t.containerId } },
    Spec: { ContainerSpec: { Image: t.image } },
    NetworksAttachments: [
      {
        Network: { Spec: { Name: 'ee_cluster', Labels: { [STACK_LABEL]: 'ee' } } },
        Addresses: [`${t.address}/24`],
      },
    ],
  });
  const byAddress = Object.fromEntries(
    options.tasks
      .filter((t) => options.statuses?.[t.id] !== undefined)
      .map((t) => [t.address, { status: options.statuses![t.id] }]),
  );
  const client = {
    listServices: async () => [
      { ID: 'enclave', Spec: { Name: 'ee_enclave' } },
      { ID: 'peer', Spec: { Name: 'ee_peer' } },
    ],
    listNodes: async () =>
      nodes.map((n) => ({
        ID: n.id,
        Description: { Hostname: n.hostname },
        Status: { State: n.state },
        Spec: { Availability: n.availability ?? 'active' },
      })),
    listTasks: async (query: { filters: string }) => {
      const wanted = JSON.parse(query.filters).service as string[];
      if (wanted[0]?.startsWith('enclave-elect-job-')) return [{ Status: { State: 'complete' } }];
      return options.tasks.map(raw);
    },
    createContainer: async () => ({
      start: async () => undefined,
      wait: async () => ({ StatusCode: 0 }),
      logs: async () => stdoutFrame(JSON.stringify(byAddress)),
      remove: async () => undefined,
    }),
    // A service's lines come from its first task; the others logged nothing.
    getTask: (id: string) => ({
      logs: async () => {
        const task = options.tasks.find((t) => t.id === id);
        const first = options.tasks.find((t) => t.service === task?.service);
        const lines = task && first === task ? (options.logs?.[`ee_${task.service}`] ?? []) : [];
        return stdoutFrame(`${lines.join('\n')}\n`);
      },
    }),
    getContainer: () => {
      throw new Error('a swarm command reaches task containers only through node jobs');
    },
    createService: async (spec: {
      TaskTemplate: {
        ContainerSpec: { Image: string; Command: string[] };
        Placement: { Constraints: string[] };
      };
    }) => {
      const steps = JSON.parse(spec.TaskTemplate.ContainerSpec.Command.at(-1)!) as NodeStep[];
      const nodeId = spec.TaskTemplate.Placement.Constraints[0]!.replace('node.id==', '');
      const job: RecordedJob = {
        nodeId,
        image: spec.TaskTemplate.ContainerSpec.Image,
        steps,
        removed: false,
      };
      jobs.push(job);
      const answer = onJob(nodeId, steps);
      // The agent prints `results` first; the error, if any, after.
      const output = Array.isArray(answer)
        ? { results: answer }
        : { results: answer.results, error: answer.error };
      return {
        logs: async () => stdoutFrame(`${JSON.stringify(output)}\n`),
        remove: async () => {
          job.removed = true;
        },
      };
    },
  };
  return { client: client as never, jobs };
}
