// `npm run bench -- election --mode process|docker --peers N [--kills K] [--json]`
// Cold start to agreement, failover after SIGKILL of the leader (K samples),
// graceful hand-over after SIGTERM, enclave requests per second and per-peer
// traffic in steady state. DESIGN.md §7 targets: cold start <= 2 s, failover
// p50 <= 2.5 s and p99 <= 3.5 s (lease 2 s), graceful <= 1 s, <= 3 enclave
// requests/s for the whole cluster, <= 5 datagrams/s and <= 3 KB/s per peer.
import { parseArgs } from 'node:util';
import type { HistoryEvent } from '../../src/chaos/history.ts';
import { type ClusterDriver, dockerDriver, processDriver } from '../support/election-drivers.ts';
import { summary } from '../support/stats.ts';

const HELP = `usage: npm run bench -- election [--mode process|docker] [--peers 5] [--kills 10] [--lease-ms 2000]
                                   [--steady-s 10] [--image enclave-elect:local] [--json]
  process: PKI, enclave and peers as local processes (no Docker)
  docker:  the same as containers of --image (default enclave-elect:local; build it first: docker compose build)`;

interface View {
  leader: string;
  epoch: number;
}

async function agreement(driver: ClusterDriver): Promise<View | null> {
  const peers = driver.running();
  const statuses = await Promise.all(peers.map((p) => driver.status(p)));
  let view: View | null = null;
  for (const s of statuses) {
    const leader = s?.leader;
    if (!leader || leader.verified === false) return null;
    if (view && (view.leader !== leader.name || view.epoch !== leader.epoch)) return null;
    view = { leader: leader.name, epoch: leader.epoch };
  }
  if (!view || !peers.includes(view.leader)) return null;
  const leaderStatus = statuses[peers.indexOf(view.leader)];
  return leaderStatus?.isLeader ? view : null;
}

async function waitAgreement(
  driver: ClusterDriver,
  timeoutMs: number,
  accept: (v: View) => boolean,
): Promise<View> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const view = await agreement(driver);
    if (view && accept(view)) return view;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no agreement within ${timeoutMs} ms`);
}

/** When the last of `peers` first accepted a certificate of an epoch above `epoch` (from their logs). */
function lastAcceptance(
  events: HistoryEvent[],
  peers: string[],
  epoch: number,
  after: number,
): number | null {
  let last = 0;
  for (const peer of peers) {
    const first = events.find(
      (e) => e.peer === peer && e.event === 'certificate.accepted' && (e.epoch ?? 0) > epoch && e.t >= after,
    );
    if (!first) return null;
    last = Math.max(last, first.t);
  }
  return last;
}

async function takeover(
  driver: ClusterDriver,
  signal: 'SIGKILL' | 'SIGTERM',
  lease: number,
): Promise<number> {
  const before = await waitAgreement(driver, 20_000, () => true);
  const survivors = driver.running().filter((p) => p !== before.leader);
  const at = await driver.signal(before.leader, signal);
  await waitAgreement(driver, 5 * lease + 10_000, (v) => v.epoch > before.epoch);
  // Logs reach files and the Docker log stream asynchronously: look until they show it.
  for (let i = 0; i < 50; i++) {
    const done = lastAcceptance(await driver.events(), survivors, before.epoch, at);
    if (done !== null) {
      await driver.revive(before.leader);
      return done - at;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('agreement seen in /status but not in the logs');
}

export interface ElectionBenchOptions {
  mode: 'process' | 'docker';
  peers: number;
  kills: number;
  leaseMs: number;
  steadyS: number;
  /** Docker mode: the image the peers and the enclave run. */
  image?: string;
  progress: (line: string) => void;
}

export interface ElectionBenchResult {
  suite: 'election';
  mode: 'process' | 'docker';
  peers: number;
  leaseMs: number;
  coldStartMs: number | null;
  failover: ReturnType<typeof summary>;
  failoverSamplesMs: number[];
  gracefulMs: number;
  enclaveRequestsPerSec: number;
  perPeer: { datagramsPerSec: number; bytesPerSec: number };
}

/** One run: cold start, steady state, `kills` SIGKILLs of the leader, one graceful stop. */
export async function measureElection(options: ElectionBenchOptions): Promise<ElectionBenchResult> {
  const { mode, peers, kills, leaseMs, steadyS, progress } = options;
  const started = Date.now();
  const driver =
    mode === 'process'
      ? await processDriver(peers, leaseMs, progress)
      : await dockerDriver(peers, leaseMs, progress, options.image);
  try {
    await waitAgreement(driver, 60_000, () => true);
    const events = await driver.events();
    const lastStart = Math.max(...events.filter((e) => e.event === 'peer.started').map((e) => e.t));
    const firstAccepted = lastAcceptance(events, driver.running(), 0, started);
    if (firstAccepted === null) {
      const missing = driver
        .running()
        .filter((p) => !events.some((e) => e.peer === p && e.event === 'certificate.accepted'));
      progress(`cold start not measured: no certificate.accepted logged by ${missing.join(', ') || '?'}`);
    }
    const coldStartMs = firstAccepted === null ? null : Math.max(0, firstAccepted - lastStart);

    // Steady state: enclave requests and traffic per peer over a quiet window.
    const names = driver.running();
    const counters = async () =>
      (await Promise.all(names.map((p) => driver.status(p)))).map((s) => ({
        datagrams: Number(s?.counters?.datagramsOut ?? 0),
        bytes: Number(s?.counters?.bytesOut ?? 0),
      }));
    const windowStart = Date.now();
    const before = await counters();
    await new Promise((r) => setTimeout(r, steadyS * 1000));
    const after = await counters();
    const seconds = (Date.now() - windowStart) / 1000;
    const enclaveRequestsPerSec = (await driver.enclaveRequests(windowStart)) / seconds;
    const datagrams = after.reduce((sum, c, i) => sum + c.datagrams - before[i]!.datagrams, 0);
    const bytes = after.reduce((sum, c, i) => sum + c.bytes - before[i]!.bytes, 0);
    progress(
      `steady state: ${enclaveRequestsPerSec.toFixed(2)} enclave requests/s over ${seconds.toFixed(1)} s`,
    );

    const failovers: number[] = [];
    for (let i = 0; i < kills; i++) {
      const ms = await takeover(driver, 'SIGKILL', leaseMs);
      failovers.push(ms);
      progress(`kill ${i + 1}/${kills}: all survivors agreed after ${ms} ms`);
    }
    const gracefulMs = await takeover(driver, 'SIGTERM', leaseMs);
    progress(`graceful stop: all survivors agreed after ${gracefulMs} ms`);
    return {
      suite: 'election',
      mode,
      peers,
      leaseMs,
      coldStartMs,
      failover: summary(failovers),
      failoverSamplesMs: failovers,
      gracefulMs,
      enclaveRequestsPerSec: Math.round(enclaveRequestsPerSec * 100) / 100,
      perPeer: {
        datagramsPerSec: Math.round((datagrams / names.length / seconds) * 100) / 100,
        bytesPerSec: Math.round(bytes / names.length / seconds),
      },
    };
  } finally {
    await driver.stop();
  }
}

/** Validated options of the election measurement, from the flags both suites share. */
export function electionOptions(values: {
  mode?: string | undefined;
  peers?: string | undefined;
  kills?: string | undefined;
  'lease-ms'?: string | undefined;
  'steady-s'?: string | undefined;
  image?: string | undefined;
}): Omit<ElectionBenchOptions, 'progress'> {
  const mode = values.mode ?? 'process';
  const peers = Number(values.peers ?? 5);
  const kills = Number(values.kills ?? 10);
  const leaseMs = Number(values['lease-ms'] ?? 2000);
  const steadyS = Number(values['steady-s'] ?? 10);
  if (mode !== 'process' && mode !== 'docker') throw new Error('--mode is process or docker');
  if (!Number.isInteger(peers) || peers < 2 || !Number.isInteger(kills) || kills < 1) {
    throw new Error('--peers must be >= 2 and --kills >= 1');
  }
  if (!(leaseMs > 0) || !(steadyS > 0)) throw new Error('--lease-ms and --steady-s must be positive');
  return { mode, peers, kills, leaseMs, steadyS, ...(values.image ? { image: values.image } : {}) };
}

/** The election flags, for parseArgs (shared with the etcd-failover comparison). */
export const ELECTION_FLAGS = {
  mode: { type: 'string', default: 'process' },
  peers: { type: 'string', default: '5' },
  kills: { type: 'string', default: '10' },
  'lease-ms': { type: 'string', default: '2000' },
  'steady-s': { type: 'string', default: '10' },
  image: { type: 'string' },
} as const;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...ELECTION_FLAGS,
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const result = await measureElection({
    ...electionOptions(values),
    progress: (s: string) => process.stderr.write(`${s}\n`),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const f = result.failover;
  process.stdout.write(
    [
      `election benchmark: ${result.mode} mode, ${result.peers} peers, lease ${result.leaseMs} ms`,
      `  cold start -> agreement   ${result.coldStartMs} ms            (target <= 2000)`,
      `  failover after SIGKILL    p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, ${f.samples} samples   (target p50 <= 2500, p99 <= 3500)`,
      `  graceful hand-over        ${result.gracefulMs} ms             (target <= 1000)`,
      `  enclave requests/s        ${result.enclaveRequestsPerSec}   (whole cluster; target <= 3)`,
      `  per peer                  ${result.perPeer.datagramsPerSec} datagrams/s, ${result.perPeer.bytesPerSec} B/s   (targets <= 5, <= 3000)`,
      '',
    ].join('\n'),
  );
}
