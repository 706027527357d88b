// Five peers from the project image on a private network, joining by the DNS
// alias `peer` (as compose's service name). A `docker kill` of one is detected
// by the other four; a `docker pause` of one is detected, and after unpause it
// refutes its death with a higher incarnation and rejoins. A peer reconnected to
// the network with a new IP (as a compose network gives after a partition)
// announces it, and the others reach it there. Everything created is labelled
// with the run id and removed in `after`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import {
  createTestNetwork,
  docker,
  newRunId,
  sweep,
  type TestNetwork,
  testLabels,
} from './support/docker.ts';
import { buildProjectImage, TEST_IMAGE } from './support/image.ts';

process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

interface Status {
  name: string;
  incarnation: number;
  address: string;
  members: { name: string; state: string; incarnation: number; address: string }[];
}

const PEERS = 5;

describe('membership in containers: 5 peers joining by DNS alias', { timeout: 600_000 }, () => {
  const runId = newRunId();
  let network: TestNetwork;
  const peers = new Map<string, StartedTestContainer>();
  const gone = new Set<string>();

  async function status(name: string): Promise<Status | undefined> {
    const container = peers.get(name)!;
    try {
      const url = `http://127.0.0.1:${container.getMappedPort(7947)}/status`;
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      return (await response.json()) as Status;
    } catch {
      return undefined;
    }
  }

  /** Poll until every running peer's /status passes `check`; returns ms taken. */
  async function eventually(check: (s: Status) => boolean, timeoutMs: number, what: string): Promise<number> {
    const start = Date.now();
    let last: (Status | undefined)[] = [];
    while (Date.now() - start < timeoutMs) {
      const names = [...peers.keys()].filter((n) => !gone.has(n));
      last = await Promise.all(names.map(status));
      if (last.every((s) => s !== undefined && check(s))) return Date.now() - start;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const views = last.map(
      (s) =>
        s &&
        `${s.name}: ${s.members.map((m) => `${m.name}=${m.state}@${m.address}#${m.incarnation}`).join(' ')}`,
    );
    throw new Error(`${what} not within ${timeoutMs} ms; views:\n${views.join('\n')}`);
  }

  const stateOf = (s: Status, name: string) => s.members.find((m) => m.name === name)?.state;

  before(async () => {
    await buildProjectImage();
    network = await createTestNetwork(runId);
    await Promise.all(
      Array.from({ length: PEERS }, async (_, i) => {
        const name = `peer-${i}`;
        const container = await new GenericContainer(TEST_IMAGE)
          .withNetworkMode(network.name)
          .withNetworkAliases('peer')
          .withLabels(testLabels(runId))
          .withEnvironment({ PEER_NAME: name, JOIN: 'peer', LOG_LEVEL: 'info', LOG_PRETTY: '0' })
          .withCommand(['peer'])
          .withExposedPorts(7947)
          .withWaitStrategy(Wait.forLogMessage(/"event":"peer.started"/))
          .withStartupTimeout(60_000)
          .start();
        peers.set(name, container);
      }),
    );
  });

  after(async () => {
    for (const container of peers.values()) {
      await docker
        .getContainer(container.getId())
        .remove({ force: true })
        .catch(() => undefined);
    }
    await sweep(runId);
  });

  it('every peer sees all five alive', async () => {
    await eventually(
      (s) => s.members.filter((m) => m.state === 'alive').length === PEERS,
      30_000,
      'full membership',
    );
  });

  it('detects a docker kill of one peer on the other four', async () => {
    const victim = 'peer-4';
    await docker.getContainer(peers.get(victim)!.getId()).kill();
    gone.add(victim);
    const took = await eventually((s) => stateOf(s, victim) === 'dead', 15_000, `${victim} marked dead`);
    assert.ok(took < 15_000);
  });

  it('detects a paused peer, which refutes and rejoins after unpause', async () => {
    const victim = 'peer-3';
    const before = (await status(victim))!.incarnation;
    const container = docker.getContainer(peers.get(victim)!.getId());
    await container.pause();
    gone.add(victim);
    await eventually((s) => stateOf(s, victim) === 'dead', 15_000, `paused ${victim} marked dead`);
    await container.unpause();
    gone.delete(victim);
    await eventually(
      (s) =>
        stateOf(s, victim) === 'alive' &&
        (s.members.find((m) => m.name === victim)?.incarnation ?? 0) > before,
      20_000,
      `${victim} alive again with a higher incarnation`,
    );
    assert.match(await logsOf(victim), /"event":"self.refuted"/);
  });

  it('re-announces a new address after its container is reconnected with another IP', async () => {
    const victim = 'peer-2';
    const before = (await status(victim))!;
    const [oldIp] = before.address.split(':');
    const id = peers.get(victim)!.getId();
    // The network that carries the advertised address (testcontainers may also attach the default bridge).
    const attached = (await docker.getContainer(id).inspect()).NetworkSettings.Networks;
    const carrier = Object.entries(attached).find(([, endpoint]) => endpoint.IPAddress === oldIp)?.[0];
    assert.ok(carrier, `the network holding ${oldIp}`);
    const net = docker.getNetwork(carrier);
    await net.disconnect({ Container: id });
    if (Object.keys(attached).length === 1) {
      // Its only network: something else takes the freed address, then it comes back with another.
      const filler = await docker.createContainer({
        Image: TEST_IMAGE,
        Entrypoint: ['node', '-e', 'setTimeout(() => {}, 600_000)'],
        Labels: testLabels(runId),
        HostConfig: { NetworkMode: carrier },
      });
      try {
        await filler.start();
        await net.connect({ Container: id, EndpointConfig: { Aliases: ['peer'] } });
      } finally {
        await filler.remove({ force: true });
      }
    }
    // Otherwise (also on the default bridge) it is now reachable only at its other address.
    const now = (await docker.getContainer(id).inspect()).NetworkSettings.Networks;
    const addresses = Object.values(now).map((endpoint) => `${endpoint.IPAddress}:7946`);
    assert.ok(!addresses.includes(before.address), `no longer at ${before.address}: ${addresses}`);

    // Its published admin port went with the old endpoint: ask the others, and its log.
    gone.add(victim);
    let announced: { address: string; incarnation: number } | undefined;
    for (const started = Date.now(); !announced && Date.now() - started < 5_000; ) {
      const line = (await logsOf(victim)).split('\n').find((l) => l.includes('"event":"self.readdressed"'));
      if (line)
        announced = JSON.parse(line.slice(line.indexOf('{'))) as { address: string; incarnation: number };
    }
    assert.ok(announced, `${victim} logged self.readdressed within 5 s`);
    const { address: at, incarnation: newIncarnation } = announced;
    assert.ok(addresses.includes(at), `announced ${at}, one of its addresses ${addresses}`);
    const aliveThere = (s: Status) => {
      const seen = s.members.find((m) => m.name === victim);
      return seen?.state === 'alive' && seen.address === at && seen.incarnation > before.incarnation;
    };
    const took = await eventually(aliveThere, 20_000, `${victim} alive at its new address ${at}`);
    // They reach it there: past a whole suspicion timeout (4.8 s at n = 5) it is
    // still alive, and nobody declared its new incarnation dead.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    await eventually(aliveThere, 1_000, `${victim} still alive at ${at} 6 s later`);
    for (const other of ['peer-0', 'peer-1', 'peer-3']) {
      const deaths = (await logsOf(other))
        .split('\n')
        .filter((l) => l.includes('"event":"member.dead"') && l.includes(`"member":"${victim}"`))
        .map((l) => (JSON.parse(l.slice(l.indexOf('{'))) as { incarnation: number }).incarnation)
        // A suspicion of its old incarnation may still expire before the news arrives.
        .filter((incarnation) => incarnation >= newIncarnation);
      assert.deepEqual(
        deaths,
        [],
        `${other} declared ${victim} dead at or after incarnation ${newIncarnation}`,
      );
    }
    console.log(`${victim}: ${before.address} -> ${at}; every peer had it ${took} ms after the check began`);
  });

  /** What a container has logged so far. */
  function logsOf(name: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      peers
        .get(name)!
        .logs()
        .then((stream) => {
          let text = '';
          stream.on('data', (chunk: Buffer | string) => {
            text += chunk.toString();
          });
          setTimeout(() => {
            stream.destroy();
            resolve(text);
          }, 500);
        }, reject);
    });
  }
});
