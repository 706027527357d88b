// What a person reads in the terminal after a run: the verdicts, the faults
// by kind, failover times, and where the report went. Also the live one-line
// progress while it runs.
import { formatDuration } from '../orchestrator/duration.ts';
import type { FailoverStats } from './failover.ts';
import type { Verdict } from './invariants.ts';
import type { ChaosProgress } from './run-chaos.ts';

export function progressLine(p: ChaosProgress): string {
  return `[${formatDuration(p.elapsedMs)}/${formatDuration(p.durationMs)}] faults ${p.injected} | ${p.doing} | ${p.status}`;
}

const ms = (v: number | null) => (v === null ? '-' : formatDuration(v));

export function verdictTable(verdicts: Verdict[]): string {
  const width = Math.max(...verdicts.map((v) => v.name.length));
  return verdicts.map((v) => `  ${v.ok ? 'PASS' : 'FAIL'}  ${v.name.padEnd(width)}  ${v.summary}`).join('\n');
}

export function summaryText(input: {
  seed: string;
  faultsByKind: Record<string, number>;
  skipped: number;
  failovers: FailoverStats;
  verdicts: Verdict[];
  reportDir?: string;
}): string {
  const total = Object.values(input.faultsByKind).reduce((a, b) => a + b, 0);
  const kinds = Object.entries(input.faultsByKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const f = input.failovers;
  const ok = input.verdicts.every((v) => v.ok);
  const lines = [
    `seed ${input.seed}: ${total} faults injected (${kinds || 'none'})${input.skipped ? `, ${input.skipped} skipped` : ''}`,
    `failovers ${f.count}${f.incomplete ? ` (+${f.incomplete} not completed before heal)` : ''}: p50 ${ms(f.p50Ms)}, p99 ${ms(f.p99Ms)}, max ${ms(f.maxMs)}`,
    verdictTable(input.verdicts),
    ok ? 'all invariants hold' : `INVARIANT VIOLATED - replay with --seed ${input.seed}`,
  ];
  if (input.reportDir) lines.push(`report: ${input.reportDir}/report.html, ${input.reportDir}/report.json`);
  return lines.join('\n');
}
