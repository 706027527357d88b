// Issue 5, tests 6-7: what peers refuse. A tampered enclave (another function
// bundle) is never trusted and never asked to elect; forged certificates and
// 10,000 malformed datagrams, sent from another container on the cluster
// network, are dropped and counted while the cluster keeps its leader. Each
// case on its own small cluster, laid out like the compose file.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StartedTestContainer } from 'testcontainers';
import type { PeerStatus } from '../src/orchestrator/peer-status.ts';
import { docker, newRunId, sweep } from './support/docker.ts';
import { AGREEMENT_MS, ElectionCluster, until } from './support/election-cluster.ts';
import { PROJECT_ROOT } from './support/image.ts';
import { startOutsider } from './support/outsider.ts';

process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

const PEERS = 3;

/**
 * Peers keep retrying attestation (with backoff): wait until they have retried
 * twice each after now, so "nothing else reached the enclave" covers that time.
 */
async function attestationRetries(cluster: ElectionCluster): Promise<number> {
  const since = Date.now();
  await until(
    'peers retry attestation',
    async () => {
      const retries = (await cluster.enclaveRequests()).filter(
        (r) => r.path === '/v1/attestation' && r.t > since,
      );
      return retries.length >= 2 * PEERS ? retries : undefined;
    },
    60_000,
  );
  return since;
}
const GOSSIP_PORT = 7946;
const ADMIN_PORT = 7947;
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
const BUILT_IN_FUNCTION = readFileSync(join(PROJECT_ROOT, 'src/enclave/function/leader-choice.js'), 'utf8');

describe('a tampered enclave: peers refuse it and send it nothing', { timeout: 600_000 }, () => {
  const runId = newRunId();
  const tampered = `${BUILT_IN_FUNCTION}\n// one line more: another bundle, another checksum\n`;
  let cluster: ElectionCluster;

  before(async () => {
    cluster = await ElectionCluster.start({
      runId,
      suffix: 'tampered',
      peers: PEERS,
      enclaveFunction: { path: '/app/tampered-leader-choice.js', content: tampered },
    });
  });

  after(async () => {
    await cluster?.close();
    await sweep(runId);
  });

  it('6. peers report enclave.trusted=false with both checksums, and the enclave gets no elect, renew or resign', async () => {
    const pinned = sha256(BUILT_IN_FUNCTION);
    const received = sha256(tampered);
    const untrusted = (s: PeerStatus) =>
      s.enclave?.trusted === false && s.enclave.checksum === received && s.enclave.pinnedChecksum === pinned;
    await until(
      'every peer reports the enclave untrusted',
      async () => {
        const views = await cluster.views();
        return [...views.values()].every((v) => typeof v !== 'string' && untrusted(v)) ? views : undefined;
      },
      30_000,
      () => cluster.describeViews(),
    );
    for (const name of cluster.live()) {
      // Docker's log copy may trail the process by a moment on a loaded host.
      const untrustedLines = await until(
        `${name} logs enclave.untrusted`,
        async () => {
          const lines = (await cluster.logLines(name)).filter((l) => l.event === 'enclave.untrusted');
          return lines.length > 0 ? lines : undefined;
        },
        10_000,
      );
      assert.deepEqual(
        [untrustedLines[0]!.expected, untrustedLines[0]!.received],
        [pinned, received],
        `${name} names the pinned and the received checksum`,
      );
    }
    // Peers keep retrying attestation (with backoff): wait for more after all of them
    // refused it, so that "nothing else" covers the time they kept trying.
    await attestationRetries(cluster);
    const requests = await cluster.enclaveRequests();
    const other = requests.filter(
      (r) => !(r.method === 'GET' && (r.path === '/v1/attestation' || r.path === '/healthz')),
    );
    assert.deepEqual(other, [], 'the enclave served only attestations and health checks');
    for (const [name, s] of await cluster.views()) {
      assert.ok(typeof s !== 'string', `${name} answers: ${s}`);
      assert.deepEqual([s.leader, s.isLeader], [null, false], `${name} has no leader`);
    }
    console.log(
      `# ${requests.filter((r) => r.path === '/v1/attestation').length} attestations, ${requests.length} requests in all, none to elect`,
    );
  });
});

describe('an attested enclave replaced by a tampered one at the same address', { timeout: 600_000 }, () => {
  const runId = newRunId();
  let cluster: ElectionCluster;

  before(async () => {
    cluster = await ElectionCluster.start({ runId, suffix: 'replaced', peers: PEERS });
  });

  after(async () => {
    await cluster?.close();
    await sweep(runId);
  });

  it('6b. once a peer found it untrusted it sends it nothing but attestations', async () => {
    await cluster.actingLeader(60_000);
    const tampered = `${BUILT_IN_FUNCTION}\n// replaced\n`;
    await cluster.replaceEnclave({ path: '/app/tampered-leader-choice.js', content: tampered });
    const untrusted = (s: PeerStatus) =>
      s.enclave?.trusted === false && s.enclave.checksum === sha256(tampered);
    await until(
      'every peer reports the replacement untrusted',
      async () => {
        const views = await cluster.views();
        return [...views.values()].every((v) => typeof v !== 'string' && untrusted(v)) ? views : undefined;
      },
      30_000,
      () => cluster.describeViews(),
    );
    const refusedAt = await attestationRetries(cluster);
    const requests = await cluster.enclaveRequests();
    const lease = (r: { method: string }) => r.method === 'POST';
    // A peer learns of the replacement from an answer (a key it never attested), so
    // requests sent before it knew are expected; none after.
    assert.deepEqual(
      requests.filter((r) => lease(r) && r.t > refusedAt),
      [],
      'no elect, renew or resign after the peers found the enclave untrusted',
    );
    console.log(
      `# replaced enclave: ${requests.filter(lease).length} lease requests before the peers knew, ${requests.filter((r) => r.path === '/v1/attestation').length} attestations`,
    );
  });
});

describe('forged certificates and malformed datagrams from another container', { timeout: 600_000 }, () => {
  const runId = newRunId();
  let cluster: ElectionCluster;
  let sender: StartedTestContainer;

  before(async () => {
    cluster = await ElectionCluster.start({ runId, suffix: 'gossip', peers: PEERS });
    sender = await startOutsider(runId, cluster.network.name, ['forge-certificates.ts', 'fuzz-datagrams.ts']);
  });

  after(async () => {
    if (sender)
      await docker
        .getContainer(sender.getId())
        .remove({ force: true })
        .catch(() => undefined);
    await cluster?.close();
    await sweep(runId);
  });

  async function run(script: string, ...args: string[]): Promise<Record<string, unknown>> {
    const result = await sender.exec(['node', `/app/integration-tests/support/${script}`, ...args]);
    assert.equal(result.exitCode, 0, `${script}: ${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  }

  const rejected = (s: PeerStatus) =>
    Number((s.counters?.certificatesDropped as Record<string, number> | undefined)?.rejected ?? 0);

  it('7a. certificates signed by a key no enclave attested are rejected and counted by every peer, never adopted', async () => {
    const before = await cluster.actingLeader(60_000);
    const sentAt = Date.now();
    const addresses = await Promise.all(cluster.live().map((name) => cluster.address(name)));
    const real = before.statuses.get(before.leader)!.leader!.certificate!;
    const forged = (await run('forge-certificates.ts', addresses.join(','), String(GOSSIP_PORT), real)) as {
      epoch: number;
    };
    await until(
      'every peer counts two rejected certificates',
      async () => {
        const views = await cluster.views();
        return cluster.live().every((name) => {
          const v = views.get(name);
          return (
            typeof v !== 'string' &&
            v !== undefined &&
            rejected(v) >= rejected(before.statuses.get(name)!) + 2
          );
        })
          ? views
          : undefined;
      },
      10_000,
      () => cluster.describeViews(),
    );
    for (const name of cluster.live()) {
      const rejectedSince = (lines: Record<string, unknown>[]) =>
        lines.filter((l) => l.event === 'certificate.rejected' && Date.parse(String(l.time)) >= sentAt);
      const lines = rejectedSince(
        await cluster.logLinesUntil(
          name,
          'two certificate.rejected',
          (all) => rejectedSince(all).length >= 2,
        ),
      );
      assert.deepEqual(
        lines.map((l) => l.reason).sort(),
        ['E_CERT_INVALID', 'E_CERT_UNKNOWN_KID'],
        `${name}: unknown key, and a signature that does not verify under the attested key`,
      );
      const adopted = (await cluster.events(name)).filter((e) => e.epoch === forged.epoch);
      assert.deepEqual(adopted, [], `${name} never acted on epoch ${forged.epoch}`);
    }
    const still = await cluster.agreed('the peers still agree', AGREEMENT_MS);
    assert.ok(still.epoch < forged.epoch);
    for (const [name, s] of still.statuses) {
      assert.equal(rejected(s), rejected(before.statuses.get(name)!) + 2, `${name} counted exactly two`);
    }
  });

  it('7b. 10,000 random and mutated datagrams to one peer: all dropped and counted by reason; it stays up and the cluster agrees', async () => {
    const before = await cluster.actingLeader(30_000);
    const target = cluster.live().find((name) => name !== before.leader)!;
    const inspected = await docker.getContainer(cluster.containerId(target)).inspect();
    const baseline = (await cluster.status(target)).counters?.dropped ?? {};
    const report = (await run(
      'fuzz-datagrams.ts',
      await cluster.address(target),
      String(GOSSIP_PORT),
      String(ADMIN_PORT),
      '10000',
      String(Date.now() % 2 ** 31),
    )) as { sent: number; byReason: Record<string, number>; uncounted: number; elapsedMs: number };
    assert.equal(report.sent, 10_000);
    const dropped = (await cluster.status(target)).counters?.dropped ?? {};
    const delta = Object.fromEntries(
      Object.keys({ ...dropped, ...report.byReason })
        .map((reason) => [reason, (dropped[reason] ?? 0) - (baseline[reason] ?? 0)] as const)
        .filter(([, n]) => n !== 0),
    );
    assert.deepEqual(delta, report.byReason, 'every datagram counted under the reason the codec gives');
    const now = await docker.getContainer(cluster.containerId(target)).inspect();
    assert.deepEqual(
      [now.State.Running, now.State.StartedAt, now.RestartCount],
      [true, inspected.State.StartedAt, inspected.RestartCount],
      `${target} kept running, never restarted`,
    );
    const after = await cluster.agreed('the cluster still agrees', AGREEMENT_MS, (a) =>
      [...a.statuses.values()].every((s) => s.members?.filter((m) => m.state === 'alive').length === PEERS),
    );
    assert.equal(after.statuses.size, PEERS);
    console.log(
      `# ${report.sent} datagrams in ${report.elapsedMs} ms to ${target}: ${JSON.stringify(report.byReason)}`,
    );
  });
});
