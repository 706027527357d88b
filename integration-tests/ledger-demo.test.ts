// The demo profile end to end: `docker compose --profile demo up` with three
// `writer` peers (each runs the ledger writer with --exec while it leads) and
// the fenced `ledger`. The writing leader is paused for 3 x lease, cut off the
// network, and killed; the ledger must accept no append from a deposed leader.
// From the ledger's own log: every accepted append's (epoch, seq) is not older
// than the one before and was accepted before its lease ended; refused stale
// appends are counted. The project is named $ENCLAVE_ELECT_TEST_PROJECT_PREFIX-<run>
// (default enclave-elect-itest-*, which .ci/run sweeps) and removed with its volumes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { demultiplex } from '../src/orchestrator/docker-stream.ts';
import type { PeerStatus } from '../src/orchestrator/peer-status.ts';
import { docker, newRunId, TEST_LABEL } from './support/docker.ts';
import { until } from './support/election-cluster.ts';
import { buildProjectImage, PROJECT_ROOT, TEST_IMAGE } from './support/image.ts';

process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

const run = promisify(execFile);
const WRITERS = 3;
const LEASE_MS = 2000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LogEvent {
  time: string;
  event: string;
  [key: string]: unknown;
}

describe('demo profile: the ledger refuses every append of a deposed leader', { timeout: 900_000 }, () => {
  const runId = newRunId();
  const project = `${process.env.ENCLAVE_ELECT_TEST_PROJECT_PREFIX ?? 'enclave-elect-itest'}-${runId}`;
  const work = mkdtempSync(join(tmpdir(), 'enclave-elect-demo-'));
  const override = join(work, 'override.yml');
  const compose = (...args: string[]) =>
    run(
      'docker',
      ['compose', '-p', project, '-f', 'docker-compose.yml', '-f', override, '--profile', 'demo', ...args],
      {
        cwd: PROJECT_ROOT,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
  const projectFilter = (more: string[] = []) =>
    JSON.stringify({ label: [`com.docker.compose.project=${project}`, ...more] });
  const network = `${project}_cluster`;
  const ipOf = async (id: string) =>
    (await docker.getContainer(id).inspect()).NetworkSettings.Networks[network]?.IPAddress;
  const writers = async () =>
    docker.listContainers({ all: true, filters: projectFilter(['com.docker.compose.service=writer']) });
  let ledgerUrl = '';

  before(async () => {
    await buildProjectImage();
    // Run the image this test built, labelled for the sweep, never the shared enclave-elect:local tag.
    const service = { image: TEST_IMAGE, labels: { [TEST_LABEL]: runId } };
    writeFileSync(
      override,
      JSON.stringify({
        services: Object.fromEntries(['pki', 'enclave', 'peer', 'ledger', 'writer'].map((s) => [s, service])),
        networks: { cluster: { labels: { [TEST_LABEL]: runId } } },
      }),
    );
    await compose('up', '-d', '--scale', 'peer=0', '--scale', `writer=${WRITERS}`);
    const [ledger] = await docker.listContainers({
      filters: projectFilter(['com.docker.compose.service=ledger']),
    });
    ledgerUrl = `http://${await ipOf(ledger!.Id)}:8100`;
  });

  after(async () => {
    await compose('down', '-v', '--timeout', '2').catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
    const left = [
      ...(await docker.listContainers({ all: true, filters: projectFilter() })).map((c) => c.Names[0]),
      ...(await docker.listNetworks({ filters: projectFilter() })).map((n) => n.Name),
      ...((await docker.listVolumes({ filters: projectFilter() })).Volumes ?? []).map((v) => v.Name),
    ];
    assert.deepEqual(left, [], 'down -v leaves nothing of the project');
  });

  const stats = async () =>
    (await (await fetch(`${ledgerUrl}/v1/stats`, { signal: AbortSignal.timeout(2000) })).json()) as {
      accepted: number;
      newest: { epoch: number; seq: number };
    };

  async function writingLeader(): Promise<{ id: string; name: string; epoch: number }> {
    return until(
      'a writer acts as leader',
      async () => {
        for (const w of await writers()) {
          if (w.State !== 'running') continue;
          const ip = await ipOf(w.Id);
          const status = (await fetch(`http://${ip}:7947/status`, { signal: AbortSignal.timeout(1000) })
            .then((r) => r.json())
            .catch(() => null)) as PeerStatus | null;
          if (status?.isLeader && status.leader)
            return { id: w.Id, name: status.name ?? w.Id, epoch: status.leader.epoch };
        }
        return undefined;
      },
      60_000,
    );
  }

  /** After a fault: a newer epoch's leader has appended, and an old leader's late write had time to arrive. */
  async function successorWrites(epoch: number): Promise<void> {
    await until(
      'a successor appends with a newer epoch',
      async () => ((await stats()).newest.epoch > epoch ? true : undefined),
      60_000,
    );
    await sleep(LEASE_MS + 500);
  }

  it('pause (3 x lease), partition and kill of the writing leader: 0 stale appends accepted', async () => {
    await until(
      'the ledger has appends',
      async () => ((await stats()).accepted >= 5 ? true : undefined),
      120_000,
    );
    const faults: string[] = [];

    let leader = await writingLeader();
    faults.push(`pause ${leader.name} (epoch ${leader.epoch})`);
    await docker.getContainer(leader.id).pause();
    await sleep(3 * LEASE_MS);
    await docker.getContainer(leader.id).unpause();
    await successorWrites(leader.epoch);

    leader = await writingLeader();
    faults.push(`partition ${leader.name} (epoch ${leader.epoch})`);
    const net = docker.getNetwork(network);
    await net.disconnect({ Container: leader.id, Force: true });
    await sleep(3 * LEASE_MS);
    // Back with whatever address the network gives it: the peer announces a new one itself.
    await net.connect({ Container: leader.id });
    await successorWrites(leader.epoch);

    leader = await writingLeader();
    faults.push(`kill ${leader.name} (epoch ${leader.epoch})`);
    await docker.getContainer(leader.id).kill();
    await successorWrites(leader.epoch);

    const services = ['com.docker.compose.service=ledger', 'com.docker.compose.service=writer'];
    const events: LogEvent[] = [];
    for (const service of services) {
      for (const c of await docker.listContainers({ all: true, filters: projectFilter([service]) })) {
        const raw = await docker.getContainer(c.Id).logs({ stdout: true, stderr: true, follow: false });
        for (const line of demultiplex(raw).stdout.split('\n')) {
          if (line.startsWith('{')) events.push(JSON.parse(line) as LogEvent);
        }
      }
    }
    const accepted = events.filter((e) => e.event === 'ledger.accepted');
    const rejected = events.filter((e) => e.event === 'ledger.rejected');
    const staleCodes = new Set(['E_TOKEN_STALE', 'E_TOKEN_EXPIRED']);
    const staleRejected = rejected.filter((e) => staleCodes.has(String(e.code)));
    // An accepted append is stale if it is older than one accepted before it, or came after its lease ended.
    let newest = { epoch: 0, seq: 0 };
    const staleAccepted = accepted.filter((e) => {
      const epoch = Number(e.epoch);
      const seq = Number(e.seq);
      const older = epoch < newest.epoch || (epoch === newest.epoch && seq < newest.seq);
      newest = older ? newest : { epoch, seq };
      return older || Date.parse(e.time) >= Number(e.leaseEnd);
    });
    const exits = events
      .filter((e) => e.event === 'exec.exited')
      .map(
        (e) =>
          `${String(e.peer).replace(`${project}-`, '')} ${e.why ?? 'own exit'} ${e.signal ?? e.code}: ${e.windowLeftMs} ms left`,
      );
    console.log(
      `# demo: ${faults.join('; ')}\n# appends attempted ${accepted.length + rejected.length}, accepted ${accepted.length}, ` +
        `rejected stale ${staleRejected.length} (${[...new Set(staleRejected.map((e) => e.code))].join(', ') || 'none'}), ` +
        `rejected otherwise ${rejected.length - staleRejected.length}, stale accepted ${staleAccepted.length}\n# --exec exits: ${exits.join('; ') || 'none logged'}`,
    );
    assert.deepEqual(staleAccepted, [], 'no stale append accepted');
    assert.ok(accepted.length >= 5);
    const epochs = new Set(accepted.map((e) => e.epoch));
    assert.ok(epochs.size >= 4, `appends from at least four epochs (one per leader), got ${[...epochs]}`);
  });
});
