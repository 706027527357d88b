// Faults on a swarm stack's tasks: which task a target names, the engine call
// for each fault, and the one-shot job on the task's node that makes it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerReport } from '../../src/orchestrator/status-report.ts';
import {
  applySwarmFault,
  engineCall,
  resolveSwarmTarget,
  type SwarmFaultClient,
} from '../../src/orchestrator/swarm-faults.ts';
import { STACK_LABEL, type StackTask } from '../../src/orchestrator/swarm-tasks.ts';
import { stackTask, stdoutFrame } from './fake-swarm.ts';

function report(task: StackTask, name: string, leader: string, epoch: number): PeerReport {
  return {
    container: `${task.name}@${task.node}`,
    name,
    state: 'running',
    status: { name, isLeader: name === leader, leader: { name: leader, epoch, verified: true } },
    error: null,
  };
}

const enclave = stackTask('e1xyz', 'enclave', 1, 'node1');
const p1 = stackTask('a1aaaa', 'peer', 1, 'node2');
const p2 = stackTask('b2bbbb', 'peer', 2, 'node3');
const p3 = stackTask('c3cccc', 'peer', 3, 'node2');
const tasks = [enclave, p1, p2, p3];
const reports = [
  report(p1, 'peer-1-a', 'peer-2-b', 7),
  report(p2, 'peer-2-b', 'peer-2-b', 7),
  report(p3, 'peer-3-c', 'peer-2-b', 7),
];

describe('swarm fault targets', () => {
  it('finds the leader by the peer that acts as leader', () => {
    const chosen = resolveSwarmTarget(tasks, reports, 'leader');
    assert.equal(chosen.task, p2);
    assert.equal(chosen.name, 'peer-2-b');
    assert.equal(chosen.how, 'leader (epoch 7)');
  });

  it('accepts a member name, a task name, a task id prefix and enclave', () => {
    assert.equal(resolveSwarmTarget(tasks, reports, 'peer-3-c').task, p3);
    assert.equal(resolveSwarmTarget(tasks, reports, 'ee_peer.1').task, p1);
    assert.equal(resolveSwarmTarget(tasks, reports, 'b2bb').task, p2);
    assert.equal(resolveSwarmTarget(tasks, reports, 'enclave').task, enclave);
  });

  it('picks the same random peer for the same seed, and says which seed', () => {
    const first = resolveSwarmTarget(tasks, reports, 'random', 'cafe');
    const again = resolveSwarmTarget(tasks, reports, 'random', 'cafe');
    assert.equal(first.task, again.task);
    assert.equal(first.task.service, 'peer');
    assert.equal(first.how, 'random of 3, seed cafe');
  });

  it('names the running peers when nothing matches', () => {
    assert.throws(() => resolveSwarmTarget(tasks, reports, 'peer-9'), {
      code: 'E_NOT_FOUND',
      message: /no running task or peer 'peer-9'.*peer-1-a \(ee_peer\.1@node2\)/,
    });
  });

  it('never picks a task that is not running', () => {
    const starting = stackTask('d4dddd', 'peer', 4, 'node3', 'starting');
    assert.throws(() => resolveSwarmTarget([starting], [], 'ee_peer.4'), { code: 'E_NOT_FOUND' });
  });
});

describe('swarm fault engine calls', () => {
  it('kills with the given signal, stops with the grace, pauses and unpauses', () => {
    assert.deepEqual(engineCall({ fault: 'kill', target: 'x' }, 'abc'), {
      method: 'POST',
      path: '/containers/abc/kill?signal=SIGKILL',
    });
    assert.equal(
      engineCall({ fault: 'kill', target: 'x', signal: 'SIGTERM' }, 'abc').path,
      '/containers/abc/kill?signal=SIGTERM',
    );
    assert.equal(
      engineCall({ fault: 'stop', target: 'x', graceSeconds: 3 }, 'abc').path,
      '/containers/abc/stop?t=3',
    );
    assert.equal(engineCall({ fault: 'pause', target: 'x' }, 'abc').path, '/containers/abc/pause');
    assert.equal(engineCall({ fault: 'unpause', target: 'x' }, 'abc').path, '/containers/abc/unpause');
  });
});

/** A manager whose stack is the tasks above; the engine on the task's node answers fault calls with `status`. */
function fakeManager(status: number) {
  const services: { spec: Record<string, unknown>; removed: boolean }[] = [];
  const raw = (t: StackTask) => ({
    ID: t.id,
    ServiceID: t.service,
    NodeID: t.nodeId,
    Slot: Number(t.name.split('.')[1]),
    DesiredState: 'running',
    Status: { State: 'running', ContainerStatus: { ContainerID: t.containerId } },
    Spec: { ContainerSpec: { Image: t.image } },
    NetworksAttachments: [
      {
        Network: { Spec: { Name: 'ee_cluster', Labels: { [STACK_LABEL]: 'ee' } } },
        Addresses: [`${t.address}/24`],
      },
    ],
  });
  const statuses = Object.fromEntries(
    reports.map((r) => [
      tasks.find((t) => `${t.name}@${t.node}` === r.container)!.address,
      { status: r.status },
    ]),
  );
  const frame = stdoutFrame(JSON.stringify(statuses));
  const client = {
    listServices: async () => [
      { ID: 'enclave', Spec: { Name: 'ee_enclave' } },
      { ID: 'peer', Spec: { Name: 'ee_peer' } },
    ],
    listNodes: async () =>
      ['node1', 'node2', 'node3'].map((n) => ({ ID: `id-${n}`, Description: { Hostname: n } })),
    listTasks: async (options: { filters: string }) => {
      const wanted = JSON.parse(options.filters).service as string[];
      if (wanted[0]?.startsWith('enclave-elect-job-')) return [{ Status: { State: 'complete' } }];
      return tasks.map(raw);
    },
    createContainer: async () => ({
      start: async () => undefined,
      wait: async () => ({}),
      logs: async () => frame,
      remove: async () => undefined,
    }),
    getContainer: () => {
      throw new Error('not used');
    },
    createService: async (spec: Record<string, unknown>) => {
      const entry = { spec, removed: false };
      services.push(entry);
      const body = status < 300 ? '' : 'container is not paused';
      const output = { results: [{ status, body, at: '2026-11-27T13:00:00.123Z' }] };
      return {
        logs: async () => stdoutFrame(`${JSON.stringify(output)}\n`),
        remove: async () => {
          entry.removed = true;
        },
      };
    },
  };
  return { client: client as unknown as SwarmFaultClient, services };
}

describe('swarm faults through a job on the task node', () => {
  it("kills the leader's container from a one-shot job pinned to its node, then removes the job", async () => {
    const { client, services } = fakeManager(204);
    const result = await applySwarmFault(client, 'ee', { fault: 'kill', target: 'leader' }, { pollMs: 1 });
    assert.deepEqual(
      [result.name, result.task, result.node, result.at],
      ['peer-2-b', 'ee_peer.2@node3', 'node3', '2026-11-27T13:00:00.123Z'],
    );
    assert.equal(services.length, 1);
    const spec = services[0]!.spec as {
      Mode: unknown;
      TaskTemplate: {
        ContainerSpec: { Image: string; Command: string[]; Mounts: { Source: string }[] };
        Placement: { Constraints: string[] };
      };
    };
    assert.deepEqual(spec.Mode, { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } });
    assert.deepEqual(spec.TaskTemplate.Placement.Constraints, ['node.id==id-node3']);
    assert.equal(spec.TaskTemplate.ContainerSpec.Image, 'enclave-elect:local', "the stack's own image");
    assert.deepEqual(JSON.parse(spec.TaskTemplate.ContainerSpec.Command.at(-1)!), [
      { op: 'call', method: 'POST', path: '/containers/c-b2bbbb/kill?signal=SIGKILL' },
    ]);
    assert.equal(spec.TaskTemplate.ContainerSpec.Mounts[0]?.Source, '/var/run/docker.sock');
    assert.equal(services[0]!.removed, true);
  });

  it('reports a refused engine call with what it tried, and still removes the job', async () => {
    const { client, services } = fakeManager(409);
    await assert.rejects(
      applySwarmFault(client, 'ee', { fault: 'unpause', target: 'peer-1-a' }, { pollMs: 1 }),
      {
        code: 'E_DOCKER',
        message:
          /job on node2 failed: HTTP 409 container is not paused \(POST \/containers\/c-a1aaaa\/unpause;/,
      },
    );
    assert.equal(services[0]!.removed, true);
  });
});
