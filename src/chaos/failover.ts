// Failover times, from the peers' own log events: a fault that takes the
// leader away (kill, stop, pause, partition, restart of the leader) counts
// from its start until every surviving peer has accepted a certificate of a
// newer epoch, i.e. all survivors agree on a new verified leader, not just
// the winner knowing. Pure functions over a History.
import type { FaultRecord, History } from './history.ts';

export interface Failover {
  fault: number;
  kind: string;
  from: string;
  /** The new leader most survivors accepted, or null when none. */
  to: string | null;
  start: number;
  /** ms from the fault's start until the last survivor accepted the new epoch; null: some survivor did not before the next fault. */
  tookMs: number | null;
}

export function failovers(history: History): Failover[] {
  const out: Failover[] = [];
  history.faults.forEach((fault, index) => {
    if (!takesLeaderAway(fault)) return;
    const survivors = fault.survivors ?? [];
    if (survivors.length === 0) return;
    const epoch = fault.epochAtStart ?? 0;
    // Faults run one at a time: a newer epoch after the next fault began is that fault's doing
    // (a pause shorter than the lease leaves the leader in place: no failover).
    const until = history.faults[index + 1]?.start ?? history.endedAt;
    const firstNew = new Map<string, { t: number; leader: string | undefined }>();
    for (const e of history.events) {
      if (e.event !== 'certificate.accepted' || e.t < fault.start || e.t >= until || (e.epoch ?? 0) <= epoch)
        continue;
      if (!survivors.includes(e.peer)) continue;
      const seen = firstNew.get(e.peer);
      if (!seen || e.t < seen.t) firstNew.set(e.peer, { t: e.t, leader: e.leader });
    }
    if (firstNew.size === 0) return; // the leader kept its lease through the fault
    const all = survivors.every((p) => firstNew.has(p));
    const times = [...firstNew.values()].map((v) => v.t);
    const counts = new Map<string, number>();
    for (const { leader } of firstNew.values()) if (leader) counts.set(leader, (counts.get(leader) ?? 0) + 1);
    const to = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
    out.push({
      fault: index + 1,
      kind: fault.kind,
      from: fault.leaderAtStart!,
      to,
      start: fault.start,
      tookMs: all ? Math.max(...times) - fault.start : null,
    });
  });
  return out;
}

/** The fault removed the leader from the survivors' view. */
function takesLeaderAway(fault: FaultRecord): boolean {
  if (!fault.leaderAtStart) return false;
  if (fault.kind === 'enclave-restart') return false;
  const cut = fault.peers ?? [fault.target];
  return cut.includes(fault.leaderAtStart);
}

/** Nearest-rank percentile (p in 0..100) of the values, or null when there are none. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export interface FailoverStats {
  count: number;
  /** Failovers that did not complete before the fault was healed or the run ended. */
  incomplete: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export function failoverStats(list: Failover[]): FailoverStats {
  const took = list.map((f) => f.tookMs).filter((t): t is number => t !== null);
  return {
    count: took.length,
    incomplete: list.length - took.length,
    p50Ms: percentile(took, 50),
    p99Ms: percentile(took, 99),
    maxMs: took.length ? Math.max(...took) : null,
  };
}
