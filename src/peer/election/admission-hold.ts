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
// its lease ends, adopts any newer admitted certificate), and a certificate
// whose leader is never admitted is simply never adopted.
import type { LeaderCertificate } from '../../crypto/leader-certificate.ts';

/** Epochs held at once: a peer behind by more than this catches up from the newest anyway. */
export const MAX_HELD_EPOCHS = 4;

type Admitted = (name: string, key: string) => boolean;

export class AdmissionHold {
  readonly #byEpoch = new Map<number, LeaderCertificate>();

  get size(): number {
    return this.#byEpoch.size;
  }

  /** Keep `cert` until its leader is admitted: it replaces an older sequence of its epoch. */
  hold(cert: LeaderCertificate): void {
    const { epoch, seq } = cert.claims;
    const held = this.#byEpoch.get(epoch);
    if (held !== undefined && held.claims.seq >= seq) return;
    this.#byEpoch.set(epoch, cert);
    while (this.#byEpoch.size > MAX_HELD_EPOCHS) this.#byEpoch.delete(Math.min(...this.#byEpoch.keys()));
  }

  /** The held certificate of `epoch`: the base a gossiped renewal of that epoch is a delta against. */
  base(epoch: number): LeaderCertificate | undefined {
    return this.#byEpoch.get(epoch);
  }

  /**
   * The held certificates the book now admits, oldest epoch first, removed
   * from the hold; held ones no newer than `current` are dropped unasked.
   */
  release(admitted: Admitted, current: LeaderCertificate | null): LeaderCertificate[] {
    const ready: LeaderCertificate[] = [];
    for (const epoch of [...this.#byEpoch.keys()].sort((a, b) => a - b)) {
      const cert = this.#byEpoch.get(epoch)!;
      if (current !== null && !isNewer(cert, current)) {
        this.#byEpoch.delete(epoch);
      } else if (admitted(cert.claims.leader.name, cert.claims.leader.key)) {
        this.#byEpoch.delete(epoch);
        ready.push(cert);
      }
    }
    return ready;
  }
}

function isNewer(a: LeaderCertificate, b: LeaderCertificate): boolean {
  return a.claims.epoch !== b.claims.epoch ? a.claims.epoch > b.claims.epoch : a.claims.seq > b.claims.seq;
}
