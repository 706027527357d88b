// The invariants of DESIGN.md §5, checked on a recorded history:
//   1. never two different leaders for one epoch, across all certificates seen;
//   2. leader intervals (leader.acquired .. leader.released stoppedAt) never overlap;
//   3. after each heal, every live peer agrees on one verified leader within lease + 2 s;
//   4. every accepted certificate names a member of the run with its own key (issue 14);
//   5. the demo ledger accepted no stale append (issue 15), when the run has one.
// Pure functions: each verdict carries the offending events, for the report.
import type { ErrorCode } from '../errors.ts';
import type { History, HistoryEvent } from './history.ts';
import { appendCounts, ledgerAppends } from './ledger-appends.ts';

export interface LeaderInterval {
  peer: string;
  epoch: number;
  from: number;
  to: number;
  /** How it ended: a release reason, 'process-ended', or 'open' (still leading at the end). */
  end: string;
}

export interface Verdict {
  name: string;
  ok: boolean;
  summary: string;
  offending: unknown[];
}

export interface AgreementSample {
  heal: number;
  /** When the last live peer adopted the agreed certificate, from its log (ms after the heal). */
  tookMs: number | null;
  /** When a status round first saw everyone agree (an upper bound, ms after the heal). */
  observedMs: number | null;
  /** How long the slowest restarted peer's process took to start after the heal (0 when none restarted). */
  bootMs: number | null;
}

const AGREEMENT_SLACK_MS = 2000;

export function equivocations(history: History): Verdict {
  const byEpoch = new Map<number, Map<string, HistoryEvent>>();
  for (const e of history.events) {
    if (e.event !== 'certificate.accepted' || e.epoch === undefined || e.leader === undefined) continue;
    const leaders = byEpoch.get(e.epoch) ?? new Map<string, HistoryEvent>();
    if (!leaders.has(e.leader)) leaders.set(e.leader, e);
    byEpoch.set(e.epoch, leaders);
  }
  const offending = [...byEpoch.entries()]
    .filter(([, leaders]) => leaders.size > 1)
    .map(([epoch, leaders]) => ({ epoch, leaders: [...leaders.keys()], events: [...leaders.values()] }));
  return {
    name: 'one leader per epoch',
    ok: offending.length === 0,
    summary:
      offending.length === 0
        ? `${byEpoch.size} epochs, each with one leader`
        : `${offending.length} epoch(s) with two or more leaders`,
    offending,
  };
}

/** Rebuild leader intervals from acquired/released events, ended processes and the end of the run. */
export function leaderIntervals(history: History): LeaderInterval[] {
  const events = [...history.events].sort((a, b) => a.t - b.t);
  const processEnds = history.faults
    .filter((f) => f.endsProcess)
    .map((f) => ({ peer: f.target, t: f.processEndedAt ?? f.start }))
    .sort((a, b) => a.t - b.t);
  const open = new Map<string, { epoch: number; from: number }>();
  const intervals: LeaderInterval[] = [];
  const close = (peer: string, to: number, end: string) => {
    const o = open.get(peer);
    if (!o) return;
    intervals.push({ peer, epoch: o.epoch, from: o.from, to: Math.max(o.from, to), end });
    open.delete(peer);
  };
  let p = 0;
  for (const e of events) {
    while (p < processEnds.length && processEnds[p]!.t <= e.t) {
      close(processEnds[p]!.peer, processEnds[p]!.t, 'process-ended');
      p++;
    }
    if (e.event === 'leader.acquired') {
      close(e.peer, e.t, 'reacquired');
      open.set(e.peer, { epoch: e.epoch ?? 0, from: e.t });
    } else if (e.event === 'leader.released') {
      close(e.peer, e.stoppedAt ?? e.t, e.reason ?? 'released');
    }
  }
  for (; p < processEnds.length; p++) close(processEnds[p]!.peer, processEnds[p]!.t, 'process-ended');
  for (const peer of [...open.keys()]) close(peer, history.endedAt, 'open');
  return intervals.sort((a, b) => a.from - b.from);
}

export function overlappingLeaders(history: History): Verdict {
  const intervals = leaderIntervals(history);
  const offending: { a: LeaderInterval; b: LeaderInterval; overlapMs: number }[] = [];
  for (let i = 0; i < intervals.length; i++) {
    for (let j = i + 1; j < intervals.length; j++) {
      const a = intervals[i]!;
      const b = intervals[j]!;
      if (b.from >= a.to) break; // sorted by start: no later interval can overlap a
      if (a.peer !== b.peer) offending.push({ a, b, overlapMs: Math.min(a.to, b.to) - b.from });
    }
  }
  return {
    name: 'no overlapping leaders',
    ok: offending.length === 0,
    summary:
      offending.length === 0
        ? `${intervals.length} leader intervals, none overlapping`
        : `${offending.length} overlapping pair(s), worst ${Math.max(...offending.map((o) => o.overlapMs))} ms`,
    offending,
  };
}

/**
 * For each heal, how long until every live peer agreed on one verified leader
 * (null: never). A status round in which all live peers agree confirms the
 * agreement; when it happened comes from the peers' own logs: each peer's
 * latest certificate.accepted of the agreed epoch before that round (not
 * before the heal; one from before a round that saw the peer disagree, or
 * from a process since ended, is no evidence). A peer
 * whose log has no such event counts from the confirming round itself, so
 * without logs this is the poll-based (upper-bound) time. A peer whose process
 * the fault restarted is live from its `peer.started` event: the time it takes
 * to agree is counted from there, and the boot time is reported beside it.
 */
export function agreementAfterHeals(history: History): AgreementSample[] {
  const heals = history.faults
    .map((f) => f.heal)
    .filter((h): h is number => h !== null)
    .sort((a, b) => a - b);
  const byTime = new Map<number, typeof history.observations>();
  for (const o of history.observations) {
    const round = byTime.get(o.t) ?? [];
    round.push(o);
    byTime.set(o.t, round);
  }
  const rounds = [...byTime.entries()].sort((a, b) => a[0] - b[0]);
  const accepted = history.events.filter((e) => e.event === 'certificate.accepted');
  const started = history.events.filter((e) => e.event === 'peer.started');
  // A restarted peer's acceptances from before its process ended say nothing about the new process.
  const ended = history.faults
    .filter((f) => f.endsProcess)
    .map((f) => ({ peer: f.target, t: f.processEndedAt ?? f.start }));
  const newestProcess = (peer: string, before: number) =>
    Math.max(-Infinity, ...ended.filter((x) => x.peer === peer && x.t <= before).map((x) => x.t));
  return heals.map((heal) => {
    // Live observations of the rounds after the heal that did not confirm agreement.
    const earlier: typeof history.observations = [];
    for (const [t, round] of rounds) {
      // Only rounds read wholly after the heal: one begun before it may have seen a peer still down as not live.
      if (t < heal || round.some((o) => (o.from ?? o.t) < heal)) continue;
      const live = round.filter((o) => o.live);
      const first = live[0];
      const agreeing = (o: (typeof live)[number]) =>
        first !== undefined &&
        first.leader !== null &&
        o.verified &&
        o.leader === first.leader &&
        o.epoch === first.epoch;
      if (first && first.leader !== null && live.every(agreeing)) {
        const timings = live.map((o) => {
          // A peer the fault restarted takes part once its process is up (peer.started): its clock starts there.
          const booted =
            started.filter((e) => e.peer === o.peer && e.t >= heal && e.t <= t).at(-1)?.t ?? heal;
          const evidence = accepted
            .filter((e) => e.peer === o.peer && e.epoch === o.epoch && e.leader === o.leader && e.t <= t)
            .at(-1);
          // A round that saw the peer disagree read it at or after its start: a later acceptance is consistent
          // with it; an earlier one is not the adoption that lasted, so the confirming round's time stands.
          const disagreedFrom = Math.max(
            -Infinity,
            ...earlier
              .filter(
                (x) => x.peer === o.peer && !(x.verified && x.leader === o.leader && x.epoch === o.epoch),
              )
              .map((x) => x.from ?? x.t),
          );
          const adopted =
            !evidence || evidence.t < newestProcess(o.peer, t) || evidence.t < disagreedFrom
              ? t
              : Math.max(heal, evidence.t);
          return { booted, adopted };
        });
        return {
          heal,
          tookMs: Math.max(...timings.map((x) => x.adopted - x.booted)),
          observedMs: t - heal,
          bootMs: Math.max(...timings.map((x) => x.booted - heal)),
        };
      }
      earlier.push(...live);
    }
    return { heal, tookMs: null, observedMs: null, bootMs: null };
  });
}

export function agreementVerdict(history: History): Verdict {
  const limit = history.leaseMs + AGREEMENT_SLACK_MS;
  const samples = agreementAfterHeals(history);
  const offending = samples.filter((s) => s.tookMs === null || s.tookMs > limit);
  const took = samples.map((s) => s.tookMs).filter((t): t is number => t !== null);
  const boots = samples.map((s) => s.bootMs).filter((t): t is number => t !== null);
  return {
    name: `agreement within lease + ${AGREEMENT_SLACK_MS / 1000} s after each heal`,
    ok: offending.length === 0,
    summary:
      samples.length === 0
        ? 'no heals recorded'
        : `${samples.length - offending.length}/${samples.length} heals agreed within ${limit} ms` +
          (took.length ? `, slowest ${Math.max(...took)} ms` : '') +
          (boots.length && Math.max(...boots) > 0
            ? ` (restarted peers counted from their start; slowest start ${Math.max(...boots)} ms after its heal)`
            : ''),
    offending,
  };
}

/** How long after a fault its container may still be seen to exit (Docker's grace, slow engines). */
const EXIT_EXPLAINED_SLACK_MS = 15_000;
const EXIT_FAULTS = new Set(['kill', 'stop', 'restart', 'enclave-restart']);

/** Every container exit must be explained by a fault that ends that container's process. */
export function unexpectedExits(history: History): Verdict {
  const exits = history.exits ?? [];
  const offending = exits.filter(
    (exit) =>
      !history.faults.some(
        (f) =>
          EXIT_FAULTS.has(f.kind) &&
          (f.target === exit.name || f.target === exit.container) &&
          exit.t >= f.start - 1000 &&
          exit.t <= (f.heal ?? history.endedAt) + EXIT_EXPLAINED_SLACK_MS,
      ),
  );
  return {
    name: 'no unexpected process exits',
    ok: offending.length === 0,
    summary:
      offending.length === 0
        ? `${exits.length} exits, each caused by an injected fault`
        : `${offending.length} exit(s) no fault explains: ${offending.map((e) => `${e.name} (code ${e.exitCode ?? '?'})`).join(', ')}`,
    offending,
  };
}

/** Reasons a peer gives for refusing a certificate or attestation that the real enclave should never cause. */
const FORGERY_REASONS: ReadonlySet<string> = new Set<ErrorCode>(['E_CERT_INVALID', 'E_ATTESTATION_INVALID']);

/** How long after a corrupt fault's heal a corrupted datagram may still be in flight (delay, retransmits). */
const CORRUPT_SLACK_MS = 1000;

/**
 * A `corrupt` fault flips bits in the target's outgoing datagrams; a certificate
 * it carried then fails its signature check at the receiver, which is the right
 * outcome. A rejection by another peer within the fault's window is explained.
 */
function explainedByCorruption(history: History, event: HistoryEvent): boolean {
  return history.faults.some(
    (f) =>
      f.kind === 'corrupt' &&
      f.target !== event.peer &&
      event.t >= f.start &&
      event.t <= (f.heal ?? history.endedAt) + CORRUPT_SLACK_MS,
  );
}

/** The only enclave in a run is the real one: a certificate refused as invalid means a signing or checking bug. */
export function rejectedCertificates(history: History): Verdict {
  const rejected = history.events.filter((e) => e.event === 'certificate.rejected');
  const invalid = rejected.filter((e) => e.reason !== undefined && FORGERY_REASONS.has(e.reason));
  const offending = invalid.filter((e) => !explainedByCorruption(history, e));
  const explained = invalid.length - offending.length;
  const corrupted =
    explained > 0
      ? `; ${explained} invalid while a corrupt fault garbled the sender's datagrams, as they should be`
      : '';
  return {
    name: 'no certificate rejected as invalid',
    ok: offending.length === 0,
    summary:
      offending.length === 0
        ? `${rejected.length} rejection(s), none otherwise for a bad signature or attestation${corrupted}`
        : `${offending.length} certificate(s) from the real enclave rejected as invalid${corrupted}`,
    offending,
  };
}

/**
 * Every accepted certificate names a member with its admitted key: a key the
 * member announced itself (admission.granted when admission is on, else
 * peer.started, which every peer logs with its identity key), or one the
 * enclave logged admitting (enclave.admitted: its log survives a peer that the
 * run recreated, taking its old log with it). An outsider,
 * or a certificate pairing a member's name with another key, is offending.
 * Histories recorded before certificates were logged with their key (no
 * leaderKey) cannot be checked; the summary counts them.
 */
export function foreignLeaders(history: History): Verdict {
  const admitted = new Set<string>();
  const granted = history.events.filter((e) => e.event === 'admission.granted' && e.key !== undefined);
  const source = granted.length > 0 ? granted : history.events.filter((e) => e.event === 'peer.started');
  for (const e of source) if (e.key !== undefined) admitted.add(`${e.peer} ${e.key}`);
  // The enclave's own record of what it admitted: it outlives a peer recreated during the run (clock arming).
  for (const e of history.events) {
    if (e.event === 'enclave.admitted' && e.member !== undefined && e.key !== undefined)
      admitted.add(`${e.member} ${e.key}`);
  }
  const all = history.events.filter((e) => e.event === 'certificate.accepted' && e.leader !== undefined);
  const accepted = all.filter((e) => e.leaderKey !== undefined);
  const unchecked = all.length - accepted.length;
  const offending = accepted.filter((e) => !admitted.has(`${e.leader} ${e.leaderKey}`));
  return {
    name: 'leaders are admitted members with their keys',
    ok: offending.length === 0,
    summary:
      offending.length === 0
        ? `${accepted.length} accepted certificate(s), each naming a member with its own key${unchecked > 0 ? ` (${unchecked} logged without a key, not checkable)` : ''}`
        : `${offending.length} accepted certificate(s) naming ${[...new Set(offending.map((e) => e.leader))].join(', ')} without that member's admitted key`,
    offending,
  };
}

/**
 * How far apart two log times on the shared host clock may be for the same
 * instant: the ledger, the peers and the runner read one kernel clock (compose
 * and `cluster up` run on one host), so only millisecond rounding and the gap
 * between a decision and its log call separate them. Far below the leader
 * margin (200 ms), so it cannot hide a real stale append.
 */
export const LEDGER_CLOCK_TOLERANCE_MS = 50;

interface StaleAppend {
  why: string;
  append: HistoryEvent;
}

/**
 * Every append the ledger accepted must be fresh: its token's (epoch, seq) not
 * older than one the ledger had accepted before it; its leader acting as
 * leader of that epoch (leader.acquired at or before the accept); not deposed
 * (no leader of a later epoch acting before the accept); and its token's lease
 * not ended. Between the end of the leader's own window and its lease end,
 * before a successor acts, an accept is fresh: the enclave grants nobody else
 * before the lease ends (that is the leader margin); those are counted. Leader
 * intervals are judged only for appends during the run (the peers' logs reach
 * back to their current process only); the order, over the whole ledger log.
 */
export function staleAppends(history: History): Verdict {
  const name = 'no stale append accepted';
  const appends = ledgerAppends(history);
  if (appends === null) return { name, ok: true, summary: 'no ledger in this run', offending: [] };
  const tol = LEDGER_CLOCK_TOLERANCE_MS;
  const intervals = leaderIntervals(history);
  const offending: StaleAppend[] = [];
  let lateWithinLease = 0;
  let newest = { epoch: 0, seq: 0 };
  for (const a of appends.accepted) {
    const epoch = a.epoch ?? 0;
    const seq = a.seq ?? 0;
    if (epoch < newest.epoch || (epoch === newest.epoch && seq < newest.seq)) {
      offending.push({
        why: `(epoch ${epoch}, seq ${seq}) is older than (epoch ${newest.epoch}, seq ${newest.seq}), accepted before it`,
        append: a,
      });
    } else newest = { epoch, seq };
    if (a.leaseEnd !== undefined && a.t > a.leaseEnd + tol) {
      offending.push({
        why: `accepted after its token's lease ended ${a.t - a.leaseEnd} ms before`,
        append: a,
      });
    }
    if (a.t < history.startedAt) continue;
    const own = intervals.filter((i) => i.peer === a.leader && i.epoch === epoch && i.from <= a.t + tol);
    if (own.length === 0) {
      offending.push({
        why: `${a.leader} was not acting as leader of epoch ${epoch} when the ledger accepted it`,
        append: a,
      });
      continue;
    }
    const successor = intervals.find((i) => i.epoch > epoch && i.from < a.t - tol);
    if (successor) {
      offending.push({
        why: `${successor.peer} had acted as leader (epoch ${successor.epoch}) since ${a.t - successor.from} ms before the accept`,
        append: a,
      });
      continue;
    }
    if (!own.some((i) => a.t <= i.to + tol)) lateWithinLease += 1;
  }
  const counts = appendCounts(appends);
  const late = lateWithinLease > 0 ? `; ${lateWithinLease} after its leader's window, within its lease` : '';
  return {
    name,
    ok: offending.length === 0,
    summary:
      `${counts.accepted} of ${counts.attempted} appends accepted, ${counts.rejected} rejected (${counts.staleRejected} stale or expired)` +
      (offending.length === 0
        ? `, none stale${late}`
        : `: ${offending.length} stale append(s) accepted${late}`),
    offending,
  };
}

export function checkHistory(history: History): Verdict[] {
  const verdicts = [
    equivocations(history),
    overlappingLeaders(history),
    agreementVerdict(history),
    unexpectedExits(history),
    rejectedCertificates(history),
    foreignLeaders(history),
  ];
  // Runs without the demo ledger keep their verdicts as they were.
  if (ledgerAppends(history) !== null) verdicts.push(staleAppends(history));
  return verdicts;
}
