// `npm run bench -- membership --peers N [--workers W] [--json]`: N peers in this
// process on real loopback UDP, split across W worker threads (one event loop
// polling 1000 sockets runs its timers seconds late). Measures, in order:
// convergence from a cold start (every peer knows every peer), steady-state
// traffic per peer, the spread of one update to every member, failure detection
// (a peer closed without leave, until every other peer marks it dead), and false
// positives over the whole run.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { PEER_DEFAULTS } from '../../src/peer/config.ts';
import { pullIntervalMs } from '../../src/peer/membership/timing.ts';
import { benchEnclavePem } from '../support/bench-admissions.ts';
import { ShardedLoopbackCluster } from '../support/sharded-loopback-cluster.ts';
import { sleep, waitUntil } from '../support/waiting.ts';

const HELP = `usage: npm run bench -- membership [--peers N] [--workers W] [--samples S] [--steady-ms MS] [--no-admission] [--json]
  --peers      peers in this process (default 50)
  --workers    worker threads the peers are split across, each with its own event loop
               (default: min(4, available cores) above 200 peers, else 1; 1 runs them all
               in the main thread). Peers in different workers still talk over loopback UDP.
               With workers, the 3 seeds get one more worker of their own (a seed has a
               machine to itself; sharing a loop with hundreds of peers starves its socket).
  --samples    failures to detect, one after another (default 5)
  --steady-ms  steady-state traffic window (default: 10 s or one anti-entropy interval at N,
               whichever is longer, so periodic pulls are counted)
  --no-admission  open membership, to compare: by default every peer is admitted (a stand-in
               enclave key signs admissions), signs its records and checks everyone's; the
               report gives the CPU share of signature checks in the peers' threads
  --json       print exactly one JSON document on stdout
Targets (DESIGN.md §7): detect p50 <= 3 s, p99 <= 5 s (N = 5..200); spread <= 2.5 s and
convergence <= 10 s at N = 1000; <= 5 datagrams/s and <= 3 KB/s per peer, flat in N.`;

export interface MembershipBenchResult {
  suite: 'membership';
  peers: number;
  convergeMs: number | null;
  spreadMs: number | null;
  detect: { p50Ms: number | null; p99Ms: number | null; samples: number };
  falsePositives: number;
  perPeer: { datagramsPerSec: number | null; bytesPerSec: number | null };
  /**
   * Record signatures (admission on): checks of records and admissions and signs
   * made, their CPU time, and its share of the peers' threads' CPU time.
   */
  signatures: { checks: number; signs: number; cpuMs: number; cpuShare: number } | null;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

const round = (x: number | null | undefined) => (x === null || x === undefined ? null : Math.round(x));
const progress = (text: string) => process.stderr.write(`membership: ${text}\n`);

export interface MembershipBenchOptions {
  peers: number;
  /** Worker threads the peers are split across; 1 keeps them all in this thread. */
  workers: number;
  samples: number;
  steadyMs: number;
  /** Quiet time after convergence, before traffic is counted. */
  settleMs?: number;
  /** Ends the run early (Ctrl-C); the run then rejects with its reason. */
  signal?: AbortSignal;
  /** Admission and signed records as in the product (default); false: open membership, to compare. */
  admission?: boolean;
}

export async function runMembershipBench(options: MembershipBenchOptions): Promise<MembershipBenchResult> {
  const { peers, workers, samples, steadyMs } = options;
  const where = workers === 1 ? 'in this thread' : `in ${workers} worker threads (+1 for the 3 seeds)`;
  progress(`starting ${peers} peers on 127.0.0.1 ${where}`);
  const admission = options.admission ?? true;
  const enclavePem = admission ? benchEnclavePem() : undefined;
  const cluster = await ShardedLoopbackCluster.start({
    peers,
    workers,
    ...(enclavePem ? { enclavePem } : {}),
  });
  const signatures = async (): Promise<MembershipBenchResult['signatures']> => {
    if (!admission) return null;
    // CPU time of the peers' threads (each shard measures its own thread), so
    // neither other threads nor time spent waiting for a core count.
    const cost = await cluster.signatureCost();
    const cpuMs = cost.checkMs + cost.signMs;
    const share = cost.threadMs > 0 ? cpuMs / cost.threadMs : 0;
    progress(
      `signatures: ${cost.checks} checks, ${cost.signs} signs, ${Math.round(cpuMs)} ms, ${(share * 100).toFixed(1)}% of CPU`,
    );
    return {
      checks: cost.checks,
      signs: cost.signs,
      cpuMs: Math.round(cpuMs),
      cpuShare: Math.round(share * 10_000) / 10_000,
    };
  };
  try {
    const signal = options.signal ? AbortSignal.any([options.signal, cluster.failed]) : cluster.failed;
    const poll = peers > 200 ? 100 : 25;
    // Progress on the long wait: every 5 s, how far the cold start got and what it cost.
    const started = performance.now();
    let reportAt = started + 5_000;
    const convergeMs = await waitUntil(
      async () => {
        const known = await cluster.knowledge();
        if (known.knowAll === known.running) return true;
        if (performance.now() >= reportAt) {
          reportAt += 5_000;
          const fp = (await cluster.falsePositives()).count;
          progress(
            `${Math.round((performance.now() - started) / 1000)} s: ${((100 * known.knowAll) / known.running).toFixed(1)}% know everyone, ` +
              `a peer knows ${Math.round(known.knownSum / known.running)} on average, ` +
              `awareness ${(known.awarenessSum / known.running).toFixed(2)} on average, ${fp} false positives`,
          );
        }
        return false;
      },
      60_000,
      poll,
      signal,
    );
    progress(`converged: ${convergeMs === undefined ? 'no (60 s)' : `${Math.round(convergeMs)} ms`}`);
    if (convergeMs === undefined) {
      // Later phases mean nothing on a cluster that never formed: report what failed.
      const known = await cluster.knowledge();
      const share = Math.round((known.knowAll / known.running) * 1000) / 10;
      progress(`not converged: ${share}% of peers know every peer; skipping spread, detection and traffic`);
      progress(`names some peers miss: ${known.missing.join(', ') || '(none; some know extra names)'}`);
      return {
        suite: 'membership',
        peers,
        convergeMs: null,
        spreadMs: null,
        detect: { p50Ms: null, p99Ms: null, samples: 0 },
        falsePositives: (await cluster.falsePositives()).count,
        perPeer: { datagramsPerSec: null, bytesPerSec: null },
        signatures: await signatures(),
      };
    }

    // Let join-time rumours drain and the post-join pulls end (five, then more only while tables still change).
    await sleep(options.settleMs ?? 10_000, signal);
    const before = await cluster.traffic();
    const t0 = performance.now();
    await sleep(steadyMs, signal);
    const after = await cluster.traffic();
    const seconds = (performance.now() - t0) / 1000;
    const perPeer = {
      datagramsPerSec:
        Math.round(((after.datagramsOut - before.datagramsOut) / after.running / seconds) * 100) / 100,
      bytesPerSec: Math.round((after.bytesOut - before.bytesOut) / after.running / seconds),
    };
    progress(`steady traffic per peer: ${perPeer.datagramsPerSec} datagrams/s, ${perPeer.bytesPerSec} B/s`);

    // One update, passed on by each peer on first receipt (as certificates are), from the last peer.
    const origin = cluster.live().at(-1)!;
    const sentAt = await cluster.spread(origin, 'bench', 'spread', new Uint8Array(200).fill(1));
    const spread = await waitUntil(async () => (await cluster.reached()).all, 30_000, 20, signal);
    const spreadMs = spread === undefined ? undefined : (await cluster.reached()).lastAt - sentAt;
    progress(`spread: ${spreadMs === undefined ? 'incomplete' : `${Math.round(spreadMs)} ms`}`);

    const detections: number[] = [];
    for (let i = 0; i < samples; i++) {
      // Any peer but the seeds; it comes back after, so the cluster stays at N.
      const candidates = cluster.live().slice(3);
      const victim = candidates[Math.floor(Math.random() * candidates.length)]!;
      const killedAt = await cluster.kill(victim);
      await waitUntil(async () => (await cluster.markedDeadAt(victim)) !== undefined, 20_000, 10, signal);
      const at = await cluster.markedDeadAt(victim);
      const took = at === undefined ? Number.POSITIVE_INFINITY : at - killedAt;
      detections.push(took);
      progress(
        `detect ${i + 1}/${samples}: ${victim} ${Number.isFinite(took) ? `${Math.round(took)} ms` : 'not within 20 s'}`,
      );
      await cluster.restart(victim);
      await waitUntil(() => cluster.converged(), 30_000, poll, signal);
      await sleep(500 + Math.random() * 500, signal);
    }
    detections.sort((a, b) => a - b);
    const falsePositives = await cluster.falsePositives();
    for (const line of falsePositives.log) progress(`false positive: ${line}`);
    return {
      suite: 'membership',
      peers,
      convergeMs: round(convergeMs),
      spreadMs: round(spreadMs),
      detect: {
        p50Ms: round(percentile(detections, 50)),
        p99Ms: round(percentile(detections, 99)),
        samples: detections.length,
      },
      falsePositives: falsePositives.count,
      perPeer,
      signatures: await signatures(),
    };
  } finally {
    await cluster.close();
  }
}

function table(r: MembershipBenchResult, workers: number): string {
  const fmt = (x: number | null, unit = 'ms') => (x === null ? 'n/a' : `${x} ${unit}`);
  const rows: [string, string, string][] = [
    ['peers', String(r.peers), ''],
    ['worker threads', workers === 1 ? '1 (main)' : `${workers} + 1 for the seeds`, ''],
    ['converge', fmt(r.convergeMs), r.peers >= 1000 ? '<= 10000 ms' : ''],
    ['spread', fmt(r.spreadMs), r.peers >= 1000 ? '<= 2500 ms' : ''],
    ['detect p50', fmt(r.detect.p50Ms), '<= 3000 ms'],
    ['detect p99', fmt(r.detect.p99Ms), '<= 5000 ms'],
    ['detect samples', String(r.detect.samples), ''],
    ['false positives', String(r.falsePositives), '0'],
    ['datagrams/s per peer', fmt(r.perPeer.datagramsPerSec, ''), '<= 5'],
    ['bytes/s per peer', fmt(r.perPeer.bytesPerSec, 'B/s'), '<= 3072'],
    [
      'signature CPU share',
      r.signatures ? `${(r.signatures.cpuShare * 100).toFixed(1)} %` : 'off',
      r.signatures ? `${r.signatures.checks} checks` : '',
    ],
  ];
  return `${rows.map(([k, v, t]) => `${k.padEnd(22)} ${v.padStart(10)}   ${t}`).join('\n')}\n`;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      peers: { type: 'string', default: '50' },
      workers: { type: 'string' },
      samples: { type: 'string', default: '5' },
      'steady-ms': { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-admission': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const peers = Number(values.peers);
  const workers =
    values.workers === undefined
      ? peers > 200
        ? Math.min(4, availableParallelism())
        : 1
      : Number(values.workers);
  const samples = Number(values.samples);
  const regular = pullIntervalMs(PEER_DEFAULTS.pushPullIntervalMs, peers);
  const steadyMs =
    values['steady-ms'] === undefined ? Math.max(10_000, regular) : Number(values['steady-ms']);
  if (!Number.isInteger(peers) || peers < 3 || peers > 5000) throw new Error('--peers must be 3..5000');
  if (!Number.isInteger(samples) || samples < 0) throw new Error('--samples must be a whole number');
  if (!Number.isInteger(steadyMs) || steadyMs < 1000) throw new Error('--steady-ms must be at least 1000');
  if (!Number.isInteger(workers) || workers < 1 || workers > 64 || peers / workers < 3)
    throw new Error('--workers must be 1..64, with at least 3 peers per worker');
  // Ctrl-C: stop waiting, close every socket and worker, exit 130. A second one kills at once.
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    const result = await runMembershipBench({
      peers,
      workers,
      samples,
      steadyMs,
      signal: interrupt.signal,
      admission: !values['no-admission'],
    });
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : table(result, workers));
  } catch (error) {
    if (!interrupt.signal.aborted) throw error;
    progress('interrupted; sockets and workers closed');
    process.exitCode = 130;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
