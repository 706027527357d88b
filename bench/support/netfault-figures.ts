// The pure figures of the netfaults bench (bench/suites/netfaults.ts): false
// positives counted from the peers' own log events while every peer is alive,
// the loss the gossip counters actually saw, and failover under delay against
// the target (p50 <= lease + 1 s).
import type { HistoryEvent } from '../../src/chaos/history.ts';
import { summary } from './stats.ts';

export interface FalsePositives {
  /** `member.suspect` about a live peer, by any peer, inside the window. */
  suspicions: number;
  /** `member.dead` about a live peer: a failure declared while it was alive. */
  deaths: number;
  peerMinutes: number;
  suspicionsPerPeerMinute: number;
  deathsPerPeerMinute: number;
  /** Declarations about a member not in the live set (or naming none): not false positives, shown so a name mismatch cannot hide them. */
  aboutUnknown: number;
}

const DECLARATIONS = new Set(['member.suspect', 'member.dead']);

export function countFalsePositives(
  events: readonly HistoryEvent[],
  window: { from: number; to: number },
  alive: readonly string[],
): FalsePositives {
  if (!(window.to > window.from)) throw new Error(`empty window ${window.from}..${window.to}`);
  if (alive.length === 0) throw new Error('false positives need at least one live peer');
  const live = new Set(alive);
  let suspicions = 0;
  let deaths = 0;
  let aboutUnknown = 0;
  for (const e of events) {
    if (!DECLARATIONS.has(e.event) || e.t < window.from || e.t > window.to) continue;
    if (e.member === undefined || !live.has(e.member)) aboutUnknown++;
    else if (e.event === 'member.dead') deaths++;
    else suspicions++;
  }
  const peerMinutes = (alive.length * (window.to - window.from)) / 60_000;
  return {
    suspicions,
    deaths,
    peerMinutes,
    suspicionsPerPeerMinute: suspicions / peerMinutes,
    deathsPerPeerMinute: deaths / peerMinutes,
    aboutUnknown,
  };
}

export interface GossipCounters {
  datagramsIn: number;
  datagramsOut: number;
}

/**
 * 1 - received / sent over every peer in a window: gossip goes only between
 * the peers, so what one sent and no one received was lost on the way.
 */
export function measuredLoss(
  before: readonly GossipCounters[],
  after: readonly GossipCounters[],
): number | null {
  let sent = 0;
  let received = 0;
  for (const [i, a] of after.entries()) {
    const b = before[i] ?? { datagramsIn: 0, datagramsOut: 0 };
    sent += a.datagramsOut - b.datagramsOut;
    received += a.datagramsIn - b.datagramsIn;
  }
  if (sent <= 0) return null;
  return Math.round((1 - received / sent) * 10_000) / 10_000;
}

export function failoverFigures(samplesMs: readonly number[], leaseMs: number) {
  const s = summary(samplesMs);
  const targetP50Ms = leaseMs + 1000;
  return { ...s, targetP50Ms, p50WithinTarget: s.p50Ms === null ? null : s.p50Ms <= targetP50Ms };
}
