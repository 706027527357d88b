// `npm run bench -- election --mode process|docker --peers N [--kills K] [--json]`
// Cold start to agreement, failover after SIGKILL of the leader (K samples),
// graceful hand-over after SIGTERM, enclave requests per second and per-peer
// traffic in steady state. DESIGN.md §7 targets: cold start <= 2 s, failover
// p50 <= 2.5 s and p99 <= 3.5 s (lease 2 s), graceful <= 1 s, <= 3 enclave
// requests/s for the whole cluster, <= 5 datagrams/s and <= 3 KB/s per peer.
// `--baseline-image B` (docker mode) compares two images in the same run: both
// clusters up at once, one steady-state window for both, kills alternating
// between them, so the machine's load weighs on both alike; it prints the
// ratios image / baseline.
import { parseArgs } from 'node:util';
import type { HistoryEvent } from '../../src/chaos/history.ts';
import { type ClusterDriver, dockerDriver, processDriver } from '../support/election-drivers.ts';
import { summary } from '../support/stats.ts';

const HELP = `usage: npm run bench -- election [--mode process|docker] [--peers 5] [--kills 10] [--lease-ms 2000]
                                   [--steady-s 10] [--image enclave-elect:local] [--baseline-image TAG] [--json]
  process: PKI, enclave and peers as local processes (no Docker)
  docker:  the same as containers of --image (default enclave-elect:local; build it first:
           docker compose build); --baseline-image TAG runs a second cluster of TAG in the
           same run (kills alternate between the two) and prints the ratios image / baseline`;

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

/** SIGKILL or SIGTERM the agreed leader; ms until every survivor accepted a newer epoch (from their logs). */
export async function takeover(
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

/** Last peer started -> every peer accepted a certificate; null when a peer's log shows none. */
async function coldStart(
  driver: ClusterDriver,
  started: number,
  progress: (s: string) => void,
): Promise<number | null> {
  await waitAgreement(driver, 60_000, () => true);
  const events = await driver.events();
  const lastStart = Math.max(...events.filter((e) => e.event === 'peer.started').map((e) => e.t));
  const firstAccepted = lastAcceptance(events, driver.running(), 0, started);
  if (firstAccepted === null) {
    const missing = driver
      .running()
      .filter((p) => !events.some((e) => e.peer === p && e.event === 'certificate.accepted'));
    progress(`cold start not measured: no certificate.accepted logged by ${missing.join(', ') || '?'}`);
    return null;
  }
  return Math.max(0, firstAccepted - lastStart);
}

interface Steady {
  enclaveRequestsPerSec: number;
  perPeer: { datagramsPerSec: number; bytesPerSec: number };
}

/** Enclave requests and traffic per peer over one quiet window of `steadyS`, for every cluster at once. */
async function steadyState(drivers: ClusterDriver[], steadyS: number): Promise<Steady[]> {
  const counters = async (driver: ClusterDriver, names: string[]) =>
    (await Promise.all(names.map((p) => driver.status(p)))).map((s) => ({
      datagrams: Number(s?.counters?.datagramsOut ?? 0),
      bytes: Number(s?.counters?.bytesOut ?? 0),
    }));
  const names = drivers.map((d) => d.running());
  const windowStart = Date.now();
  const before = await Promise.all(drivers.map((d, i) => counters(d, names[i]!)));
  await new Promise((r) => setTimeout(r, steadyS * 1000));
  const after = await Promise.all(drivers.map((d, i) => counters(d, names[i]!)));
  const seconds = (Date.now() - windowStart) / 1000;
  return Promise.all(
    drivers.map(async (driver, d) => {
      const sum = (key: 'datagrams' | 'bytes') =>
        after[d]!.reduce((total, c, i) => total + c[key] - before[d]![i]![key], 0);
      const peers = names[d]!.length;
      return {
        enclaveRequestsPerSec: round2((await driver.enclaveRequests(windowStart)) / seconds),
        perPeer: {
          datagramsPerSec: round2(sum('datagrams') / peers / seconds),
          bytesPerSec: Math.round(sum('bytes') / peers / seconds),
        },
      };
    }),
  );
}

const round2 = (x: number) => Math.round(x * 100) / 100;

interface Figures extends Steady {
  source: string;
  coldStartMs: number | null;
  failover: ReturnType<typeof summary>;
  failoverSamplesMs: number[];
  gracefulMs: number;
}

function printFigures(f: Figures, heading: string): string {
  return [
    heading,
    `  cold start -> agreement   ${f.coldStartMs} ms            (target <= 2000)`,
    `  failover after SIGKILL    p50 ${f.failover.p50Ms} ms, p99 ${f.failover.p99Ms} ms, ${f.failover.samples} samples   (target p50 <= 2500, p99 <= 3500)`,
    `  graceful hand-over        ${f.gracefulMs} ms             (target <= 1000)`,
    `  enclave requests/s        ${f.enclaveRequestsPerSec}   (whole cluster; target <= 3)`,
    `  per peer                  ${f.perPeer.datagramsPerSec} datagrams/s, ${f.perPeer.bytesPerSec} B/s   (targets <= 5, <= 3000)`,
    '',
  ].join('\n');
}

/** image / baseline for each figure the issue compares (within 10%: 0.90-1.10; lower is better for all). */
function ratios(image: Figures, baseline: Figures) {
  const ratio = (a: number | null, b: number | null) =>
    a === null || b === null || b === 0 ? null : Math.round((a / b) * 100) / 100;
  return {
    failoverP50: ratio(image.failover.p50Ms, baseline.failover.p50Ms),
    failoverP99: ratio(image.failover.p99Ms, baseline.failover.p99Ms),
    graceful: ratio(image.gracefulMs, baseline.gracefulMs),
    enclaveRequestsPerSec: ratio(image.enclaveRequestsPerSec, baseline.enclaveRequestsPerSec),
    datagramsPerSecPerPeer: ratio(image.perPeer.datagramsPerSec, baseline.perPeer.datagramsPerSec),
    bytesPerSecPerPeer: ratio(image.perPeer.bytesPerSec, baseline.perPeer.bytesPerSec),
  };
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

export interface ElectionBenchResult extends Steady {
  suite: 'election';
  mode: 'process' | 'docker';
  peers: number;
  leaseMs: number;
  coldStartMs: number | null;
  failover: ReturnType<typeof summary>;
  failoverSamplesMs: number[];
  gracefulMs: number;
}

/**
 * Cold start, steady state, `kills` SIGKILLs of the leader and one graceful
 * stop, for each source (an image in docker mode) at once: kills alternate
 * between the clusters, so a busy moment on the machine falls on all alike.
 */
async function measureSources(
  options: Omit<ElectionBenchOptions, 'image'>,
  sources: string[],
): Promise<Figures[]> {
  const { mode, peers, kills, leaseMs, steadyS, progress } = options;
  const drivers: ClusterDriver[] = [];
  try {
    const coldStarts: (number | null)[] = [];
    for (const source of sources) {
      const started = Date.now();
      if (sources.length > 1) progress(`starting a cluster of ${source}`);
      const driver = await (mode === 'process'
        ? processDriver(peers, leaseMs, progress)
        : dockerDriver(peers, leaseMs, progress, source));
      drivers.push(driver);
      coldStarts.push(await coldStart(driver, started, progress));
    }
    const steady = await steadyState(drivers, steadyS);
    const failovers: number[][] = drivers.map(() => []);
    for (let i = 0; i < kills; i++) {
      for (const [d, driver] of drivers.entries()) {
        const ms = await takeover(driver, 'SIGKILL', leaseMs);
        failovers[d]!.push(ms);
        progress(`${sources[d]}: kill ${i + 1}/${kills}: all survivors agreed after ${ms} ms`);
      }
    }
    const graceful: number[] = [];
    for (const [d, driver] of drivers.entries()) {
      graceful.push(await takeover(driver, 'SIGTERM', leaseMs));
      progress(`${sources[d]}: graceful stop: all survivors agreed after ${graceful[d]} ms`);
    }
    return sources.map((source, d) => ({
      source,
      coldStartMs: coldStarts[d]!,
      failover: summary(failovers[d]!),
      failoverSamplesMs: failovers[d]!,
      gracefulMs: graceful[d]!,
      ...steady[d]!,
    }));
  } finally {
    for (const driver of drivers) await driver.stop();
  }
}

/** One cluster's figures (the etcd-failover comparison measures ours with this). */
export async function measureElection(options: ElectionBenchOptions): Promise<ElectionBenchResult> {
  const source = options.mode === 'process' ? 'local processes' : (options.image ?? 'enclave-elect:local');
  const [figures] = await measureSources(options, [source]);
  const { source: _, ...rest } = figures!;
  return { suite: 'election', mode: options.mode, peers: options.peers, leaseMs: options.leaseMs, ...rest };
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
      'baseline-image': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const options = electionOptions(values);
  const { mode, peers, leaseMs } = options;
  const baselineImage = values['baseline-image'];
  if (baselineImage !== undefined && mode !== 'docker') {
    throw new Error('--baseline-image compares two images: it needs --mode docker');
  }
  const image = options.image ?? 'enclave-elect:local';
  const sources =
    mode === 'process' ? ['local processes'] : [image, ...(baselineImage ? [baselineImage] : [])];
  const progress = (s: string) => process.stderr.write(`${s}\n`);
  const figures = await measureSources({ ...options, progress }, sources);
  const [first, baseline] = figures as [Figures, Figures | undefined];
  const compared = baseline ? ratios(first, baseline) : undefined;
  if (values.json) {
    const { source: _, ...result } = first;
    process.stdout.write(
      `${JSON.stringify({
        suite: 'election',
        mode,
        peers,
        leaseMs,
        ...(mode === 'docker' ? { image: first.source } : {}),
        ...result,
        ...(baseline ? { baseline, ratios: compared } : {}),
      })}\n`,
    );
    return;
  }
  const setting = `${mode} mode, ${peers} peers, lease ${leaseMs} ms`;
  for (const f of figures) {
    process.stdout.write(
      printFigures(f, `election benchmark: ${setting}${mode === 'docker' ? `, ${f.source}` : ''}`),
    );
  }
  if (compared) {
    process.stdout.write(`ratios ${first.source} / ${baseline!.source} (same run; within 10%: <= 1.10):\n`);
    for (const [name, value] of Object.entries(compared)) {
      process.stdout.write(`  ${name.padEnd(24)} ${value}\n`);
    }
  }
}
