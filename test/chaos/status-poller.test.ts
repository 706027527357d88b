import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { finalSteadyVerdict } from '../../src/chaos/run-chaos.ts';
import { StatusPoller } from '../../src/chaos/status-poller.ts';
import type { ClusterContainer } from '../../src/orchestrator/cluster-inventory.ts';
import { peerStatus } from '../orchestrator/fixtures.ts';

const info = (name: string) => ({
  Id: `id-${name}`,
  Names: [`/x-${name}`],
  State: 'running',
  Status: 'Up',
  Labels: { 'io.enclave-elect.cluster': 'x', 'io.enclave-elect.role': 'peer', 'io.enclave-elect.peer': name },
  NetworkSettings: { Networks: {} },
});

describe('status poller', () => {
  it('gives up a round that never answers, and goes on polling', async () => {
    let calls = 0;
    const report = { peers: [] } as never;
    // The first read never settles (a stream whose socket went away without an error).
    const collect = () => (calls++ === 0 ? new Promise<never>(() => undefined) : Promise.resolve(report));
    const poller = StatusPoller.over(collect, 5, Date.now, 50);
    poller.start();
    const round = await poller.until(() => true, 0, 2000);
    await poller.stop();
    assert.ok(round !== null, 'a later round answered');
    assert.ok(calls >= 2);
  });

  it('never reads a held peer once hold() returns, and reads it again after release()', async () => {
    const docker = { listContainers: async () => [info('peer-1'), info('peer-2')] };
    const reads: { name: string; at: number }[] = [];
    let inFlight = 0;
    const reader = async (c: ClusterContainer) => {
      inFlight += 1;
      reads.push({ name: c.name, at: Date.now() });
      await sleep(30);
      inFlight -= 1;
      return { name: c.name, leader: { name: 'peer-1', epoch: 1, verified: true } };
    };
    const poller = new StatusPoller(docker as never, { kind: 'name', name: 'x' }, reader, 5);
    poller.start();
    await sleep(50);
    await poller.hold(['peer-2', 'x-peer-2']);
    assert.equal(inFlight, 0, 'the round in flight has finished');
    const heldAt = Date.now();
    await sleep(120);
    assert.deepEqual(
      reads.filter((r) => r.name === 'peer-2' && r.at >= heldAt),
      [],
    );
    const held = poller.observations.filter((o) => o.peer === 'peer-2' && o.t > heldAt);
    assert.ok(held.length > 0 && held.every((o) => !o.live && o.leader === null));
    poller.release(['peer-2', 'x-peer-2']);
    await sleep(100);
    await poller.stop();
    assert.ok(reads.some((r) => r.name === 'peer-2' && r.at > heldAt + 120));
  });
});

describe('the steady-state verdict', () => {
  it('judges leases as of when the round read them, not when the verdict is printed', () => {
    const readAt = Date.now() - 6000;
    const peers = ['peer-1', 'peer-2'].map((name) => {
      const status = peerStatus(name, 'peer-1', 2);
      // Live for another second when read; long over by now.
      status.leader!.leaseEndsAt = readAt + 1000;
      return { container: name, name, state: 'running', status, error: null };
    });
    const round = {
      startedAt: readAt,
      t: readAt + 500,
      report: { cluster: 'demo', peers, agreed: true, leader: 'peer-1', epoch: 2 },
    };
    const verdict = finalSteadyVerdict(round, 2);
    assert.equal(verdict.ok, true);
    assert.equal(verdict.summary, '2/2 agree on peer-1, epoch 2');
  });
});
