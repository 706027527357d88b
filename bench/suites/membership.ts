// `npm run bench -- membership --peers N [--json]`: N peers in this process on
// real loopback UDP. Measures, in order: convergence from a cold start (every
// peer knows every peer), steady-state traffic per peer, the spread of one
// update to every member, failure detection (a peer closed without leave, until
// every other peer marks it dead), and false positives over the whole run.
import { parseArgs } from 'node:util';
import { PEER_DEFAULTS } from '../../src/peer/config.ts';
import { LoopbackCluster, waitFor } from '../../src/peer/loopback-cluster.ts';
import { pushPullIntervalMs } from '../../src/peer/membership/timing.ts';

const HELP = `usage: npm run bench -- membership [--peers N] [--samples S] [--steady-ms MS] [--json]
  --peers      peers in this process (default 50)
  --samples    failures to detect, one after another (default 5)
  --steady-ms  steady-state traffic window (default: 10 s or one anti-entropy interval at N,
               whichever is longer, so full state syncs are counted)
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
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

const round = (x: number | null | undefined) => (x === null || x === undefined ? null : Math.round(x));
const progress = (text: string) => process.stderr.write(`membership: ${text}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runMembershipBench(
  peers: number,
  samples: number,
  steadyMs: number,
): Promise<MembershipBenchResult> {
  progress(`starting ${peers} peers on 127.0.0.1`);
  const cluster = await LoopbackCluster.start({ peers });
  try {
    const convergeMs = await waitFor(() => cluster.converged(), 60_000, peers > 200 ? 100 : 25);
    progress(`converged: ${convergeMs === undefined ? 'no (60 s)' : `${Math.round(convergeMs)} ms`}`);
    if (convergeMs === undefined) {
      // Later phases mean nothing on a cluster that never formed: report what failed.
      const share = Math.round(cluster.convergedFraction() * 1000) / 10;
      progress(`not converged: ${share}% of peers know every peer; skipping spread, detection and traffic`);
      return {
        suite: 'membership',
        peers,
        convergeMs: null,
        spreadMs: null,
        detect: { p50Ms: null, p99Ms: null, samples: 0 },
        falsePositives: cluster.falsePositives(),
        perPeer: { datagramsPerSec: null, bytesPerSec: null },
      };
    }

    // Let join-time rumours drain and the two quick post-join pulls (about 1 and 3 s) end.
    await sleep(10_000);
    const before = cluster.traffic();
    const t0 = performance.now();
    await sleep(steadyMs);
    const after = cluster.traffic();
    const seconds = (performance.now() - t0) / 1000;
    const live = cluster.live().length;
    const perPeer = {
      datagramsPerSec: Math.round(((after.datagramsOut - before.datagramsOut) / live / seconds) * 100) / 100,
      bytesPerSec: Math.round((after.bytesOut - before.bytesOut) / live / seconds),
    };
    progress(`steady traffic per peer: ${perPeer.datagramsPerSec} datagrams/s, ${perPeer.bytesPerSec} B/s`);

    // One update, passed on by each peer on first receipt (as certificates are).
    const reached = new Set<string>();
    for (const p of cluster.live()) {
      p.node.on((event) => {
        if (event.event !== 'broadcast.received' || reached.has(p.node.name)) return;
        reached.add(p.node.name);
        p.node.broadcast(event.topic, event.key, event.payload);
      });
    }
    const origin = cluster.live()[live - 1]!;
    reached.add(origin.node.name);
    origin.node.broadcast('bench', 'spread', new Uint8Array(200).fill(1));
    const spreadMs = await waitFor(() => reached.size === live, 30_000, 5);
    progress(`spread: ${spreadMs === undefined ? 'incomplete' : `${Math.round(spreadMs)} ms`}`);

    const detections: number[] = [];
    for (let i = 0; i < samples; i++) {
      // Any peer but the seeds; it comes back after, so the cluster stays at N.
      const candidates = cluster.live().slice(3);
      const victim = candidates[Math.floor(Math.random() * candidates.length)]!.node.name;
      const killedAt = performance.now();
      await cluster.kill(victim);
      await waitFor(() => cluster.allMarkedDeadAt(victim) !== undefined, 20_000, 10);
      const at = cluster.allMarkedDeadAt(victim);
      const took = at === undefined ? Number.POSITIVE_INFINITY : at - killedAt;
      detections.push(took);
      progress(
        `detect ${i + 1}/${samples}: ${victim} ${Number.isFinite(took) ? `${Math.round(took)} ms` : 'not within 20 s'}`,
      );
      await cluster.restart(victim);
      await waitFor(() => cluster.converged(), 30_000, 25);
      await sleep(500 + Math.random() * 500);
    }
    detections.sort((a, b) => a - b);
    for (const line of cluster.peers.flatMap((p) => p.falseDeathLog).slice(0, 10))
      progress(`false positive: ${line}`);
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
      falsePositives: cluster.falsePositives(),
      perPeer,
    };
  } finally {
    await cluster.close();
  }
}

function table(r: MembershipBenchResult): string {
  const fmt = (x: number | null, unit = 'ms') => (x === null ? 'n/a' : `${x} ${unit}`);
  const rows: [string, string, string][] = [
    ['peers', String(r.peers), ''],
    ['converge', fmt(r.convergeMs), r.peers >= 1000 ? '<= 10000 ms' : ''],
    ['spread', fmt(r.spreadMs), r.peers >= 1000 ? '<= 2500 ms' : ''],
    ['detect p50', fmt(r.detect.p50Ms), '<= 3000 ms'],
    ['detect p99', fmt(r.detect.p99Ms), '<= 5000 ms'],
    ['detect samples', String(r.detect.samples), ''],
    ['false positives', String(r.falsePositives), '0'],
    ['datagrams/s per peer', fmt(r.perPeer.datagramsPerSec, ''), '<= 5'],
    ['bytes/s per peer', fmt(r.perPeer.bytesPerSec, 'B/s'), '<= 3072'],
  ];
  return `${rows.map(([k, v, t]) => `${k.padEnd(22)} ${v.padStart(10)}   ${t}`).join('\n')}\n`;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      peers: { type: 'string', default: '50' },
      samples: { type: 'string', default: '5' },
      'steady-ms': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const peers = Number(values.peers);
  const samples = Number(values.samples);
  const regular = pushPullIntervalMs(PEER_DEFAULTS.pushPullIntervalMs, peers);
  const steadyMs =
    values['steady-ms'] === undefined ? Math.max(10_000, regular) : Number(values['steady-ms']);
  if (!Number.isInteger(peers) || peers < 3 || peers > 5000) throw new Error('--peers must be 3..5000');
  if (!Number.isInteger(samples) || samples < 0) throw new Error('--samples must be a whole number');
  if (!Number.isInteger(steadyMs) || steadyMs < 1000) throw new Error('--steady-ms must be at least 1000');
  const result = await runMembershipBench(peers, samples, steadyMs);
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : table(result));
}
