// `cluster status --swarm STACK`: the stack's tasks as a manager lists them,
// and the peers' /status read through one reader container on the stack's
// network, turned into the same report `cluster status` prints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  collectSwarmView,
  type StackReadClient,
  stackPeerReports,
} from '../../src/orchestrator/swarm-status.ts';
import { listStackTasks, STACK_LABEL, type StackTask } from '../../src/orchestrator/swarm-tasks.ts';

const NETWORK = { Spec: { Name: 'ee_cluster', Labels: { [STACK_LABEL]: 'ee' } } };
const INGRESS = { Spec: { Name: 'ingress', Labels: {} } };

function task(id: string, service: string, slot: number, node: string, ip: string, state = 'running') {
  return {
    ID: id,
    ServiceID: service,
    NodeID: node,
    Slot: slot,
    DesiredState: state === 'shutdown' ? 'shutdown' : 'running',
    Status: { State: state, Message: state === 'running' ? 'started' : 'shutdown' },
    Spec: { ContainerSpec: { Image: 'enclave-elect:local@sha256:abc' } },
    NetworksAttachments: [
      { Network: INGRESS, Addresses: ['10.255.0.9/16'] },
      { Network: NETWORK, Addresses: [`${ip}/24`] },
    ],
  };
}

function status(name: string, leader: string, epoch: number) {
  return { name, isLeader: name === leader, leader: { name: leader, epoch, verified: true } };
}

/** A multiplexed Docker log stream holding one stdout frame. */
function stdoutFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = 1;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** A swarm manager with stack `ee`: the enclave on node1, three peers on node2/node3, one old shut-down task. */
function fakeManager(statuses: Record<string, unknown>) {
  const created: { Image?: string; Cmd?: string[]; HostConfig?: { NetworkMode?: string } }[] = [];
  const removed: string[] = [];
  const client = {
    async listServices(options: { filters: string }) {
      assert.deepEqual(JSON.parse(options.filters), { label: [`${STACK_LABEL}=ee`] });
      return [
        { ID: 's-enclave', Spec: { Name: 'ee_enclave' } },
        { ID: 's-peer', Spec: { Name: 'ee_peer' } },
      ];
    },
    async listNodes() {
      return [
        { ID: 'n1', Description: { Hostname: 'node1' } },
        { ID: 'n2', Description: { Hostname: 'node2' } },
        { ID: 'n3', Description: { Hostname: 'node3' } },
      ];
    },
    async listTasks() {
      return [
        task('t-p2', 's-peer', 2, 'n3', '10.0.1.12'),
        task('t-p1', 's-peer', 1, 'n2', '10.0.1.11'),
        task('t-old', 's-peer', 1, 'n3', '10.0.1.5', 'shutdown'),
        task('t-p3', 's-peer', 3, 'n2', '10.0.1.13'),
        task('t-e', 's-enclave', 1, 'n1', '10.0.1.2'),
      ];
    },
    async createContainer(options: (typeof created)[number]) {
      created.push(options);
      return {
        id: 'reader',
        start: async () => undefined,
        wait: async () => ({ StatusCode: 0 }),
        logs: async () => stdoutFrame(JSON.stringify(statuses)),
        remove: async () => {
          removed.push('reader');
        },
      };
    },
    getContainer() {
      throw new Error('not used');
    },
  };
  return { client: client as unknown as StackReadClient, created, removed };
}

describe('swarm stack tasks', () => {
  it("lists the stack's current and past tasks with their node and overlay address, peers last by slot", async () => {
    const { client } = fakeManager({});
    const tasks = await listStackTasks(client, 'ee');
    assert.deepEqual(
      tasks.map((t) => [t.service, t.name, t.node, t.address, t.network, t.desiredState]),
      [
        ['enclave', 'ee_enclave.1', 'node1', '10.0.1.2', 'ee_cluster', 'running'],
        ['peer', 'ee_peer.1', 'node2', '10.0.1.11', 'ee_cluster', 'running'],
        ['peer', 'ee_peer.1', 'node3', '10.0.1.5', 'ee_cluster', 'shutdown'],
        ['peer', 'ee_peer.2', 'node3', '10.0.1.12', 'ee_cluster', 'running'],
        ['peer', 'ee_peer.3', 'node2', '10.0.1.13', 'ee_cluster', 'running'],
      ],
    );
  });

  it('names the stack and how to make one when it has no services', async () => {
    const client = { listServices: async () => [], listNodes: async () => [], listTasks: async () => [] };
    await assert.rejects(listStackTasks(client as unknown as StackReadClient, 'nope'), {
      code: 'E_NOT_FOUND',
      message: /stack 'nope' has no services.*docker stack deploy -c deploy\/swarm\/stack.yml nope/,
    });
  });
});

describe('cluster status --swarm', () => {
  it("reads every running peer through one reader on the stack's network, and reports agreement", async () => {
    const leader = 'peer-2-b';
    const { client, created, removed } = fakeManager({
      '10.0.1.11': { status: status('peer-1-a', leader, 4) },
      '10.0.1.12': { status: status('peer-2-b', leader, 4) },
      '10.0.1.13': { status: status('peer-3-c', leader, 4) },
    });
    const { report, others } = await collectSwarmView(client, 'ee');
    assert.equal(created.length, 1, 'one reader for all peers');
    assert.equal(created[0]?.HostConfig?.NetworkMode, 'ee_cluster');
    assert.equal(created[0]?.Image, 'enclave-elect:local@sha256:abc', "the stack's own image");
    assert.deepEqual(created[0]?.Cmd?.slice(2), ['10.0.1.11', '10.0.1.12', '10.0.1.13']);
    assert.deepEqual(removed, ['reader']);
    assert.deepEqual(
      report.peers.map((p) => [p.container, p.name]),
      [
        ['ee_peer.1@node2', 'peer-1-a'],
        ['ee_peer.2@node3', 'peer-2-b'],
        ['ee_peer.3@node2', 'peer-3-c'],
      ],
    );
    assert.deepEqual([report.cluster, report.agreed, report.leader, report.epoch], ['ee', true, leader, 4]);
    assert.deepEqual(others, [
      { name: 'enclave', container: 'ee_enclave.1@node1', statusText: 'running (started) on node1' },
    ]);
  });

  it('shows a peer the reader could not reach with the reason, and no agreement', async () => {
    const { client } = fakeManager({
      '10.0.1.11': { status: status('peer-1-a', 'peer-1-a', 2) },
      '10.0.1.12': { error: 'TimeoutError' },
      '10.0.1.13': { status: status('peer-3-c', 'peer-1-a', 2) },
    });
    const { report } = await collectSwarmView(client, 'ee');
    assert.equal(report.agreed, false);
    assert.deepEqual(
      report.peers.map((p) => p.error),
      [null, 'TimeoutError', null],
    );
  });

  it('reports a task that is not running without reading it', () => {
    const starting: StackTask = {
      id: 't',
      service: 'peer',
      name: 'ee_peer.4',
      node: 'node3',
      nodeId: 'n3',
      containerId: undefined,
      state: 'starting',
      desiredState: 'running',
      message: 'starting',
      address: '10.0.1.14',
      network: 'ee_cluster',
      image: 'enclave-elect:local',
    };
    const [report] = stackPeerReports([starting], {});
    assert.equal(report?.status, null);
    assert.equal(report?.error, 'task is starting: starting');
  });
});
