// Chaos on a swarm stack: which kinds it injects (and the clear refusal of
// the others), how a scheduled name follows its slot when the swarm replaces
// a task, and which task exits the run explains.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkSwarmKinds,
  resolveSwarmScheduled,
  runSwarmChaos,
  SWARM_CHAOS_KINDS,
  slotOf,
  taskExits,
} from '../../src/chaos/swarm-chaos.ts';
import type { PeerReport } from '../../src/orchestrator/status-report.ts';
import type { NodeStep } from '../../src/orchestrator/swarm-node-job.ts';
import { fakeSwarm, peerStatus, stackTask } from '../orchestrator/fake-swarm.ts';
import { runBinary } from '../support/run-cli.ts';

function report(slot: number, node: string, name: string, leader: string, state = 'running'): PeerReport {
  return {
    container: `ee_peer.${slot}@${node}`,
    name,
    state,
    status: peerStatus(name, leader, 3),
    error: null,
  };
}

describe('swarm chaos kinds', () => {
  it('injects kill, stop, pause and partition, and refuses the rest by name', () => {
    assert.deepEqual([...SWARM_CHAOS_KINDS], ['kill', 'stop', 'pause', 'partition']);
    assert.doesNotThrow(() => checkSwarmKinds(['kill', 'partition']));
    assert.throws(() => checkSwarmKinds(['kill', 'restart', 'delay']), {
      code: 'E_USAGE',
      message:
        /--swarm cannot inject restart, delay; on a swarm stack chaos injects kill, stop, pause, partition/,
    });
  });

  it('refuses other kinds and --peers with exit 2 before touching Docker', async () => {
    const kinds = await runBinary(['cluster', 'chaos', '--swarm', 'ee', '--faults', 'kill,enclave-restart']);
    assert.equal(kinds.code, 2, kinds.stderr);
    assert.match(kinds.stderr, /cannot inject enclave-restart.*kill, stop, pause, partition/);
    const peers = await runBinary(['cluster', 'chaos', '--swarm', 'ee', '--peers', '5']);
    assert.equal(peers.code, 2);
    assert.match(peers.stderr, /drop --peers/);
    const both = await runBinary(['cluster', 'chaos', '--swarm', 'ee', '--name', 'x']);
    assert.equal(both.code, 2);
  });

  it('draws its dry-run schedule from the swarm kinds by default', async () => {
    const result = await runBinary([
      'cluster',
      'chaos',
      '--swarm',
      'ee',
      '--dry-run',
      '--seed',
      '42',
      '--duration',
      '1m',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const kinds = new Set((JSON.parse(result.stdout) as { kind: string }[]).map((f) => f.kind));
    for (const kind of kinds) assert.ok((SWARM_CHAOS_KINDS as readonly string[]).includes(kind), kind);
  });
});

describe('swarm chaos targets', () => {
  const slots = new Map([
    ['peer-1-a', 'ee_peer.1'],
    ['peer-2-b', 'ee_peer.2'],
  ]);

  it('follows a name to whoever runs in its slot now, since a replaced task is a new member', () => {
    const now = [report(1, 'node3', 'peer-1-z', 'peer-2-b'), report(2, 'node2', 'peer-2-b', 'peer-2-b')];
    const target = resolveSwarmScheduled('peer-1-a', now, slots, 'peer-2-b');
    assert.equal(typeof target === 'string' ? target : target.name, 'peer-1-z');
    assert.equal(slotOf(now[0]!), 'ee_peer.1');
  });

  it('resolves the leader by name, and explains what it cannot resolve', () => {
    const now = [
      report(1, 'node3', 'peer-1-a', 'peer-2-b'),
      report(2, 'node2', 'peer-2-b', 'peer-2-b', 'starting'),
    ];
    assert.equal(resolveSwarmScheduled('leader', now, slots, null), 'no leader is agreed on');
    assert.equal(
      resolveSwarmScheduled('leader', now, slots, 'peer-2-b'),
      'the leader peer-2-b runs in no task',
    );
    assert.equal(resolveSwarmScheduled('peer-9', now, slots, null), 'no peer peer-9');
    assert.equal(
      resolveSwarmScheduled('peer-2-b', now, slots, null),
      "no task runs in peer-2-b's slot ee_peer.2",
    );
  });
});

describe('swarm chaos exits', () => {
  it('lists the peer tasks that ended during the run, named by the member a fault hit', () => {
    const killed = { ...stackTask('k1', 'peer', 1, 'node2', 'failed'), changedAt: 1500, exitCode: 137 };
    const before = { ...stackTask('o1', 'peer', 2, 'node3', 'failed'), changedAt: 500, exitCode: 137 };
    const running = { ...stackTask('r1', 'peer', 3, 'node2'), changedAt: 1200 };
    const enclave = { ...stackTask('e1', 'enclave', 1, 'node1', 'failed'), changedAt: 1600 };
    const exits = taskExits([killed, before, running, enclave], 1000, 2000, new Map([['k1', 'peer-1-a']]));
    assert.deepEqual(exits, [{ t: 1500, name: 'peer-1-a', container: 'ee_peer.1@node2', exitCode: 137 }]);
  });
});

describe('a swarm chaos run', () => {
  const tasks = [
    stackTask('e1', 'enclave', 1, 'node1'),
    stackTask('a1', 'peer', 1, 'node2'),
    stackTask('b2', 'peer', 2, 'node3'),
    stackTask('c3', 'peer', 3, 'node2'),
  ];
  const statuses = {
    a1: peerStatus('peer-1', 'peer-2', 3),
    b2: peerStatus('peer-2', 'peer-2', 3),
    c3: peerStatus('peer-3', 'peer-2', 3),
  };
  /** Every probe answers: the overlay is whole. */
  const whole = (_node: string, steps: NodeStep[]) =>
    steps.map((step) => {
      if (step.op !== 'exec') return { at: new Date().toISOString() };
      const targets = JSON.parse(/const targets=(\[[^\]]*\])/.exec(step.cmd[2]!)![1]!) as string[];
      return { at: '', exitCode: 0, stdout: JSON.stringify(targets.map(() => 'refused')), stderr: '' };
    });
  const line = (t: number, fields: Record<string, unknown>) =>
    `${new Date(t).toISOString()} ${JSON.stringify({ time: new Date(t).toISOString(), ...fields })}`;

  it("records the stack's members from their own start, earlier tasks' keys but not their leadership, and the certificate each member held at the start", async () => {
    const start = Date.now();
    const { client } = fakeSwarm({
      tasks,
      statuses,
      onJob: whole,
      logs: {
        ee_peer: [
          line(start - 100_000, { peer: 'peer-2', event: 'peer.started', key: 'k2' }),
          // A certificate a member replaced before the run is not this run's (its leader's node may be gone,
          // and its key with it),
          line(start - 61_000, {
            peer: 'peer-1',
            event: 'certificate.accepted',
            epoch: 1,
            leader: 'peer-0',
            leaderKey: 'k0',
          }),
          line(start - 60_000, { peer: 'peer-2', event: 'leader.acquired', epoch: 3 }),
          // but the one it still held when the run began is: a heal that changes no leader is measured
          // against it, not against when the runner next managed to read the peer.
          line(start - 59_000, {
            peer: 'peer-1',
            event: 'certificate.accepted',
            epoch: 3,
            leader: 'peer-2',
            leaderKey: 'k2',
          }),
          // A task replaced before the run, which never logged its end: its leadership is not this run's,
          line(start - 90_000, { peer: 'peer-9-old', event: 'leader.acquired', epoch: 2 }),
          // but its key is what certificates naming it are checked against.
          line(start - 95_000, { peer: 'peer-9-old', event: 'peer.started', key: 'k9' }),
          line(start - 94_000, {
            peer: 'peer-9-old',
            event: 'certificate.accepted',
            epoch: 2,
            leader: 'peer-9-old',
            leaderKey: 'k9',
          }),
        ],
        ee_enclave: [],
      },
    });
    const run = await runSwarmChaos(
      {
        seed: 's',
        durationMs: 1,
        intervalMs: 5000,
        faults: ['pause'],
        stack: 'ee',
        leaseMs: 2000,
        pollIntervalMs: 5,
      },
      { docker: client, progress: () => undefined, note: () => undefined },
    );
    assert.deepEqual(run.history.peers, ['peer-1', 'peer-2', 'peer-3']);
    assert.deepEqual(
      run.history.events.map((e) => [e.peer, e.event, e.epoch]),
      [
        ['peer-2', 'peer.started', undefined],
        ['peer-9-old', 'peer.started', undefined],
        ['peer-2', 'leader.acquired', 3],
        ['peer-1', 'certificate.accepted', 3],
      ],
    );
    assert.deepEqual(run.history.faults, []);
    assert.ok(
      run.verdicts.every((v) => v.ok),
      JSON.stringify(run.verdicts.filter((v) => !v.ok)),
    );
  });

  it('refuses to start when the stack does not agree, saying how to look', async () => {
    const { client } = fakeSwarm({
      tasks,
      statuses: { ...statuses, c3: peerStatus('peer-3', 'peer-3', 2) },
      onJob: whole,
    });
    await assert.rejects(
      runSwarmChaos(
        {
          seed: 's',
          durationMs: 1,
          intervalMs: 5000,
          faults: ['kill'],
          stack: 'ee',
          leaseMs: 2000,
          pollIntervalMs: 5,
          steadyTimeoutMs: 200,
        },
        { docker: client, progress: () => undefined, note: () => undefined },
      ),
      { code: 'E_NOT_STEADY', message: /stack 'ee' is not in a steady state.*cluster status --swarm ee/ },
    );
  });
});
