// The report of a chaos run as one JSON document (report.json): the seed and
// versions to replay it, the schedule, every fault with its start and heal,
// failover times, the invariant verdicts with the offending events, and the
// whole recorded history, which `cluster chaos --check FILE` checks again.
import { readFile } from 'node:fs/promises';
import { EnclaveElectError } from '../errors.ts';
import { VERSION } from '../version.ts';
import { type Failover, type FailoverStats, failoverStats, failovers } from './failover.ts';
import type { History } from './history.ts';
import {
  agreementAfterHeals,
  checkHistory,
  type LeaderInterval,
  leaderIntervals,
  type Verdict,
} from './invariants.ts';
import { type AppendCounts, appendCounts, ledgerAppends } from './ledger-appends.ts';
import {
  type DetectionSeries,
  type DetectionStats,
  detectionSeries,
  detectionStats,
} from './report-detection.ts';
import type { ChaosRun, SkippedFault } from './run-chaos.ts';
import type { ScheduledFault } from './schedule.ts';

export const REPORT_KIND = 'enclave-elect chaos report';

export interface FaultRow {
  index: number;
  kind: string;
  target: string;
  peers: string[];
  start: string;
  heal: string | null;
  heldMs: number | null;
  /** ms from heal until every live peer agreed; null if not seen. */
  agreementMs: number | null;
  /** ms from heal until a restarted peer's process was up (agreement counts from there). */
  bootMs: number | null;
  leaderAtStart: string | null;
  note: string;
}

export interface ChaosReport {
  kind: typeof REPORT_KIND;
  version: string;
  node: string;
  seed: string;
  cluster: string;
  image: string | null;
  options: { durationMs: number; intervalMs: number; faults: string[]; peers: number; leaseMs: number };
  startedAt: string;
  endedAt: string;
  ok: boolean;
  verdicts: Verdict[];
  summary: {
    faultsInjected: number;
    faultsByKind: Record<string, number>;
    skipped: number;
    failovers: FailoverStats;
    leaderIntervals: number;
    events: number;
    /** The demo ledger's appends (runs with a ledger only). */
    appends?: AppendCounts;
    /** SWIM's failure detector: latency after kill/stop, and live members declared dead. */
    detection: DetectionStats;
  };
  faults: FaultRow[];
  /** Per kill/stop, when someone first declared the peer gone; every false positive (report-detection.ts). */
  detection: DetectionSeries;
  failovers: Failover[];
  leaderIntervals: LeaderInterval[];
  schedule: ScheduledFault[];
  skipped: SkippedFault[];
  cleanup: string[];
  history: History;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function faultRows(history: History): FaultRow[] {
  const samples = new Map(agreementAfterHeals(history).map((s) => [s.heal, s]));
  return history.faults.map((f, i) => ({
    index: i + 1,
    kind: f.kind,
    target: f.target,
    peers: f.peers ?? [f.target],
    start: iso(f.start),
    heal: f.heal === null ? null : iso(f.heal),
    heldMs: f.heal === null ? null : f.heal - f.start,
    agreementMs: f.heal === null ? null : (samples.get(f.heal)?.tookMs ?? null),
    bootMs: f.heal === null ? null : (samples.get(f.heal)?.bootMs ?? null),
    leaderAtStart: f.leaderAtStart ?? null,
    note: f.note ?? '',
  }));
}

export function summarize(
  history: History,
  run: Pick<ChaosRun, 'skipped'> | undefined,
): ChaosReport['summary'] {
  const byKind: Record<string, number> = {};
  for (const f of history.faults) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  const appends = ledgerAppends(history);
  return {
    faultsInjected: history.faults.length,
    faultsByKind: byKind,
    skipped: run?.skipped.length ?? 0,
    failovers: failoverStats(failovers(history)),
    leaderIntervals: leaderIntervals(history).length,
    events: history.events.length,
    ...(appends === null ? {} : { appends: appendCounts(appends) }),
    detection: detectionStats(detectionSeries(history)),
  };
}

export function buildReport(
  run: ChaosRun,
  meta: { cluster: string; image: string | null; durationMs: number; intervalMs: number; faults: string[] },
): ChaosReport {
  const h = run.history;
  return {
    kind: REPORT_KIND,
    version: VERSION,
    node: process.version,
    seed: run.seed,
    cluster: meta.cluster,
    image: meta.image,
    options: {
      durationMs: meta.durationMs,
      intervalMs: meta.intervalMs,
      faults: meta.faults,
      peers: h.peers?.length ?? 0,
      leaseMs: h.leaseMs,
    },
    startedAt: iso(h.startedAt),
    endedAt: iso(h.endedAt),
    ok: run.verdicts.every((v) => v.ok),
    verdicts: run.verdicts,
    summary: summarize(h, run),
    faults: faultRows(h),
    detection: detectionSeries(h),
    failovers: run.failovers,
    leaderIntervals: leaderIntervals(h),
    schedule: run.schedule,
    skipped: run.skipped,
    cleanup: run.cleanup,
    history: h,
  };
}

function isHistory(value: unknown): value is History {
  const h = value as History | null;
  return (
    h !== null &&
    typeof h === 'object' &&
    typeof h.leaseMs === 'number' &&
    Array.isArray(h.events) &&
    Array.isArray(h.faults) &&
    Array.isArray(h.observations)
  );
}

/** A saved report.json (or a bare history), checked again from scratch. */
export async function checkSavedHistory(
  path: string,
): Promise<{ history: History; verdicts: Verdict[]; seed: string | null }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new EnclaveElectError(
      'E_NOT_FOUND',
      `cannot read a history from ${path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const doc = parsed as { history?: unknown; seed?: unknown };
  const history = isHistory(doc.history) ? doc.history : parsed;
  if (!isHistory(history)) {
    throw new EnclaveElectError(
      'E_USAGE',
      `${path} is neither a chaos report (report.json) nor a history: it needs leaseMs, events, faults and observations`,
      { exitCode: 2 },
    );
  }
  return { history, verdicts: checkHistory(history), seed: typeof doc.seed === 'string' ? doc.seed : null };
}
