// How well SWIM's failure detector did during a chaos run, from the peers'
// membership log events: how long after a peer was killed or stopped someone
// declared it gone (detection latency), and how often a member whose process
// ran and could be reached was declared dead anyway (false positives, the
// number Lifeguard set out to cut). Pure functions over a History.
import { percentile } from './failover.ts';
import type { FaultRecord, History, HistoryEvent } from './history.ts';

/**
 * How long after a heal a declaration still belongs to the fault: a suspicion
 * begun under the fault runs out after it. The longest suspicion timeout at
 * N <= 10 is 4.8 s at the defaults (src/peer/membership/timing.ts), plus gossip.
 */
export const DETECTION_GRACE_MS = 5000;

/** Faults that take the process away: their detection is what is measured. */
const DETECTED_KINDS: ReadonlySet<string> = new Set(['kill', 'stop']);
/**
 * Faults under which a declaration is right, or at least expected: the member's
 * process is gone or frozen, or the member or the declarer is cut off.
 */
const EXCUSING_KINDS: ReadonlySet<string> = new Set([
  'kill',
  'stop',
  'pause',
  'restart',
  'partition',
  'one-way',
  'ring',
  'bridge',
]);

export interface DetectionSample {
  /** 1-based position of the fault in the history. */
  fault: number;
  kind: string;
  /** The peer the fault took away. */
  member: string;
  start: number;
  /** First member.dead / member.left about it; null if nobody declared it before it came back. */
  detectedAt: number | null;
  latencyMs: number | null;
  /** The peer that logged the first declaration. */
  by: string | null;
  how: 'dead' | 'left' | null;
}

export interface FalsePositive {
  /** When the first peer logged it. */
  t: number;
  member: string;
  incarnation: number | null;
  /** Who declared it dead (the declaration's origin), if the log says. */
  from: string | null;
  /** How many peers logged this declaration. */
  observers: number;
}

export interface DetectionSeries {
  detections: DetectionSample[];
  falsePositives: FalsePositive[];
}

export interface DetectionStats {
  detected: number;
  undetected: number;
  p50Ms: number | null;
  maxMs: number | null;
  falsePositives: number;
}

const faultPeers = (f: FaultRecord) => f.peers ?? [f.target];

/** A fault's window for declarations: from its start to the grace after its heal, cut at the next fault's start. */
function windowEnd(history: History, index: number, graceMs: number, cutAtNext: boolean): number {
  const f = history.faults[index]!;
  const healed = f.heal === null ? history.endedAt : f.heal + graceMs;
  if (!cutAtNext) return healed;
  const next = history.faults.find((g, i) => i !== index && g.start > f.start);
  return next === undefined ? healed : Math.min(healed, next.start);
}

function detections(history: History, events: HistoryEvent[], graceMs: number): DetectionSample[] {
  const out: DetectionSample[] = [];
  history.faults.forEach((f, i) => {
    if (!DETECTED_KINDS.has(f.kind)) return;
    const end = windowEnd(history, i, graceMs, true);
    for (const member of faultPeers(f)) {
      const first = events.find(
        (e) =>
          e.member === member &&
          (e.event === 'member.dead' || e.event === 'member.left') &&
          e.t >= f.start &&
          e.t < end,
      );
      out.push({
        fault: i + 1,
        kind: f.kind,
        member,
        start: f.start,
        detectedAt: first?.t ?? null,
        latencyMs: first ? first.t - f.start : null,
        by: first?.peer ?? null,
        how: first ? (first.event === 'member.dead' ? 'dead' : 'left') : null,
      });
    }
  });
  return out;
}

function excused(history: History, graceMs: number, names: string[], t: number): boolean {
  return history.faults.some(
    (f, i) =>
      EXCUSING_KINDS.has(f.kind) &&
      faultPeers(f).some((p) => names.includes(p)) &&
      t >= f.start &&
      t <= windowEnd(history, i, graceMs, false),
  );
}

function falsePositives(history: History, events: HistoryEvent[], graceMs: number): FalsePositive[] {
  // Every peer that learns of a death logs it: one declaration is one member at one incarnation.
  const declarations = new Map<string, FalsePositive>();
  for (const e of events) {
    if (e.event !== 'member.dead' || e.member === undefined) continue;
    const key = `${e.member}\u0000${e.incarnation ?? ''}`;
    const known = declarations.get(key);
    if (known) known.observers++;
    else
      declarations.set(key, {
        t: e.t,
        member: e.member,
        incarnation: e.incarnation ?? null,
        from: e.from ?? null,
        observers: 1,
      });
  }
  return [...declarations.values()].filter(
    (d) => !excused(history, graceMs, [d.member, ...(d.from === null ? [] : [d.from])], d.t),
  );
}

export function detectionSeries(history: History, graceMs = DETECTION_GRACE_MS): DetectionSeries {
  const events = history.events
    .filter((e) => e.event === 'member.dead' || e.event === 'member.left')
    .sort((a, b) => a.t - b.t);
  return {
    detections: detections(history, events, graceMs),
    falsePositives: falsePositives(history, events, graceMs),
  };
}

export function detectionStats(series: DetectionSeries): DetectionStats {
  const took = series.detections.map((d) => d.latencyMs).filter((ms): ms is number => ms !== null);
  return {
    detected: took.length,
    undetected: series.detections.length - took.length,
    p50Ms: percentile(took, 50),
    maxMs: took.length ? Math.max(...took) : null,
    falsePositives: series.falsePositives.length,
  };
}
