// The swarm history's log reader: task by task, so a node that is down cannot
// stall it (a service's log waits for every node that ever ran its tasks).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stackLogEvents } from '../../src/chaos/swarm-recording.ts';
import { fakeSwarm, stackTask, stdoutFrame } from '../orchestrator/fake-swarm.ts';

const line = (t: number, fields: Record<string, unknown>) =>
  `${new Date(t).toISOString()} ${JSON.stringify({ time: new Date(t).toISOString(), ...fields })}`;

describe('stackLogEvents', () => {
  const tasks = [
    stackTask('e1', 'enclave', 1, 'node1'),
    stackTask('a1', 'peer', 1, 'node2'),
    stackTask('b2', 'peer', 2, 'node3'),
    stackTask('c3', 'peer', 3, 'node4'),
  ];
  const nodes = [
    { id: 'id-node1', hostname: 'node1', state: 'ready' },
    { id: 'id-node2', hostname: 'node2', state: 'ready' },
    { id: 'id-node3', hostname: 'node3', state: 'down' },
    { id: 'id-node4', hostname: 'node4', state: 'ready' },
  ];
  /** Per task id: its log, or a read that never answers (the engine waiting for a node). */
  const logs: Record<string, string[] | 'hang'> = {
    e1: [line(3000, { event: 'enclave.admitted', peer: 'peer-1', key: 'k1' })],
    a1: [line(1000, { peer: 'peer-1', event: 'peer.started', key: 'k1' })],
    b2: [line(2000, { peer: 'peer-2', event: 'peer.started', key: 'k2' })],
    c3: 'hang',
  };
  const client = () => {
    const asked: string[] = [];
    const { client: base } = fakeSwarm({ tasks, nodes });
    const docker = Object.assign(base as object, {
      getTask: (id: string) => ({
        logs: (options: { abortSignal?: AbortSignal }) => {
          asked.push(id);
          const log = logs[id]!;
          if (log !== 'hang') return Promise.resolve(stdoutFrame(`${log.join('\n')}\n`));
          return new Promise((_resolve, reject) =>
            options.abortSignal?.addEventListener('abort', () => reject(options.abortSignal!.reason)),
          );
        },
      }),
    });
    return { docker: docker as never, asked };
  };

  it("reads each task's log, skips tasks on a node that is down and gives up a read that hangs, naming both", async () => {
    const { docker, asked } = client();
    const started = Date.now();
    const { events, unread } = await stackLogEvents(docker, 'ee', ['peer', 'enclave'], 0, { timeoutMs: 200 });
    assert.ok(Date.now() - started < 5000, 'a hanging read does not hold the history');
    assert.deepEqual(
      events.map((e) => [e.peer, e.event]),
      [
        ['peer-1', 'peer.started'],
        ['peer-1', 'enclave.admitted'],
      ],
    );
    assert.equal(asked.includes('b2'), false, 'the task on the down node is not asked');
    assert.deepEqual(
      unread.sort((a, b) => a.task.localeCompare(b.task)),
      [
        { task: 'ee_peer.2', node: 'node3', reason: 'its node is down' },
        { task: 'ee_peer.3', node: 'node4', reason: 'no answer in 0.2 s' },
      ],
    );
  });

  it('reads only the services asked for, and only lines since the given time', async () => {
    const { docker, asked } = client();
    const { events, unread } = await stackLogEvents(docker, 'ee', ['enclave'], 2500);
    assert.deepEqual(asked, ['e1']);
    assert.deepEqual(
      events.map((e) => [e.peer, e.event, e.t]),
      [['peer-1', 'enclave.admitted', 3000]],
    );
    assert.deepEqual(unread, []);
  });
});
