// The demo fenced resource: an append-only ledger that accepts an append only
// with a valid fencing token not older than the newest it has accepted. The
// check and the update happen in one synchronous step, so two appends can
// never both pass against the same "newest". Pure of I/O; the HTTP shell is
// ledger-server.ts.
import type { TokenOrder } from '../token/fencing-token.ts';
import { TokenRefusedError } from '../token/token-error.ts';
import type { TokenVerifier } from '../token/verify-token.ts';

export interface LedgerEntry {
  /** Position in the ledger, from 1. */
  index: number;
  entry: string;
  leader: string;
  epoch: number;
  seq: number;
  /** The token's lease end and the time the ledger accepted it (wall ms). */
  leaseEnd: number;
  acceptedAt: number;
}

export type AppendResult =
  | { accepted: true; entry: LedgerEntry }
  | { accepted: false; code: string; reason: string; epoch: number | null; seq: number | null };

/** At most this many entries are kept in memory (the log has them all). */
export const MAX_ENTRIES = 100_000;
export const MAX_ENTRY_BYTES = 1024;

export class Ledger {
  readonly #verifier: TokenVerifier;
  readonly #now: () => number;
  readonly entries: LedgerEntry[] = [];
  #newest: TokenOrder = { epoch: 0, seq: 0 };
  #appended = 0;
  readonly rejected = new Map<string, number>();

  constructor(verifier: TokenVerifier, now: () => number = Date.now) {
    this.#verifier = verifier;
    this.#now = now;
  }

  get newest(): TokenOrder {
    return { ...this.#newest };
  }

  get accepted(): number {
    return this.#appended;
  }

  append(token: unknown, entry: unknown): AppendResult {
    if (typeof entry !== 'string' || Buffer.byteLength(entry) > MAX_ENTRY_BYTES) {
      return this.#refuse(
        'E_ENTRY_INVALID',
        `entry must be a string of at most ${MAX_ENTRY_BYTES} bytes`,
        null,
      );
    }
    let verified: ReturnType<TokenVerifier['verify']>;
    try {
      verified = this.#verifier.verify(typeof token === 'string' ? token : '', { minimum: this.#newest });
    } catch (error) {
      if (!(error instanceof TokenRefusedError)) throw error;
      return this.#refuse(error.code, error.message, claimedOrder(token));
    }
    this.#newest = { epoch: verified.epoch, seq: verified.seq };
    const accepted: LedgerEntry = {
      index: ++this.#appended,
      entry,
      leader: verified.leader.name,
      epoch: verified.epoch,
      seq: verified.seq,
      leaseEnd: verified.leaseEnd,
      acceptedAt: this.#now(),
    };
    this.entries.push(accepted);
    if (this.entries.length > MAX_ENTRIES) this.entries.shift();
    return { accepted: true, entry: accepted };
  }

  #refuse(code: string, reason: string, order: TokenOrder | null): AppendResult {
    this.rejected.set(code, (this.rejected.get(code) ?? 0) + 1);
    return { accepted: false, code, reason, epoch: order?.epoch ?? null, seq: order?.seq ?? null };
  }
}

/** The (epoch, seq) a refused token claims, unverified: for the log only. */
function claimedOrder(token: unknown): TokenOrder | null {
  if (typeof token !== 'string') return null;
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return Number.isSafeInteger(payload.epoch) && Number.isSafeInteger(payload.seq)
      ? { epoch: payload.epoch, seq: payload.seq }
      : null;
  } catch {
    return null;
  }
}
