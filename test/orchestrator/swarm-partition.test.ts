// Partitions of a swarm stack: which task must stop hearing which, the helper
// each one gets on its own node, and the proof by probes from inside the
// tasks, against a fake overlay network whose drops follow the helpers that
// the node jobs start and remove.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HELPER_LABEL } from '../../src/orchestrator/fault-helper.ts';
import { parsePartitionArgs } from '../../src/orchestrator/partition-plan.ts';
import type { PeerReport } from '../../src/orchestrator/status-report.ts';
import type { NodeStep, NodeStepResult } from '../../src/orchestrator/swarm-node-job.ts';
import { healSwarm, partitionSwarm, SWARM_STACK_LABEL } from '../../src/orchestrator/swarm-partition.ts';
import { planSwarmPartition, swarmCuts } from '../../src/orchestrator/swarm-partition-plan.ts';
import { fakeSwarm, peerStatus, stackTask } from './fake-swarm.ts';

const enclave = stackTask('e1', 'enclave', 1, 'node1');
const p1 = stackTask('a1', 'peer', 1, 'node2');
const p2 = stackTask('b2', 'peer', 2, 'node3');
const p3 = stackTask('c3', 'peer', 3, 'node2');
const tasks = [enclave, p1, p2, p3];
const LEADER = 'peer-2';
const statuses = {
  a1: peerStatus('peer-1', LEADER, 4),
  b2: peerStatus('peer-2', LEADER, 4),
  c3: peerStatus('peer-3', LEADER, 4),
};
const reports: PeerReport[] = [p1, p2, p3].map((t) => ({
  container: `${t.name}@${t.node}`,
  name: statuses[t.id as keyof typeof statuses].name as string,
  state: 'running',
  status: statuses[t.id as keyof typeof statuses],
  error: null,
}));

const plan = (words: string[], enclaveSide?: string) =>
  planSwarmPartition(tasks, reports, parsePartitionArgs(words), enclaveSide);

describe('swarm partition plans', () => {
  it('isolates the leader; the enclave stays with the others by default', () => {
    const p = plan(['isolate', 'leader']);
    assert.deepEqual(
      p.sides.map((s) => [s.side, s.peers.map((x) => x.name)]),
      [
        ['A', ['peer-2']],
        ['B', ['peer-1', 'peer-3']],
      ],
    );
    assert.deepEqual(p.enclaveSides, ['B']);
  });

  it('makes each task deaf to the overlay addresses of every task it shares no side with', () => {
    const cuts = swarmCuts(plan(['isolate', 'leader']));
    assert.deepEqual(
      cuts.map((c) => [c.name, c.dropFrom, c.deafTo]),
      [
        ['peer-2', ['10.0.1.11', '10.0.1.13', '10.0.1.2'], ['peer-1', 'peer-3', 'enclave']],
        ['peer-1', ['10.0.1.12'], ['peer-2']],
        ['peer-3', ['10.0.1.12'], ['peer-2']],
        ['enclave', ['10.0.1.12'], ['peer-2']],
      ],
    );
  });

  it('leaves the enclave reachable from both sides with --enclave-side both', () => {
    const cuts = swarmCuts(plan(['peer-1,peer-3/peer-2'], 'both'));
    assert.equal(
      cuts.find((c) => c.name === 'enclave'),
      undefined,
    );
    assert.ok(cuts.every((c) => !c.deafTo.includes('enclave')));
  });

  it('accepts task names and refuses a peer left out, a peer named twice, and the enclave in a group', () => {
    assert.deepEqual(
      plan(['ee_peer.1,ee_peer.3/peer-2']).sides.map((s) => s.peers.length),
      [2, 1],
    );
    assert.throws(() => plan(['peer-1/peer-2']), { code: 'E_USAGE', message: /peer-3 is in no group/ });
    assert.throws(() => plan(['peer-1,peer-2/peer-2,peer-3']), { code: 'E_USAGE', message: /named twice/ });
    assert.throws(() => plan(['enclave/peer-1,peer-2,peer-3']), {
      code: 'E_USAGE',
      message: /not a peer task/,
    });
  });
});

/** The overlay as the fake nodes see it: which container drops which source address, by the helpers running. */
function fakeOverlay() {
  const drops = new Map<string, Set<string>>();
  const addressOf = new Map(tasks.map((t) => [t.containerId!, t.address!]));
  const containerAt = new Map(tasks.map((t) => [t.address!, t.containerId!]));
  const onNode = (nodeId: string) => tasks.filter((t) => t.nodeId === nodeId).map((t) => t.containerId!);
  const hears = (listener: string, speaker: string) => !drops.get(listener)?.has(addressOf.get(speaker)!);
  const answer = (nodeId: string, step: NodeStep): NodeStepResult => {
    const at = '2026-11-27T13:00:00.000Z';
    switch (step.op) {
      case 'remove':
      case 'sweep': {
        // A helper's TERM trap removes its rules.
        const removed = onNode(nodeId)
          .filter((c) => drops.has(c))
          .map((c) => ({ id: `helper-${c}`, labels: { [HELPER_LABEL.target]: c } }));
        for (const c of onNode(nodeId)) drops.delete(c);
        return {
          at,
          removed,
          ...(step.op === 'sweep'
            ? {
                swept: removed.map((r) => ({
                  target: r.labels[HELPER_LABEL.target]!,
                  exitCode: 0,
                  stdout: 'clean',
                })),
              }
            : {}),
        };
      }
      case 'run': {
        const create = step.create as { Cmd: string[]; HostConfig: { NetworkMode: string } };
        const target = create.HostConfig.NetworkMode.replace('container:', '');
        const from = create.Cmd[create.Cmd.indexOf('--drop-from') + 1]!;
        drops.set(target, new Set(from.split(',')));
        return { at, id: `helper-${target}` };
      }
      case 'exec': {
        const targets = JSON.parse(/const targets=(\[[^\]]*\])/.exec(step.cmd[2]!)![1]!) as string[];
        const outcomes = targets.map((ip) => {
          const other = containerAt.get(ip)!;
          return hears(step.container, other) && hears(other, step.container) ? 'refused' : 'timeout';
        });
        return { at, exitCode: 0, stdout: JSON.stringify(outcomes), stderr: '' };
      }
      default:
        return { at, present: true };
    }
  };
  return { drops, onJob: (nodeId: string, steps: NodeStep[]) => steps.map((s) => answer(nodeId, s)) };
}

describe('cluster partition --swarm', () => {
  it("starts each cut's helper in its task's namespace from a job on the task's node, and proves the split", async () => {
    const overlay = fakeOverlay();
    const { client, jobs } = fakeSwarm({ tasks, statuses, onJob: overlay.onJob });
    const result = await partitionSwarm(client, 'ee', plan(['isolate', 'leader']), {
      progress: () => undefined,
      helperImage: 'helper:test',
    });
    const applied = jobs.slice(0, 3);
    assert.deepEqual(applied.map((j) => j.nodeId).sort(), ['id-node1', 'id-node2', 'id-node3']);
    assert.ok(
      jobs.every((j) => j.removed),
      'every job is removed once it has answered',
    );
    const node2 = applied.find((j) => j.nodeId === 'id-node2')!;
    assert.deepEqual(
      node2.steps.map((s) => s.op),
      ['remove', 'image', 'run', 'run'],
      'old helpers of the stack go first; the image must be there',
    );
    const run = node2.steps[2] as Extract<NodeStep, { op: 'run' }>;
    const create = run.create as {
      Image: string;
      Cmd: string[];
      Labels: Record<string, string>;
      HostConfig: Record<string, unknown>;
    };
    assert.equal(create.Image, 'helper:test');
    assert.deepEqual(create.Cmd, ['apply', '--drop-from', '10.0.1.12']);
    assert.equal(create.HostConfig.NetworkMode, 'container:c-a1');
    assert.deepEqual(create.HostConfig.CapAdd, ['NET_ADMIN', 'NET_RAW']);
    assert.equal(create.Labels[SWARM_STACK_LABEL], 'ee');
    assert.equal(run.readyText, 'net-fault: ready');
    assert.deepEqual(result.proof, { checked: 12, unexpected: [], skipped: [] });
    assert.deepEqual(result.cuts[0], {
      peer: 'peer-2',
      task: 'ee_peer.2@node3',
      deafTo: ['peer-1', 'peer-3', 'enclave'],
    });
  });

  it('fails as unproven when a probe disagrees, naming the pair', async () => {
    const overlay = fakeOverlay();
    const { client } = fakeSwarm({
      tasks,
      statuses,
      // Engines that start no helper at all: every pair still reaches the other.
      onJob: (nodeId, steps) =>
        overlay
          .onJob(
            nodeId,
            steps.filter((s) => s.op !== 'run'),
          )
          .concat(steps.filter((s) => s.op === 'run').map(() => ({ at: '' }))),
    });
    await assert.rejects(
      partitionSwarm(client, 'ee', plan(['isolate', 'leader']), {
        progress: () => undefined,
        helperImage: 'h',
      }),
      {
        code: 'E_UNPROVEN',
        message: /6 of 12 probes disagree:\n {2}peer-2 -> peer-1 \(10\.0\.1\.11\): refused, expected dropped/,
      },
    );
  });

  it('says how to get the helper image onto the nodes when one lacks it', async () => {
    const { client } = fakeSwarm({
      tasks,
      statuses,
      onJob: (_node, steps) => ({
        error: 'no image h:1 on this node',
        results: steps.slice(0, 1).map(() => ({ at: '' })),
      }),
    });
    await assert.rejects(
      partitionSwarm(client, 'ee', plan(['isolate', 'peer-1']), {
        progress: () => undefined,
        helperImage: 'h:1',
      }),
      { code: 'E_IMAGE_MISSING', message: /docker save h:1 \| docker load/ },
    );
  });
});

describe('cluster heal --swarm', () => {
  it('removes the helpers on every ready node, checks each namespace is clean, and proves full reach', async () => {
    const overlay = fakeOverlay();
    const nodes = ['node1', 'node2', 'node3', 'node4', 'node5'].map((n) => ({
      id: `id-${n}`,
      hostname: n,
      state: n === 'node4' ? 'down' : 'ready',
      availability: n === 'node5' ? 'drain' : 'active',
    }));
    const { client, jobs } = fakeSwarm({ tasks, statuses, nodes, onJob: overlay.onJob });
    await partitionSwarm(client, 'ee', plan(['isolate', 'leader']), {
      progress: () => undefined,
      helperImage: 'h',
    });
    jobs.length = 0;
    const healed = await healSwarm(client, 'ee', { progress: () => undefined, helperImage: 'h' });
    const sweeps = jobs.filter((j) => j.steps[0]?.op === 'sweep');
    assert.deepEqual(
      sweeps.map((j) => j.nodeId).sort(),
      ['id-node1', 'id-node2', 'id-node3'],
      'not the down node',
    );
    assert.equal(overlay.drops.size, 0);
    assert.deepEqual(healed.removed.sort(), [
      'enclave@node1',
      'peer-1@node2',
      'peer-2@node3',
      'peer-3@node2',
    ]);
    assert.deepEqual(healed.proof, { checked: 12, unexpected: [], skipped: [] });
  });

  it('fails when a namespace still holds rules after its helper is gone', async () => {
    const { client } = fakeSwarm({
      tasks,
      statuses,
      onJob: (nodeId, steps) =>
        steps.map(() => ({
          at: '',
          removed: nodeId === 'id-node2' ? [{ id: 'h', labels: { [HELPER_LABEL.target]: 'c-a1' } }] : [],
          swept:
            nodeId === 'id-node2'
              ? [{ target: 'c-a1', exitCode: 3, stdout: 'iptables chain EE_CUT-IN' }]
              : [],
        })),
    });
    await assert.rejects(
      healSwarm(client, 'ee', { progress: () => undefined, helperImage: 'h', settleMs: 0 }),
      {
        code: 'E_UNPROVEN',
        message: /rules are left in: peer-1@node2: iptables chain EE_CUT-IN/,
      },
    );
  });
});
