// The demo ledger's decisions in a recorded history: every append it accepted
// or refused (`ledger.accepted` / `ledger.rejected` in its log), in the order
// it made them, and the counts a report shows. A run without a ledger has no
// `ledger.*` events at all (the ledger logs `ledger.listening` when it starts,
// and the recording reaches back to its start), so those runs are told apart.
import type { History, HistoryEvent } from './history.ts';

/** Refusals that mean "this token is no longer good": an older (epoch, seq) than accepted, or a lease that ended. */
export const STALE_CODES: ReadonlySet<string> = new Set(['E_TOKEN_STALE', 'E_TOKEN_EXPIRED']);

export interface LedgerAppends {
  /** Accepted appends in the ledger's order (time, then its index). */
  accepted: HistoryEvent[];
  rejected: HistoryEvent[];
}

export interface AppendCounts {
  attempted: number;
  accepted: number;
  rejected: number;
  /** Rejected because the token was older than one accepted or its lease had ended: the fence at work. */
  staleRejected: number;
}

const inLedgerOrder = (a: HistoryEvent, b: HistoryEvent) => a.t - b.t || (a.index ?? 0) - (b.index ?? 0);

/** The ledger's decisions, or null when the run recorded no ledger. */
export function ledgerAppends(history: History): LedgerAppends | null {
  if (!history.events.some((e) => e.event.startsWith('ledger.'))) return null;
  return {
    accepted: history.events.filter((e) => e.event === 'ledger.accepted').sort(inLedgerOrder),
    rejected: history.events.filter((e) => e.event === 'ledger.rejected').sort(inLedgerOrder),
  };
}

export function appendCounts(appends: LedgerAppends): AppendCounts {
  return {
    attempted: appends.accepted.length + appends.rejected.length,
    accepted: appends.accepted.length,
    rejected: appends.rejected.length,
    staleRejected: appends.rejected.filter((e) => e.code !== undefined && STALE_CODES.has(e.code)).length,
  };
}
