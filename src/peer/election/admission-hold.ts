// Certificates the enclave signed but this peer's admission book does not yet
// back (issue 14: adopt only a leader admitted with the key it names). The
// certificate often arrives before the leader's admission does, or while the
// book still holds a restarted leader's old key; refusing it for good left
// peers on an old epoch (cluster chaos, seed chaos-it-1). So a refused
// certificate waits here and is offered again as soon as the book admits its
// leader with that key.
//
// Bounded: the latest certificate (by seq) of each epoch, for at most
// MAX_HELD_EPOCHS epochs (the oldest goes first), and nothing at or below the
// certificate the peer already holds. Holding never blocks the election: the
// core goes on as if the certificate had not arrived (asks the enclave when
// its lease ends, adopts any newer admitted certificate).
//
// Two refusals differ. A book whose admission of the leader's name names
// another key and was issued after the certificate contradicts it: held until
// that name's admission changes, never adopted otherwise. A book that holds no
// admission for the name, or only one older than the certificate (a restarted
// leader re-admitted with a new key since), cannot judge: a restarted peer's
// book fills only as members answer it (over 90 s in cluster chaos, seed
// chaos-it-1), and a restarted leader's new admission reached one peer 6 s
// after its election. After UNKNOWN_NAME_GRACE_MS the peer takes the attested
// enclave's word, as a peer without admission does, and counts it.
import type { LeaderCertificate } from '../../crypto/leader-certificate.ts';

/** Epochs held at once: a peer behind by more than this catches up from the newest anyway. */
export const MAX_HELD_EPOCHS = 4;
/**
 * How long a certificate naming a member the book knows nothing of is held:
 * half a default lease, so a restarted peer still agrees within lease + 2 s
 * (DESIGN.md §5, invariant 3) while an admission already on its way lands first.
 */
export const UNKNOWN_NAME_GRACE_MS = 1000;

/**
 * What the book says of a leader: admitted with this key; admitted with
 * another key by an admission newer than the certificate; or nothing that can
 * judge it (no admission, or an older one).
 */
export type AdmissionVerdict = 'admitted' | 'other-key' | 'unknown';

/** The book's verdict on the leader `name` with `key` named by a certificate issued at `issuedAt`. */
export type AdmissionCheck = (name: string, key: string, issuedAt: number) => AdmissionVerdict;

export interface Released {
  certificate: LeaderCertificate;
  /** True when adopted on the enclave's word after the grace (the book knew nothing of the leader). */
  unchecked: boolean;
}

interface Held {
  certificate: LeaderCertificate;
  /** Monotonic time it was first held (kept when a newer sequence replaces it). */
  since: number;
}

export class AdmissionHold {
  readonly #byEpoch = new Map<number, Held>();

  get size(): number {
    return this.#byEpoch.size;
  }

  /** Keep `cert` until its leader is admitted: it replaces an older sequence of its epoch. */
  hold(cert: LeaderCertificate, now: number): void {
    const { epoch, seq } = cert.claims;
    const held = this.#byEpoch.get(epoch);
    if (held !== undefined && held.certificate.claims.seq >= seq) return;
    this.#byEpoch.set(epoch, { certificate: cert, since: held?.since ?? now });
    while (this.#byEpoch.size > MAX_HELD_EPOCHS) this.#byEpoch.delete(Math.min(...this.#byEpoch.keys()));
  }

  /** The held certificate of `epoch`: the base a gossiped renewal of that epoch is a delta against. */
  base(epoch: number): LeaderCertificate | undefined {
    return this.#byEpoch.get(epoch)?.certificate;
  }

  /**
   * The held certificates the book now admits (or, past the grace, knows
   * nothing against), oldest epoch first, removed from the hold; held ones no
   * newer than `current` are dropped unasked.
   */
  release(verdict: AdmissionCheck, current: LeaderCertificate | null, now: number): Released[] {
    const ready: Released[] = [];
    for (const epoch of [...this.#byEpoch.keys()].sort((a, b) => a - b)) {
      const { certificate: cert, since } = this.#byEpoch.get(epoch)!;
      const said = verdict(cert.claims.leader.name, cert.claims.leader.key, cert.claims.iat);
      const graceOver = said === 'unknown' && now - since >= UNKNOWN_NAME_GRACE_MS;
      if (current !== null && !isNewer(cert, current)) {
        this.#byEpoch.delete(epoch);
      } else if (said === 'admitted' || graceOver) {
        this.#byEpoch.delete(epoch);
        ready.push({ certificate: cert, unchecked: said !== 'admitted' });
      }
    }
    return ready;
  }
}

function isNewer(a: LeaderCertificate, b: LeaderCertificate): boolean {
  return a.claims.epoch !== b.claims.epoch ? a.claims.epoch > b.claims.epoch : a.claims.seq > b.claims.seq;
}
