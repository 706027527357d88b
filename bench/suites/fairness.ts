// Fairness of the election against a malicious minority (issue 14): for each
// scripted strategy, M colluding members of N over >= 1,000 elections with the
// real enclave service in-process; their share of epochs won must stay within
// M/N + 3 binomial standard deviations. See bench/support/fairness-harness.ts.
import { parseArgs } from 'node:util';
import { type FairnessResult, runFairness, STRATEGIES, type Strategy } from '../support/fairness-harness.ts';

const HELP = `usage: npm run bench -- fairness [--elections 1000] [--strategy NAME] [--json]
Share of epochs won by M malicious members of N (M = 1 of 5, M = 2 of 7) per strategy:
${STRATEGIES.join(', ')}.`;

const SETUPS = [
  { members: 5, malicious: 1 },
  { members: 7, malicious: 2 },
] as const;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      elections: { type: 'string', default: '1000' },
      strategy: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const elections = Number(values.elections);
  if (!Number.isSafeInteger(elections) || elections < 1)
    throw new Error('--elections must be a positive integer');
  const strategies = values.strategy ? [values.strategy as Strategy] : [...STRATEGIES];
  for (const s of strategies) {
    if (!STRATEGIES.includes(s)) throw new Error(`--strategy ${s}: one of ${STRATEGIES.join(', ')}`);
  }
  const results: FairnessResult[] = [];
  for (const setup of SETUPS) {
    for (const strategy of strategies) {
      process.stderr.write(`fairness: ${strategy}, M = ${setup.malicious} of ${setup.members}\n`);
      results.push(await runFairness({ ...setup, strategy, elections }));
    }
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ suite: 'fairness', results })}\n`);
    return;
  }
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `${'strategy'.padEnd(18)} ${'M/N'.padStart(5)} ${'elections'.padStart(9)} ${'won'.padStart(5)} ${'share'.padStart(7)} ${'bound'.padStart(7)}  ${'time'.padStart(6)}  ok  refused`,
    ...results.map(
      (r) =>
        `${r.strategy.padEnd(18)} ${`${r.malicious}/${r.members}`.padStart(5)} ${String(r.elections).padStart(9)} ${String(r.maliciousWins).padStart(5)} ${pct(r.share).padStart(7)} ${pct(r.bound).padStart(7)}  ${pct(r.timeShare).padStart(6)}  ${r.withinBound && r.wrongfullyAccepted === 0 ? 'yes' : 'NO '}  ${Object.entries(
          r.refused,
        )
          .map(([code, n]) => `${code} ${n}`)
          .join(', ')}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (results.some((r) => !r.withinBound || r.wrongfullyAccepted > 0)) process.exitCode = 1;
}
