// Issue 13's crafted datagrams from an outsider container on the cluster
// network (identity theft at incarnation 2^53-1, fake members, names no layer
// accepts, 126 pulls and 77 indirect pings in one datagram, replays of each
// member's own record): no honest peer's view of another honest member
// changes, no peer restarts, the outsider draws at most the bytes it sent, and
// the five peers keep agreeing on one leader. Everything created is labelled
// with the run id and removed in `after`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StartedTestContainer } from 'testcontainers';
import type { PeerStatus } from '../src/orchestrator/peer-status.ts';
import { docker, newRunId, sweep } from './support/docker.ts';
import { AGREEMENT_MS, ElectionCluster } from './support/election-cluster.ts';
import { startOutsider } from './support/outsider.ts';

process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

const PEERS = 5;
const GOSSIP_PORT = 7946;
const ROUNDS = 5;

/** What one peer believes of the others: the part an outsider must not change. */
function viewOfOthers(status: PeerStatus, honest: readonly string[]): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const m of status.members ?? []) {
    if (m.name === status.name || !honest.includes(m.name)) continue;
    view[m.name] = { state: m.state, address: m.address, publicKey: (m as { publicKey?: string }).publicKey };
  }
  return view;
}

describe('hostile datagrams from an outsider container', { timeout: 900_000 }, () => {
  const runId = newRunId();
  let cluster: ElectionCluster;
  let outsider: StartedTestContainer;

  before(async () => {
    cluster = await ElectionCluster.start({ runId, suffix: 'hostile', peers: PEERS });
    outsider = await startOutsider(runId, cluster.network.name, ['hostile-datagrams.ts']);
  });

  after(async () => {
    if (outsider)
      await docker
        .getContainer(outsider.getId())
        .remove({ force: true })
        .catch(() => undefined);
    await cluster?.close();
    await sweep(runId);
  });

  it('changes no honest view of another member, crashes nothing, draws at most 1x, and the five keep agreeing', async () => {
    const agreed = await cluster.actingLeader(90_000);
    const honest = cluster.live();
    assert.equal(honest.length, PEERS);
    const before = new Map([...agreed.statuses].map(([name, s]) => [name, viewOfOthers(s, honest)]));
    const started = new Map(
      await Promise.all(
        honest.map(async (name) => {
          const state = (await docker.getContainer(cluster.containerId(name)).inspect()).State;
          return [name, state.StartedAt] as const;
        }),
      ),
    );
    const anyStatus = agreed.statuses.get(honest[0]!)!;
    const members = await Promise.all(
      (anyStatus.members ?? [])
        .filter((m) => honest.includes(m.name))
        .map(async (m) => ({
          name: m.name,
          address: m.address,
          // A peer may advertise another network's address; the outsider shares the cluster's.
          target: `${await cluster.address(m.name)}:${GOSSIP_PORT}`,
          incarnation: m.incarnation,
          publicKey: (m as { publicKey?: string }).publicKey,
        })),
    );
    const outsiderIp = (await docker.getContainer(outsider.getId()).inspect()).NetworkSettings.Networks[
      cluster.network.name
    ]?.IPAddress;
    const result = await outsider.exec(
      [
        'node',
        '/app/integration-tests/support/hostile-datagrams.ts',
        JSON.stringify(members),
        String(GOSSIP_PORT),
        String(ROUNDS),
      ],
      { env: { SELF_IP: outsiderIp ?? '' } },
    );
    assert.equal(result.exitCode, 0, result.stderr);
    const report = JSON.parse(result.stdout) as {
      sentBytes: number;
      receivedBytes: number;
      sentDatagrams: number;
      byAttack: Record<string, number>;
    };
    const factor = report.receivedBytes / report.sentBytes;
    console.log(
      `outsider sent ${report.sentBytes} bytes in ${report.sentDatagrams} datagrams, drew ${report.receivedBytes} (${factor.toFixed(3)}x)`,
    );
    assert.ok(factor <= 1, `the outsider drew ${factor.toFixed(3)}x the bytes it sent`);

    const after = await cluster.agreed(
      'the five still agree',
      AGREEMENT_MS,
      (a) => a.statuses.size === PEERS,
    );
    for (const name of honest) {
      const status = after.statuses.get(name)!;
      assert.deepEqual(viewOfOthers(status, honest), before.get(name), `${name}'s view of the others`);
      const { State } = await docker.getContainer(cluster.containerId(name)).inspect();
      assert.deepEqual([State.Running, State.StartedAt], [true, started.get(name)], `${name} kept running`);
      const dropped = status.counters?.dropped ?? {};
      console.log(`${name}: ${JSON.stringify(status.counters)}`);
      assert.equal(dropped['internal-error'] ?? 0, 0, `${name}: no internal error`);
      assert.ok(
        (dropped['bad-number'] ?? 0) > 0 && (dropped['bad-name'] ?? 0) > 0,
        `${name} counted the refusals`,
      );
    }
  });
});
