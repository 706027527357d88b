// `cluster up --demo` (and `cluster chaos --demo`): the demo's fenced ledger
// beside the enclave, every peer running the ledger writer while it leads, as
// the compose profile `demo` does; and the compose profile's `writer` service
// seen as peers by every command.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runChaosSession, type SessionDocker } from '../../src/chaos/chaos-session.ts';
import type { EnclaveElectError } from '../../src/errors.ts';
import { type ClusterContainer, listClusterContainers } from '../../src/orchestrator/cluster-inventory.ts';
import { storedSettings } from '../../src/orchestrator/cluster-scale.ts';
import {
  type ClusterSettings,
  ledgerContainerSpec,
  networkSpec,
  peerContainerSpec,
} from '../../src/orchestrator/cluster-spec.ts';
import { upCluster } from '../../src/orchestrator/cluster-up.ts';
import { roleOf } from '../../src/orchestrator/labels.ts';
import type { StatusReader } from '../../src/orchestrator/peer-status.ts';
import { FakeDocker } from './fake-docker.ts';
import { ourCluster, peerStatus, tableReader } from './fixtures.ts';

const settings: ClusterSettings = {
  cluster: 'fenced',
  image: 'enclave-elect:local',
  policy: 'vrf',
  leaseMs: 2000,
  demo: true,
  extraLabels: { 'io.enclave-elect.test': 'run1' },
};

const envOf = (spec: { Env?: string[] }) =>
  Object.fromEntries((spec.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));

describe('the demo cluster', () => {
  it('runs the ledger with the pinned root and this cluster id, under the alias `ledger`', () => {
    const ledger = ledgerContainerSpec(settings);
    assert.equal(ledger.name, 'enclave-elect-fenced-ledger');
    assert.equal(ledger.Labels?.['io.enclave-elect.role'], 'ledger');
    assert.equal(ledger.Labels?.['io.enclave-elect.test'], 'run1');
    assert.deepEqual(ledger.Cmd, [
      'ledger',
      'serve',
      '--root=/trust/root.crt.pem',
      '--port=8100',
      '--cluster=fenced',
    ]);
    assert.deepEqual(ledger.HostConfig?.Binds, ['enclave-elect-fenced-trust:/trust:ro']);
    assert.deepEqual(ledger.NetworkingConfig?.EndpointsConfig?.['enclave-elect-fenced']?.Aliases, ['ledger']);
    assert.equal(ledger.HostConfig?.ReadonlyRootfs, true);
  });

  it('has every peer run the ledger writer while it leads, and only in the demo', () => {
    assert.equal(
      envOf(peerContainerSpec(settings, 3)).EXEC_COMMAND,
      'enclave-elect ledger write --ledger=http://ledger:8100 --interval-ms=100',
    );
    const { demo: _, ...plain } = settings;
    assert.equal(envOf(peerContainerSpec(plain, 3)).EXEC_COMMAND, undefined);
  });

  it('marks the network so `scale` adds writing peers too', async () => {
    const docker = new FakeDocker();
    await docker.createNetwork(networkSpec(settings));
    assert.equal(networkSpec(settings).Labels?.['io.enclave-elect.demo'], 'true');
    assert.deepEqual(await storedSettings(docker.client, 'fenced'), settings);
  });

  it('starts the ledger after the enclave and before the peers', async () => {
    const docker = new FakeDocker();
    const reader: StatusReader = async (c: ClusterContainer) => peerStatus(c.name, 'peer-1', 1);
    await upCluster(
      docker.client,
      { ...settings, peers: 2, build: false, timeoutMs: 5000 },
      { reader, progress: () => undefined, intervalMs: 10 },
    );
    const starts = docker.calls.filter((c) => c.startsWith('start '));
    assert.deepEqual(starts, [
      'start enclave-elect-fenced-pki',
      'start enclave-elect-fenced-enclave',
      'start enclave-elect-fenced-ledger',
      'start enclave-elect-fenced-peer-1',
      'start enclave-elect-fenced-peer-2',
    ]);
    const roles = (await listClusterContainers(docker.client, { kind: 'name', name: 'fenced' })).map(
      (c) => `${c.role} ${c.name}`,
    );
    assert.deepEqual(roles, ['pki pki', 'enclave enclave', 'ledger ledger', 'peer peer-1', 'peer peer-2']);
  });

  it("counts the compose profile's writer service as peers, and knows its ledger", () => {
    const compose = (service: string) => ({ 'com.docker.compose.service': service });
    assert.equal(roleOf(compose('writer')), 'peer');
    assert.equal(roleOf(compose('ledger')), 'ledger');
    assert.equal(roleOf(compose('peer')), 'peer');
    assert.equal(roleOf(compose('prometheus')), undefined);
  });
});

describe('cluster chaos --demo on an existing cluster', () => {
  it('refuses a cluster without a ledger before injecting anything, saying how to start one', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'plain', 3);
    await assert.rejects(
      runChaosSession(
        {
          seed: 's',
          durationMs: 60_000,
          intervalMs: 1000,
          faults: ['kill'],
          selector: { kind: 'name', name: 'plain' },
          image: 'enclave-elect:local',
          extraLabels: {},
          demo: true,
        },
        {
          docker: docker.client as unknown as SessionDocker,
          reader: tableReader({}),
          progress: () => undefined,
          note: () => undefined,
        },
      ),
      (error: EnclaveElectError) => {
        assert.equal(error.exitCode, 2);
        assert.match(
          error.message,
          /cluster 'plain' has none: start the cluster with `enclave-elect cluster up --demo --name plain`/,
        );
        return true;
      },
    );
    assert.ok(!docker.calls.some((c) => /^(kill|pause|stop|disconnect)/.test(c)), docker.calls.join('\n'));
  });
});
