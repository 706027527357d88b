import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listClusterContainers } from '../../src/orchestrator/cluster-inventory.ts';
import { healCluster, type Prover, partitionCluster } from '../../src/orchestrator/partition.ts';
import {
  parseEnclaveSide,
  parsePartitionArgs,
  planPartition,
} from '../../src/orchestrator/partition-plan.ts';
import { FakeDocker } from './fake-docker.ts';
import { ourCluster, tableReader } from './fixtures.ts';

const demo = { kind: 'name', name: 'demo' } as const;
const quiet = () => undefined;

describe('partition groups on the command line', () => {
  it('parses groups separated by / and peers by commas, with or without spaces', () => {
    assert.deepEqual(parsePartitionArgs(['peer-1,peer-2/peer-3,peer-4,peer-5']).groups, [
      ['peer-1', 'peer-2'],
      ['peer-3', 'peer-4', 'peer-5'],
    ]);
    assert.deepEqual(parsePartitionArgs(['peer-1,', 'peer-2', '/', 'peer-3']).groups, [
      ['peer-1', 'peer-2'],
      ['peer-3'],
    ]);
    assert.deepEqual(parsePartitionArgs(['a/b/c']).groups, [['a'], ['b'], ['c']]);
  });

  it('parses isolate', () => {
    assert.deepEqual(parsePartitionArgs(['isolate', 'peer-2']), { groups: [['peer-2']], isolate: true });
  });

  it('rejects one group, an empty group, or isolate of nobody, with exit 2', () => {
    for (const args of [['peer-1,peer-2'], ['peer-1//peer-2'], ['/peer-1'], ['isolate'], []]) {
      assert.throws(() => parsePartitionArgs(args), { code: 'E_USAGE', exitCode: 2 }, args.join(' '));
    }
  });

  it('places the enclave on A, B, or both', () => {
    assert.deepEqual(parseEnclaveSide('a', 2), ['A']);
    assert.deepEqual(parseEnclaveSide('B', 2), ['B']);
    assert.deepEqual(parseEnclaveSide('both', 2), ['A', 'B']);
    assert.throws(() => parseEnclaveSide('C', 2), { code: 'E_USAGE', message: /one of A, B, both/ });
  });
});

describe('partition plan', () => {
  async function plan(args: string[], side?: string) {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 5);
    return planPartition(
      await listClusterContainers(docker.client, demo),
      parsePartitionArgs(args),
      side,
      tableReader({}),
    );
  }

  it('puts every peer on exactly one side and the enclave where asked', async () => {
    const p = await plan(['peer-1,peer-2,peer-3/peer-4,peer-5'], 'B');
    assert.deepEqual(
      p.sides.map((s) => [s.side, s.peers.map((c) => c.name)]),
      [
        ['A', ['peer-1', 'peer-2', 'peer-3']],
        ['B', ['peer-4', 'peer-5']],
      ],
    );
    assert.deepEqual(p.enclaveSides, ['B']);
    assert.deepEqual(
      p.enclaves.map((c) => c.name),
      ['enclave'],
    );
  });

  it('isolates one peer from all the others', async () => {
    const p = await plan(['isolate', 'peer-2']);
    assert.deepEqual(p.enclaveSides, ['B'], 'by default the enclave stays with the others');
    assert.deepEqual(
      (await plan(['peer-1/peer-2,peer-3,peer-4,peer-5'])).enclaveSides,
      ['A'],
      'with groups, on A',
    );
    assert.deepEqual(
      p.sides.map((s) => s.peers.map((c) => c.name)),
      [['peer-2'], ['peer-1', 'peer-3', 'peer-4', 'peer-5']],
    );
  });

  it('refuses a peer left out, a peer named twice, an unknown peer, and the enclave in a group', async () => {
    await assert.rejects(plan(['peer-1/peer-2,peer-3']), {
      code: 'E_USAGE',
      message: /peer-4, peer-5 are in no group/,
    });
    await assert.rejects(plan(['peer-1,peer-2/peer-2,peer-3,peer-4,peer-5']), {
      message: /peer-2 is named twice/,
    });
    await assert.rejects(plan(['peer-1,peer-2/peer-9']), {
      code: 'E_NOT_FOUND',
      message: /Peers: peer-1 \(running\)/,
    });
    await assert.rejects(plan(['enclave,peer-1/peer-2,peer-3,peer-4,peer-5']), { message: /--enclave-side/ });
  });
});

describe('partition and heal on the engine (fake)', () => {
  /** Stands in for the TCP probes: every pair as the partition expects. */
  const honest: Prover = async (_docker, members, expected) => {
    const pairs = members.flatMap((a) => members.filter((b) => b !== a).map((b) => expected(a, b)));
    return { checked: pairs.length, unexpected: [], skipped: [] };
  };

  it('keeps the enclave side on the main network and moves the other onto a labelled network with its aliases', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 3);
    const containers = await listClusterContainers(docker.client, demo);
    const plan = await planPartition(
      containers,
      parsePartitionArgs(['peer-1,peer-2/peer-3']),
      'A',
      tableReader({}),
    );
    const result = await partitionCluster(docker.client, demo, plan, {
      progress: quiet,
      prove: honest,
      extraLabels: { 'io.enclave-elect.test': 'run1' },
    });
    assert.deepEqual(result.sides, [
      { side: 'A', network: 'enclave-elect-demo', peers: ['peer-1', 'peer-2'], enclave: true },
      { side: 'B', network: 'enclave-elect-demo-side-b', peers: ['peer-3'], enclave: false },
    ]);
    assert.throws(
      () => docker.network('enclave-elect-demo-side-a'),
      /not found/,
      'no network for the side that stays',
    );
    const sideA = docker.network('enclave-elect-demo-side-b');
    assert.equal(sideA.labels['io.enclave-elect.cluster'], 'demo');
    assert.equal(sideA.labels['io.enclave-elect.role'], 'partition');
    assert.equal(sideA.labels['io.enclave-elect.managed'], 'true');
    assert.equal(sideA.labels['io.enclave-elect.test'], 'run1');
    assert.equal(sideA.labels['io.enclave-elect.main-address.enclave-elect-demo-peer-3'], '10.0.0.5');
    assert.equal((sideA.spec as { Internal: boolean }).Internal, true);
    const peer3 = docker.container('enclave-elect-demo-peer-3');
    assert.deepEqual(Object.keys(peer3.networks), ['enclave-elect-demo-side-b'], 'off the main network');
    assert.deepEqual(
      peer3.networks['enclave-elect-demo-side-b']!.aliases,
      ['peer', 'peer-3'],
      'DNS aliases kept',
    );
    const enclave = docker.container('enclave-elect-demo-enclave');
    assert.deepEqual(
      enclave.networks,
      { 'enclave-elect-demo': { ip: '10.0.0.2', aliases: ['enclave'] } },
      'untouched',
    );
    assert.deepEqual(
      docker.calls.filter((c) => c.includes('peer-1')),
      [],
      'the staying side is not touched',
    );
    assert.deepEqual(
      Object.keys(docker.container('enclave-elect-demo-pki').networks),
      ['enclave-elect-demo'],
      'pki untouched',
    );
  });

  it('joins the enclave to both sides with --enclave-side both', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 3);
    const plan = await planPartition(
      await listClusterContainers(docker.client, demo),
      parsePartitionArgs(['isolate', 'peer-1']),
      'both',
      tableReader({}),
    );
    const result = await partitionCluster(docker.client, demo, plan, { progress: quiet, prove: honest });
    assert.deepEqual(
      result.sides.map((s) => s.network),
      ['enclave-elect-demo-side-a', 'enclave-elect-demo'],
      'the larger side stays',
    );
    assert.deepEqual(Object.keys(docker.container('enclave-elect-demo-enclave').networks).sort(), [
      'enclave-elect-demo',
      'enclave-elect-demo-side-a',
    ]);
    const enclave = docker.container('enclave-elect-demo-enclave').networks;
    assert.equal(enclave['enclave-elect-demo']!.ip, '10.0.0.2', 'keeps its main address');
    assert.notEqual(
      enclave['enclave-elect-demo-side-a']!.ip,
      '10.0.0.2',
      'the main address is asked for on the main network only',
    );
  });

  it('fails when the probes disagree with the partition', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 2);
    const plan = await planPartition(
      await listClusterContainers(docker.client, demo),
      parsePartitionArgs(['isolate', 'peer-1']),
      'A',
      tableReader({}),
    );
    const leaky: Prover = async () => ({
      checked: 6,
      unexpected: [
        {
          from: 'peer-1',
          to: 'peer-2',
          address: '10.9.1.2',
          outcome: 'refused',
          reachable: true,
          expected: false,
        },
      ],
      skipped: [],
    });
    await assert.rejects(partitionCluster(docker.client, demo, plan, { progress: quiet, prove: leaky }), {
      code: 'E_UNPROVEN',
      message: /1 of 6 probes disagree:\n {2}peer-1 -> peer-2 \(10\.9\.1\.2\): refused, expected dropped/,
    });
  });

  it('heals: the moved side back on the main network at its old addresses, side networks removed', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 3);
    const plan = await planPartition(
      await listClusterContainers(docker.client, demo),
      parsePartitionArgs(['peer-1/peer-2,peer-3']),
      'B',
      tableReader({}),
    );
    await partitionCluster(docker.client, demo, plan, { progress: quiet, prove: honest });
    const healed = await healCluster(docker.client, demo, { progress: quiet, prove: honest });
    assert.deepEqual(healed.moved, ['peer-1']);
    assert.deepEqual(healed.readdressed, []);
    assert.deepEqual(healed.removedNetworks, ['enclave-elect-demo-side-a']);
    assert.deepEqual(
      docker.networks.map((n) => n.name),
      ['enclave-elect-demo'],
    );
    for (const [name, ip] of [
      ['enclave', '10.0.0.2'],
      ['peer-1', '10.0.0.3'],
      ['peer-3', '10.0.0.5'],
    ]) {
      const c = docker.container(`enclave-elect-demo-${name}`);
      assert.deepEqual(Object.keys(c.networks), ['enclave-elect-demo']);
      assert.equal(c.networks['enclave-elect-demo']!.ip, ip, `${name} gets its old address back`);
    }
    assert.deepEqual(docker.container('enclave-elect-demo-peer-2').networks['enclave-elect-demo']!.aliases, [
      'peer',
      'peer-2',
    ]);
    const again = await healCluster(docker.client, demo, { progress: quiet, prove: honest });
    assert.deepEqual(
      [again.moved, again.removedNetworks],
      [[], []],
      'healing a healed cluster changes nothing',
    );
  });

  it('heal waits out stale neighbour caches: a probe that fails at first and then succeeds is a heal, one that keeps failing is not', async () => {
    const stale = {
      from: 'peer-2',
      to: 'peer-1',
      address: '10.0.0.3',
      outcome: 'unreachable',
      reachable: false,
      expected: true,
    };
    const failingFor = (times: number): Prover => {
      let calls = 0;
      return async () => ({ checked: 6, unexpected: calls++ < times ? [stale] : [], skipped: [] });
    };
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 3);
    const plan = async () =>
      planPartition(
        await listClusterContainers(docker.client, demo),
        parsePartitionArgs(['peer-1/peer-2,peer-3']),
        'B',
        tableReader({}),
      );
    await partitionCluster(docker.client, demo, await plan(), { progress: quiet, prove: honest });
    const lines: string[] = [];
    const healed = await healCluster(docker.client, demo, {
      progress: (line) => lines.push(line),
      prove: failingFor(2),
      settleMs: 5000,
    });
    assert.deepEqual(healed.proof.unexpected, []);
    assert.equal(lines.filter((l) => /probes still fail/.test(l)).length, 2, 'says why it waits');

    await partitionCluster(docker.client, demo, await plan(), { progress: quiet, prove: honest });
    await assert.rejects(
      healCluster(docker.client, demo, { progress: quiet, prove: failingFor(Infinity), settleMs: 600 }),
      { code: 'E_UNPROVEN', message: /peer-2 -> peer-1 \(10\.0\.0\.3\): unreachable, expected reachable/ },
    );
  });

  it('re-partitions without healing first: a peer that comes back to the main side gets its old address', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 3);
    const plan = async (args: string[]) =>
      planPartition(
        await listClusterContainers(docker.client, demo),
        parsePartitionArgs(args),
        'A',
        tableReader({}),
      );
    await partitionCluster(docker.client, demo, await plan(['peer-1,peer-2/peer-3']), {
      progress: quiet,
      prove: honest,
    });
    assert.deepEqual(Object.keys(docker.container('enclave-elect-demo-peer-3').networks), [
      'enclave-elect-demo-side-b',
    ]);
    await partitionCluster(docker.client, demo, await plan(['peer-1,peer-3/peer-2']), {
      progress: quiet,
      prove: honest,
    });
    assert.deepEqual(docker.container('enclave-elect-demo-peer-3').networks, {
      'enclave-elect-demo': { ip: '10.0.0.5', aliases: ['peer', 'peer-3'] },
    });
    assert.deepEqual(Object.keys(docker.container('enclave-elect-demo-peer-2').networks), [
      'enclave-elect-demo-side-b',
    ]);
  });

  it('says which containers came back at another address when the network refuses to give the old one', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 2);
    const plan = await planPartition(
      await listClusterContainers(docker.client, demo),
      parsePartitionArgs(['isolate', 'peer-1']),
      undefined,
      tableReader({}),
    );
    await partitionCluster(docker.client, demo, plan, { progress: quiet, prove: honest });
    const original = docker.getNetwork.bind(docker);
    docker.getNetwork = (id: string) => {
      const network = original(id);
      return {
        ...network,
        connect: async (options: Parameters<typeof network.connect>[0]) => {
          if (options.EndpointConfig?.IPAMConfig)
            throw new Error(
              'user specified IP address is supported only when connecting to networks with user configured subnets',
            );
          return network.connect(options);
        },
      };
    };
    const healed = await healCluster(docker.client, demo, { progress: quiet, prove: honest });
    assert.equal(healed.readdressed.length, 1);
    assert.equal(healed.readdressed[0]!.name, 'peer-1');
    assert.equal(healed.readdressed[0]!.was, '10.0.0.3');
    assert.notEqual(healed.readdressed[0]!.now, '10.0.0.3');
  });
});
