import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listClusterContainers } from '../../src/orchestrator/cluster-inventory.ts';
import { applyFault, type FaultRequest } from '../../src/orchestrator/faults.ts';
import { resolveTarget } from '../../src/orchestrator/targets.ts';
import { FakeDocker } from './fake-docker.ts';
import { ourCluster, peerStatus, tableReader } from './fixtures.ts';

const demo = { kind: 'name', name: 'demo' } as const;

async function containersOf(docker: FakeDocker) {
  return listClusterContainers(docker.client, demo);
}

describe('target resolution', () => {
  it('finds a peer by member name, container name, id prefix, and the enclave by role', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 3);
    const containers = await containersOf(docker);
    const reader = tableReader({});
    assert.equal(
      (await resolveTarget(containers, 'peer-2', { reader })).container.container,
      'enclave-elect-demo-peer-2',
    );
    assert.equal(
      (await resolveTarget(containers, 'enclave-elect-demo-peer-3', { reader })).container.name,
      'peer-3',
    );
    const id = containers.find((c) => c.name === 'peer-1')!.id;
    assert.equal((await resolveTarget(containers, id.slice(0, 12), { reader })).container.name, 'peer-1');
    assert.equal((await resolveTarget(containers, 'enclave', { reader })).container.role, 'enclave');
  });

  it('lists the peers and their states when a target does not exist', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 2, { 'peer-2': 'exited' });
    await assert.rejects(resolveTarget(await containersOf(docker), 'peer-9', { reader: tableReader({}) }), {
      code: 'E_NOT_FOUND',
      message:
        "no peer or container 'peer-9' in this cluster. Peers: peer-1 (running), peer-2 (exited). Also accepted: leader, random, enclave, a container name.",
    });
  });

  it('finds the leader from the peer that acts as leader', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 3);
    const reader = tableReader({
      'peer-1': peerStatus('peer-1', 'peer-3', 4),
      'peer-2': peerStatus('peer-2', 'peer-3', 4),
      'peer-3': peerStatus('peer-3', 'peer-3', 4),
    });
    const target = await resolveTarget(await containersOf(docker), 'leader', { reader });
    assert.equal(target.container.name, 'peer-3');
    assert.equal(target.how, 'leader (epoch 4)');
  });

  it('finds the leader by the majority view when the leader itself does not answer', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 3);
    const reader = tableReader({
      'peer-1': peerStatus('peer-1', 'peer-3'),
      'peer-2': peerStatus('peer-2', 'peer-3'),
    });
    assert.equal(
      (await resolveTarget(await containersOf(docker), 'leader', { reader })).container.name,
      'peer-3',
    );
  });

  it('fails clearly when no peer knows a leader', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 2);
    const reader = tableReader({ 'peer-1': peerStatus('peer-1', null) });
    await assert.rejects(resolveTarget(await containersOf(docker), 'leader', { reader }), {
      code: 'E_NOT_FOUND',
      message: /no running peer reports a leader \(2 running; peer-2: nothing listens/,
    });
  });

  it('picks `random` reproducibly from the seed, among eligible peers only', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 6, { 'peer-4': 'exited' });
    const containers = await containersOf(docker);
    const reader = tableReader({});
    const picks = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const a = await resolveTarget(containers, 'random', { reader, seed: `s${i}` });
      const b = await resolveTarget(containers, 'random', { reader, seed: `s${i}` });
      assert.equal(a.container.name, b.container.name, 'same seed, same pick');
      assert.notEqual(a.container.name, 'peer-4', 'a stopped peer is not picked for a running-only fault');
      picks.add(a.container.name);
    }
    assert.equal(picks.size, 5, 'every running peer gets picked by some seed');
    const unseeded = await resolveTarget(containers, 'random', { reader });
    assert.match(unseeded.how, /^random of 5, seed [0-9a-f]+$/);
    const replay = await resolveTarget(containers, 'random', { reader, seed: unseeded.seed! });
    assert.equal(replay.container.name, unseeded.container.name, 'the printed seed replays the pick');
  });
});

describe('container faults', () => {
  const context = { reader: tableReader({}), progress: () => undefined };
  const fault = (docker: FakeDocker, request: FaultRequest) =>
    applyFault(docker.client, demo, '--name demo', request, context);

  it('kills with SIGKILL by default and reports the state change', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 3);
    const result = await fault(docker, { fault: 'kill', target: 'peer-2' });
    assert.deepEqual(docker.calls, ['kill SIGKILL enclave-elect-demo-peer-2']);
    assert.deepEqual(
      { name: result.name, before: result.before, after: result.after, seed: result.seed },
      { name: 'peer-2', before: 'running', after: 'exited', seed: null },
    );
  });

  it('sends the asked signal', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 1);
    await fault(docker, { fault: 'kill', target: 'peer-1', signal: 'SIGTERM' });
    assert.deepEqual(docker.calls, ['kill SIGTERM enclave-elect-demo-peer-1']);
  });

  it('refuses to stop a container that is not running, naming its state and the way out', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 2, { 'peer-2': 'exited' });
    await assert.rejects(fault(docker, { fault: 'stop', target: 'peer-2' }), {
      code: 'E_STATE',
      message:
        'cannot stop peer-2 (container enclave-elect-demo-peer-2): it is exited, and stop needs it running. `enclave-elect cluster start peer-2 --name demo` starts it.',
    });
    assert.deepEqual(docker.calls, [], 'nothing was sent to the engine');
  });

  it('refuses to stop a paused peer and suggests unpause or kill', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 1, { 'peer-1': 'paused' });
    await assert.rejects(fault(docker, { fault: 'stop', target: 'peer-1' }), {
      code: 'E_STATE',
      message: /it is paused.*cluster unpause peer-1 --name demo.*cluster kill peer-1/,
    });
  });

  it('refuses to start a running peer', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 1);
    await assert.rejects(fault(docker, { fault: 'start', target: 'peer-1' }), {
      code: 'E_STATE',
      message: /it is running.*It is already running\.$/,
    });
  });

  it('pauses for a while and unpauses', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 1);
    const lines: string[] = [];
    const started = Date.now();
    const result = await applyFault(
      docker.client,
      demo,
      '--name demo',
      { fault: 'pause', target: 'peer-1', pauseForMs: 50 },
      {
        ...context,
        progress: (line) => lines.push(line),
      },
    );
    assert.ok(Date.now() - started >= 45);
    assert.deepEqual(docker.calls, ['pause enclave-elect-demo-peer-1', 'unpause enclave-elect-demo-peer-1']);
    assert.equal(result.after, 'running');
    assert.match(lines.join('\n'), /unpausing in 50ms/);
  });

  it('`start random` picks among stopped peers', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 3, { 'peer-3': 'exited' });
    const result = await fault(docker, { fault: 'start', target: 'random', seed: '1' });
    assert.equal(result.name, 'peer-3');
    assert.equal(result.seed, '1');
  });

  it('turns an engine conflict into E_STATE with the engine message', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 1);
    const containers = await containersOf(docker);
    // The container stops between the listing and the call.
    docker.container(containers.find((c) => c.name === 'peer-1')!.id).state = 'running';
    const original = docker.getContainer.bind(docker);
    docker.getContainer = (id: string) => ({
      ...original(id),
      pause: async () => {
        throw Object.assign(new Error('conflict'), {
          statusCode: 409,
          json: { message: 'Container abc is not running' },
        });
      },
    });
    await assert.rejects(fault(docker, { fault: 'pause', target: 'peer-1' }), {
      code: 'E_STATE',
      message: 'pause peer-1 failed: Container abc is not running',
    });
  });
});
