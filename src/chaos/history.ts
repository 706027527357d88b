// The recorded history of a run, as the invariant checker reads it: peers' log
// events (timestamps from the Docker log stream or the peer's own `time`),
// the faults injected with their heal times, and periodic status observations.
// Saved as JSON so `cluster chaos --check FILE` can re-check a run.

export interface HistoryEvent {
  /** Milliseconds since the Unix epoch, on the shared host clock. */
  t: number;
  peer: string;
  event: string;
  epoch?: number;
  /** certificate.accepted: the leader it names. */
  leader?: string;
  /** leader.released: expired | resigned | superseded. */
  reason?: string;
  /** leader.released: when it stopped acting (ms), which may precede `t` (a paused leader logs on resume). */
  stoppedAt?: number;
  /** certificate.rejected and other failures: the error message. */
  error?: string;
  /** certificate.accepted: the leader's key the certificate names. */
  leaderKey?: string;
  /** peer.started and admission.granted: the member's own (admitted) public key. */
  key?: string;
  /** ledger.accepted / ledger.rejected: the token's renewal sequence (with `epoch`, its order). */
  seq?: number;
  /** ledger.accepted: the token's lease end (ms). */
  leaseEnd?: number;
  /** ledger.accepted: the append's position in the ledger (from 1; restarts with the ledger's process). */
  index?: number;
  /** ledger.rejected: why (E_TOKEN_STALE, E_TOKEN_EXPIRED, ...). */
  code?: string;
  /** ledger.rejected: the newest (epoch, seq) the ledger had accepted when it refused. */
  newest?: { epoch: number; seq: number };
  /** exec.exited: how long before the peer's acting window ended its --exec child was seen gone (ms). */
  windowLeftMs?: number;
  /** exec.exited: why the child was signalled (window-ending, released), absent when it exited on its own. */
  why?: string;
  /** member.*: the member the event is about, its incarnation, and who declared it (suspect, dead). */
  member?: string;
  incarnation?: number;
  from?: string;
}

/** A container of the cluster that ended (Docker's `die` event), and how. */
export interface ContainerExit {
  t: number;
  /** Member name (peer-3) or role (enclave). */
  name: string;
  container: string;
  exitCode: number | null;
}

export interface FaultRecord {
  kind: string;
  target: string;
  start: number;
  /** When it was healed (ms); null if never. */
  heal: number | null;
  /** The fault ended the process (kill, stop): an open leader interval ends here. */
  endsProcess?: boolean;
  /** When the process actually ended (Docker's `die` event), if seen: a SIGTERM'd peer runs on until then. */
  processEndedAt?: number;
  /** partition: every peer cut off (the target among them). */
  peers?: string[];
  /** The leader and epoch the majority saw when the fault started (for failover times). */
  leaderAtStart?: string | null;
  epochAtStart?: number | null;
  /** Peers that could still elect during the fault (running, on the enclave's side); failover is measured over them. */
  survivors?: string[];
  /** How it was applied, for people ("leader peer-3, epoch 7", "enclave with the isolated side"). */
  note?: string;
}

export interface Observation {
  /** When the round's last answer came (ms): the round's time. */
  t: number;
  /** When the round began reading; a round that began before a heal cannot show agreement after it. */
  from?: number;
  peer: string;
  /** Whether the peer is expected to take part (running, not paused, not cut off). */
  live: boolean;
  leader: string | null;
  epoch: number | null;
  verified: boolean;
}

export interface History {
  /** The peers of the run (member names). */
  peers?: string[];
  /** Lease length in ms: agreement after a heal is due within lease + 2 s. */
  leaseMs: number;
  startedAt: number;
  endedAt: number;
  events: HistoryEvent[];
  faults: FaultRecord[];
  observations: Observation[];
  /** Every container exit seen during the run (absent in older histories). */
  exits?: ContainerExit[];
}

/** Normalise one pino line (JSON) from a peer into a HistoryEvent, or null. */
export function eventFromLogLine(
  line: string,
  fallbackPeer: string,
  fallbackTime: number,
): HistoryEvent | null {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof parsed.event !== 'string') return null;
  const time = typeof parsed.time === 'string' ? Date.parse(parsed.time) : Number(parsed.time);
  const event: HistoryEvent = {
    t: Number.isFinite(time) ? time : fallbackTime,
    peer: typeof parsed.peer === 'string' ? parsed.peer : fallbackPeer,
    event: parsed.event,
  };
  if (typeof parsed.epoch === 'number') event.epoch = parsed.epoch;
  if (typeof parsed.leader === 'string') event.leader = parsed.leader;
  if (typeof parsed.reason === 'string') event.reason = parsed.reason;
  if (typeof parsed.error === 'string') event.error = parsed.error;
  if (typeof parsed.leaderKey === 'string') event.leaderKey = parsed.leaderKey;
  if (typeof parsed.key === 'string') event.key = parsed.key;
  if (typeof parsed.seq === 'number') event.seq = parsed.seq;
  if (typeof parsed.leaseEnd === 'number') event.leaseEnd = parsed.leaseEnd;
  if (typeof parsed.index === 'number') event.index = parsed.index;
  if (typeof parsed.code === 'string') event.code = parsed.code;
  if (typeof parsed.windowLeftMs === 'number') event.windowLeftMs = parsed.windowLeftMs;
  if (typeof parsed.why === 'string') event.why = parsed.why;
  const newest = parsed.newest as { epoch?: unknown; seq?: unknown } | undefined;
  if (typeof newest?.epoch === 'number' && typeof newest.seq === 'number')
    event.newest = { epoch: newest.epoch, seq: newest.seq };
  if (typeof parsed.member === 'string') event.member = parsed.member;
  // The enclave names the member it admitted `name`.
  if (parsed.event === 'enclave.admitted' && typeof parsed.name === 'string') event.member = parsed.name;
  if (typeof parsed.incarnation === 'number') event.incarnation = parsed.incarnation;
  if (typeof parsed.from === 'string') event.from = parsed.from;
  if (typeof parsed.stoppedAt === 'string') {
    const stopped = Date.parse(parsed.stoppedAt);
    if (Number.isFinite(stopped)) event.stoppedAt = stopped;
  }
  return event;
}
