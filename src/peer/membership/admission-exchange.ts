// How admission certificates travel (docs/security.md §3): beside the record
// when its sender holds one (MemberTable.applyAlive offers it here). A record
// that came without the admission this peer lacks (or holds for another key,
// as after a restart) waits here while the peer asks whoever sent it; the admission that arrives
// releases it. Requests are small, throttled per name, and go only to the
// address a record came from; answers (several admissions to a datagram) go
// only to a live member listed at the address its request came from (to
// anyone else, only our own admission, within the shell's amplification
// limit), so no unproven address ever gets more bytes than it sent. A record
// still waiting asks again, 0.5 s after the first ask, then 1 s, then every 2 s while it is
// kept: a lost request or answer must not leave the member unlisted until the
// next pull brings its record again (39 s at N = 1,000), and in a cold start
// of N members (N^2 admissions to fetch, about 2% of them lost at 1% loss each
// way) the few asked three or four times set when the last member is listed.
// Members whose admission is in the last third of its life are asked for their renewed one.
import { bytesEqual } from '../../platform/byte-slabs.ts';
import { detachRecord, encodeMessage } from '../../protocol/gossip-codec.ts';
import {
  type AdmissionRequestMessage,
  type MemberRecord,
  WIRE_LIMITS,
} from '../../protocol/gossip-messages.ts';
import type { MemberAuthority } from '../admission/member-authority.ts';
import { isLive, type MemberTable } from './member-table.ts';
import type { Outbox } from './outbox.ts';

/** Records waiting for their admission, at most (the newest incarnation per name). */
const PENDING_MAX = 1024;
/** Encoded admission messages kept for answering (a member table's worth at the default bound). */
const MESSAGES_KEPT = 4096;
/** How long a waiting record is kept. */
const PENDING_MS = 10_000;
/** The wait before asking for one name again: doubling from the first, up to the last. */
const FIRST_ASK_AGAIN_MS = 500;
const ASK_AGAIN_MS = 2_000;
/** How often waiting records are swept for a due retry. */
const RETRY_SWEEP_MS = 250;
/**
 * How long names to ask for are collected before the requests go out. A pull
 * answer is a burst of datagrams from one member, and asking after each one
 * made requests of about 4 names, each answered by a datagram of about 5
 * admissions: in a cold start, two thirds of all datagrams.
 */
export const ASK_BATCH_MS = 5;

/** Wait after the `attempts`-th ask before the next (0.5, 1, 2, 2, ... s). */
export function askAgainAfterMs(attempts: number): number {
  return Math.min(ASK_AGAIN_MS, FIRST_ASK_AGAIN_MS * 2 ** Math.max(0, attempts - 1));
}
/**
 * Names asked for and not answered yet, at most: a window, as in TCP. A
 * cold start of N members is N^2 admissions; when they were RS256 tokens of
 * about 800 bytes, one per datagram, and asked for all at once, a seed's
 * answer to one joiner was hundreds of datagrams, and 1,000 peers on loopback
 * had 20% of all datagrams dropped by the kernel (receive buffers full, UDP
 * memory under pressure), probes among them. Each answer that arrives lets
 * the next names be asked, so a peer fetches at up to WINDOW per round trip,
 * and never more than WINDOW admissions are queued for it anywhere. 512 names
 * are about 64 datagrams of answers (8 to a datagram), what the window of 64
 * names was in datagrams before admissions became compact; 64 names capped a
 * peer at 64 admissions per round trip, which on a starved loop (round trips
 * of seconds) held 1,000 peers on loopback to learning about 16 members a
 * second each.
 */
export const ADMISSION_WINDOW = 512;
/** An unanswered name stops holding a place in the window after this (its retry is due then). */
const IN_FLIGHT_MS = FIRST_ASK_AGAIN_MS;
/**
 * How often the table is swept for admissions about to lapse: when the first
 * is due, but at least 5 s and at most 60 s apart (a member listed after a
 * sweep may hold an older admission than any seen in it). Sweeping every 5 s
 * regardless walked a 1,000-member table 200,000 times a second across a
 * cold start of 1,000 peers, for admissions an hour from lapsing.
 */
const REFRESH_MIN_MS = 5_000;
const REFRESH_MAX_MS = 60_000;

interface Pending {
  record: MemberRecord;
  at: number;
  /** Where the record came from: it holds the admission, so it is asked again. */
  from: string;
}

/** Every field equal (the name is the key it is held under). */
function sameRecord(a: MemberRecord, b: MemberRecord): boolean {
  return (
    a.incarnation === b.incarnation &&
    a.address === b.address &&
    a.signature !== undefined &&
    b.signature !== undefined &&
    bytesEqual(a.signature, b.signature) &&
    bytesEqual(a.publicKey, b.publicKey)
  );
}

export class AdmissionExchange {
  readonly #authority: MemberAuthority;
  readonly #table: MemberTable;
  readonly #outbox: Outbox;
  readonly #pending = new Map<string, Pending>();
  /** When each name was last asked for, and how many asks in a row that was. */
  readonly #askedAt = new Map<string, { at: number; attempts: number }>();
  /** Names to ask for, by the address to ask, collected during one input. */
  readonly #asks = new Map<string, Set<string>>();
  /** Names asked and not answered, with when (oldest first): the window. */
  readonly #inFlight = new Map<string, number>();
  /** Names to ask for once the window has room, with whom to ask (oldest first). */
  readonly #queued = new Map<string, string>();
  /** Admissions to send, by the address whose requests asked for them, during one input. */
  readonly #answers = new Map<string, Set<Uint8Array>>();
  /** Encoded admission messages by token (see #encoded). */
  readonly #messages = new Map<string, Uint8Array>();
  #nextRefreshAt = 0;
  #nextRetryAt = 0;
  /** When the names collected so far are asked for (see ASK_BATCH_MS). */
  #flushAt = Number.POSITIVE_INFINITY;
  /** The earliest time a waiting record's name may be asked for again (see tick). */
  #retryDue = Number.POSITIVE_INFINITY;
  /**
   * Lifeguard's multiplier (awareness score + 1): the wait before asking again
   * and a name's time in the window stretch with it. On a starved peer answers
   * take seconds to be read; asking again after 0.5 s regardless doubled the
   * admissions in flight towards the peers least able to take them.
   */
  readonly #slowdown: () => number;

  constructor(
    authority: MemberAuthority,
    table: MemberTable,
    outbox: Outbox,
    slowdown: () => number = () => 1,
  ) {
    this.#authority = authority;
    this.#table = table;
    this.#outbox = outbox;
    this.#slowdown = slowdown;
  }

  /** A record refused for want of its admission: keep it, ask `from` for the admission. */
  wait(record: MemberRecord, from: string, now: number): void {
    const held = this.#pending.get(record.name);
    if (held && sameRecord(held.record, record)) {
      // The same record again (another pull answer, another rumour): no copy,
      // only the newer source and time. On a starved peer whose admissions
      // come late, each record arrived several times while it waited.
      held.at = now;
      held.from = from;
    } else if (!held || held.record.incarnation <= record.incarnation) {
      if (!held && this.#pending.size >= PENDING_MAX)
        this.#pending.delete(this.#pending.keys().next().value!);
      this.#pending.set(record.name, {
        record: detachRecord(record),
        at: now,
        from,
      });
    }
    this.#ask(from, record.name, now);
  }

  /**
   * An admission arrived: keep it if it checks out, and apply the record that
   * waited for it. True if it was taken (held already counts).
   */
  offer(token: string, now: number): boolean {
    const result = this.#authority.offer(token);
    if (!result.ok) {
      this.#outbox.emit({ event: 'admission.refused', reason: result.reason });
      return false;
    }
    // A request names up to admissionNamesMax: refill the window that many at a time.
    if (
      this.#inFlight.delete(result.claims.name) &&
      ADMISSION_WINDOW - this.#inFlight.size >= WIRE_LIMITS.admissionNamesMax
    )
      this.#askQueued(now);
    const waiting = this.#pending.get(result.claims.name);
    if (!waiting) return true;
    this.#pending.delete(result.claims.name);
    if (now - waiting.at <= PENDING_MS) this.#table.applyAlive(waiting.record, now);
    return true;
  }

  /**
   * Answer a live member listed at the address the request came from. Anyone
   * else gets our own admission only, and only as far as the shell's
   * amplification limit allows (no more bytes than it sent us): two peers
   * that each lack the other's admission (a joiner whose introduction was
   * lost, and its seed) would otherwise each wait for the other to be listed
   * first, forever.
   */
  answer(from: string, request: AdmissionRequestMessage): void {
    const asker = this.#table.get(request.source);
    const listed = asker !== undefined && isLive(asker) && asker.record.address === from;
    const self = this.#table.selfName;
    if (!listed && !request.names.includes(self)) {
      this.#outbox.emit({ event: 'admission.request_ignored', from });
      return;
    }
    const answers = this.#answers.get(from) ?? new Set<Uint8Array>();
    for (const name of listed ? request.names : [self]) {
      const token = name === self ? this.#authority.own() : this.#authority.token(name);
      if (token) answers.add(this.#encoded(token));
    }
    this.#answers.set(from, answers);
  }

  /**
   * Send the admissions this input's requests asked for: one packed answer per
   * address, whatever the number of requests in its datagram (each admission
   * once: the encoded bytes are shared per token).
   */
  sendAnswers(): void {
    for (const [to, answers] of this.#answers)
      if (answers.size > 0) this.#outbox.sendPacked(to, [...answers]);
    this.#answers.clear();
  }

  /**
   * An admission message, encoded once per token: a member's admission is
   * handed to every member that asks (in a cold start of 1,000, each peer
   * answers about 1,000 requests), and the bytes never change.
   */
  #encoded(token: string): Uint8Array {
    let message = this.#messages.get(token);
    if (!message) {
      message = encodeMessage({ type: 'admission', token });
      if (this.#messages.size >= MESSAGES_KEPT) this.#messages.delete(this.#messages.keys().next().value!);
      this.#messages.set(token, message);
    }
    return message;
  }

  /** Names unanswered for IN_FLIGHT_MS leave the window (their retries ask again). */
  #expireInFlight(now: number): void {
    const inFlightMs = IN_FLIGHT_MS * this.#slowdown();
    for (const [asked, at] of this.#inFlight) {
      if (now - at < inFlightMs) return;
      this.#inFlight.delete(asked);
    }
  }

  /** Ask for queued names while the window has room (a waiting record's latest source first). */
  #askQueued(now: number): void {
    this.#expireInFlight(now);
    for (const [name, to] of this.#queued) {
      if (this.#inFlight.size >= ADMISSION_WINDOW) return;
      this.#queued.delete(name);
      this.#ask(this.#pending.get(name)?.from ?? to, name, now);
    }
  }

  /** Our own admission, to go first to a seed we join through (so it lists us at once). */
  introduce(to: string): void {
    const token = this.#authority.own();
    // A seed is an address this peer chose (configuration or DNS), like the join itself.
    if (token) this.#outbox.sendAlone(to, this.#encoded(token), true);
  }

  /** After an input: ask for what it collected within ASK_BATCH_MS, with what the next inputs collect. */
  flushSoon(now: number): void {
    if (this.#asks.size > 0 && this.#flushAt === Number.POSITIVE_INFINITY) this.#flushAt = now + ASK_BATCH_MS;
  }

  /**
   * Send the names collected: per address, requests of up to admissionNamesMax
   * names each, packed into as few datagrams as hold them.
   */
  flush(): void {
    for (const [to, names] of this.#asks) {
      const list = [...names];
      const requests: Uint8Array[] = [];
      for (let i = 0; i < list.length; i += WIRE_LIMITS.admissionNamesMax) {
        const message = {
          type: 'admission-request' as const,
          source: this.#table.selfName,
          names: list.slice(i, i + WIRE_LIMITS.admissionNamesMax),
        };
        requests.push(encodeMessage(message));
      }
      this.#outbox.sendPacked(to, requests);
    }
    this.#asks.clear();
    this.#flushAt = Number.POSITIVE_INFINITY;
  }

  /**
   * When `tick` next has work: the next retry sweep while records wait, else
   * the next refresh. Retries used to ride on whatever else woke the core,
   * and came late or not at all when nothing did.
   */
  get wakeAt(): number {
    const next = Math.min(this.#nextRefreshAt, this.#flushAt);
    return this.#pending.size > 0 ? Math.min(this.#nextRetryAt, next) : next;
  }

  /**
   * Ask again for the admissions records still wait for; forget stale waiting
   * records; ask members whose admission is about to lapse for their new one.
   */
  tick(now: number): void {
    if (now >= this.#flushAt) this.flush();
    if (now >= this.#nextRetryAt) {
      // A retry goes out within a sweep of being due.
      this.#nextRetryAt = now + RETRY_SWEEP_MS * this.#slowdown();
      this.#askQueued(now);
      // The waiting records are walked only when one of them is due again (a
      // walk every sweep was hundreds of names, four times a second, per peer
      // in a cold start of 1,000); each ask lowers the due time for its name.
      if (now >= this.#retryDue) {
        this.#retryDue = Number.POSITIVE_INFINITY;
        for (const [name, waiting] of this.#pending)
          if (now - waiting.at <= PENDING_MS) this.#ask(waiting.from, name, now);
      }
      this.flush();
    }
    if (now < this.#nextRefreshAt) return;
    for (const [name, waiting] of this.#pending)
      if (now - waiting.at > PENDING_MS) this.#pending.delete(name);
    // A name not asked for in a while starts again from the first, short wait.
    for (const [name, asked] of this.#askedAt)
      if (now - asked.at > 2 * ASK_AGAIN_MS * this.#slowdown()) this.#askedAt.delete(name);
    let nextDue = REFRESH_MAX_MS;
    for (const m of this.#table.all()) {
      if (m.record.name === this.#table.selfName || !isLive(m)) continue;
      const due = this.#authority.staleIn(m.record.name);
      if (due === undefined) continue;
      if (due <= 0) this.#ask(m.record.address, m.record.name, now);
      else nextDue = Math.min(nextDue, due);
    }
    this.#nextRefreshAt = now + Math.max(REFRESH_MIN_MS, nextDue);
    this.flush();
  }

  #ask(to: string, name: string, now: number): void {
    const last = this.#askedAt.get(name);
    if (last !== undefined) {
      const dueAt = last.at + askAgainAfterMs(last.attempts) * this.#slowdown();
      if (now < dueAt) {
        this.#retryDue = Math.min(this.#retryDue, dueAt);
        return;
      }
    }
    this.#expireInFlight(now);
    if (this.#inFlight.size >= ADMISSION_WINDOW && !this.#inFlight.has(name)) {
      this.#queued.delete(name);
      if (this.#queued.size >= PENDING_MAX) this.#queued.delete(this.#queued.keys().next().value!);
      this.#queued.set(name, to);
      return;
    }
    this.#queued.delete(name);
    this.#inFlight.delete(name);
    this.#inFlight.set(name, now);
    if (!last && this.#askedAt.size >= PENDING_MAX) this.#askedAt.delete(this.#askedAt.keys().next().value!);
    const attempts = (last?.attempts ?? 0) + 1;
    this.#askedAt.set(name, { at: now, attempts });
    this.#retryDue = Math.min(this.#retryDue, now + askAgainAfterMs(attempts) * this.#slowdown());
    const names = this.#asks.get(to) ?? new Set<string>();
    this.#asks.set(to, names.add(name));
  }
}
