// `npm run bench -- simulation [--peers 1000,10000] [--seed S] [--runs R] [--json]`:
// the membership protocol at scale, apart from this machine's cores. N real
// MembershipNodes (shell, core, codec, admission and record signatures) in
// one process on a virtual network with latency and loss, in virtual time,
// every draw from the seed: the same seed gives the same figures. See
// bench/support/simulation-run.ts for what each figure means.
import { totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { benchEnclavePem } from '../support/bench-admissions.ts';
import { memoryRefusal } from '../support/simulation-memory.ts';
import { runSimulation, type SimulationResult } from '../support/simulation-run.ts';
import { DEFAULT_LINK, type LinkModel } from '../support/virtual-network.ts';

const HELP = `usage: npm run bench -- simulation [--peers 1000[,10000]] [--seed S] [--runs R] [--samples K]
                                   [--steady-ms MS] [--latency-ms MS] [--jitter-ms MS] [--loss P] [--no-admission]
                                   [--skip-memory-check] [--json]
  --peers       cluster sizes, comma-separated (default 1000)
  --seed        seed of the first run (default 1); run r uses seed + r
  --runs        runs per size, each with its own seed; the table shows medians (default 1)
  --samples     members killed one after another, for detection and spread (default 10)
  --settle-ms   virtual ms after convergence before traffic is counted (default 10000); at
                N = 1,000 the cold start's join rumours ride on every datagram for minutes
  --steady-ms   virtual ms of the steady window (traffic and steady false positives; default
                10 s or one push-pull interval at N, the longer): 600000 for the 10-minute figure
  --latency-ms  one-way latency every datagram has (default ${DEFAULT_LINK.baseLatencyMs})
  --jitter-ms   mean of an exponential extra latency (default ${DEFAULT_LINK.jitterMeanMs})
  --loss        share of datagrams lost (default ${DEFAULT_LINK.loss})
  --no-admission  open membership, to compare: by default every member is admitted by a
                stand-in enclave key, signs its records and checks everyone's (each distinct
                signature is verified once per process: the verdict memo, src/crypto/verdict-memo.ts)
  --skip-memory-check  run a size whose memory estimate (about 600 B per (peer, member) pair,
                docs/scale.md) exceeds this machine's memory or the process's V8 heap; without it
                such a size is refused at once (exit 2), saying what it needs
  --json        print exactly one JSON document on stdout
All times are virtual. Targets (issue 13, DESIGN.md §7): converge <= 10 s at N = 1,000 and
<= 20 s at N = 10,000; spread <= 2.5 s at N = 10,000; detect p50 <= 3 s, p99 <= 5 s;
0 false positives in steady state; <= 5 datagrams/s and <= 3 KB/s per member.`;

export interface SimulationBenchReport {
  suite: 'simulation';
  link: LinkModel;
  sizes: { peers: number; median: SimulationSummary; runs: SimulationResult[] }[];
}

/** The figures of one size, each the median over its runs. */
export interface SimulationSummary {
  convergeMs: number | null;
  detectP50Ms: number | null;
  detectP99Ms: number | null;
  spreadP50Ms: number | null;
  spreadMaxMs: number | null;
  coldStartFalsePositives: number | null;
  steadyFalsePositives: number | null;
  datagramsPerSec: number | null;
  bytesPerSec: number | null;
}

/** Median of the known values (an unconverged run counts as slower than any converged one). */
export function median(values: readonly (number | null)[], nullIsWorst = false): number | null {
  const worst = Number.POSITIVE_INFINITY;
  const known = values
    .map((v) => (v === null && nullIsWorst ? worst : v))
    .filter((v): v is number => v !== null)
    .sort((a, b) => a - b);
  if (known.length === 0) return null;
  const m = known[Math.floor((known.length - 1) / 2)]!;
  return m === worst ? null : m;
}

export function summarise(runs: readonly SimulationResult[]): SimulationSummary {
  const of = (pick: (r: SimulationResult) => number | null, nullIsWorst = false) =>
    median(runs.map(pick), nullIsWorst);
  return {
    convergeMs: of((r) => r.convergeMs, true),
    detectP50Ms: of((r) => r.detect.p50Ms),
    detectP99Ms: of((r) => r.detect.p99Ms),
    spreadP50Ms: of((r) => r.spread.p50Ms),
    spreadMaxMs: of((r) => r.spread.maxMs),
    coldStartFalsePositives: of((r) => r.falsePositives.coldStart),
    steadyFalsePositives: of((r) => r.falsePositives.steadyState),
    datagramsPerSec: of((r) => r.perMember.datagramsPerSec),
    bytesPerSec: of((r) => r.perMember.bytesPerSec),
  };
}

function table(report: SimulationBenchReport): string {
  const fmt = (x: number | null, unit = ' ms') => (x === null ? 'n/a' : `${x}${unit}`);
  const lines: string[] = [];
  for (const { peers, median: m, runs } of report.sizes) {
    const target = (at1k: string, at10k: string) => (peers >= 10_000 ? at10k : peers >= 1_000 ? at1k : '');
    const rows: [string, string, string][] = [
      ['members', String(peers), `${runs.length} run(s), seeds ${runs.map((r) => r.seed).join(', ')}`],
      ['converge', fmt(m.convergeMs), target('<= 10000 ms', '<= 20000 ms')],
      ['detect p50', fmt(m.detectP50Ms), '<= 3000 ms'],
      ['detect p99', fmt(m.detectP99Ms), '<= 5000 ms'],
      ['spread p50', fmt(m.spreadP50Ms), ''],
      ['spread max', fmt(m.spreadMaxMs), target('', '<= 2500 ms')],
      ['false pos., cold start', fmt(m.coldStartFalsePositives, ''), ''],
      ['false pos., steady', fmt(m.steadyFalsePositives, ''), '0'],
      ['datagrams/s per member', fmt(m.datagramsPerSec, ''), '<= 5'],
      ['bytes/s per member', fmt(m.bytesPerSec, ' B/s'), '<= 3072 B/s'],
      ['wall time per run', fmt(median(runs.map((r) => r.wallMs))), ''],
    ];
    lines.push(rows.map(([k, v, t]) => `${k.padEnd(24)} ${v.padStart(11)}   ${t}`).join('\n'));
  }
  return `${lines.join('\n\n')}\n`;
}

function number(name: string, text: string, check: (x: number) => boolean, rule: string): number {
  const x = Number(text);
  if (!check(x)) throw new Error(`--${name} must be ${rule}, got '${text}'`);
  return x;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      peers: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      runs: { type: 'string', default: '1' },
      samples: { type: 'string', default: '10' },
      'settle-ms': { type: 'string', default: '10000' },
      'steady-ms': { type: 'string' },
      'latency-ms': { type: 'string', default: String(DEFAULT_LINK.baseLatencyMs) },
      'jitter-ms': { type: 'string', default: String(DEFAULT_LINK.jitterMeanMs) },
      loss: { type: 'string', default: String(DEFAULT_LINK.loss) },
      'no-admission': { type: 'boolean', default: false },
      'skip-memory-check': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const sizes = values.peers
    .split(',')
    .map((p) =>
      number('peers', p, (x) => Number.isInteger(x) && x >= 4 && x <= 20_000, 'whole numbers 4..20000'),
    );
  if (!values['skip-memory-check']) {
    const limits = { heapLimitBytes: getHeapStatistics().heap_size_limit, totalMemoryBytes: totalmem() };
    for (const peers of sizes) {
      const refusal = memoryRefusal(peers, limits);
      if (refusal) throw new Error(refusal);
    }
  }
  const seed = number('seed', values.seed, (x) => Number.isSafeInteger(x) && x >= 0, 'a whole number');
  const runs = number('runs', values.runs, (x) => Number.isInteger(x) && x >= 1 && x <= 100, '1..100');
  const settleMs = number(
    'settle-ms',
    values['settle-ms'],
    (x) => Number.isInteger(x) && x >= 0,
    'a whole number',
  );
  // Unset: the run's own default (10 s or one push-pull interval at N, the longer).
  const steadyMs =
    values['steady-ms'] === undefined
      ? undefined
      : number('steady-ms', values['steady-ms'], (x) => Number.isInteger(x) && x >= 1000, '>= 1000');
  const samples = number(
    'samples',
    values.samples,
    (x) => Number.isInteger(x) && x >= 0 && x <= 1000,
    '0..1000',
  );
  const link: LinkModel = {
    baseLatencyMs: number('latency-ms', values['latency-ms'], (x) => x >= 0 && x <= 10_000, '0..10000'),
    jitterMeanMs: number('jitter-ms', values['jitter-ms'], (x) => x >= 0 && x <= 10_000, '0..10000'),
    loss: number('loss', values.loss, (x) => x >= 0 && x < 1, 'in [0, 1)'),
  };
  const enclavePem = values['no-admission'] ? undefined : benchEnclavePem();
  const progress = (line: string) => process.stderr.write(`simulation: ${line}\n`);
  const report: SimulationBenchReport = { suite: 'simulation', link, sizes: [] };
  for (const peers of sizes) {
    const results: SimulationResult[] = [];
    for (let r = 0; r < runs; r++) {
      results.push(
        await runSimulation({
          peers,
          seed: seed + r,
          link,
          samples,
          settleMs,
          ...(steadyMs === undefined ? {} : { steadyMs }),
          enclavePem,
          progress,
        }),
      );
    }
    report.sizes.push({ peers, median: summarise(results), runs: results });
  }
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : table(report));
}
