// One suspicion of one member (Lifeguard): started by the first suspector,
// shortened by each independent confirmation, expired by the core's tick.
import { remainingSuspicionTime, type SuspicionTiming } from './timing.ts';

export class Suspicion {
  readonly startedAt: number;
  /** Who suspected first (for hearsay, the member whose table listed it). */
  readonly suspector: string;
  /**
   * Held from a pull answer and not spread (hearsay): the suspector's own
   * rumour, when it comes, is passed on once though it confirms nothing.
   */
  unspread = false;
  /**
   * Whether this peer was ever starved with the others while it held this
   * suspicion (MemberTable.deadlineOf): its confirmations then never shorten
   * it, also once this peer has recovered.
   */
  discounted = false;
  private readonly timing: SuspicionTiming;
  private readonly confirmedBy = new Set<string>();
  private cachedDeadline: number;

  constructor(from: string, startedAt: number, timing: SuspicionTiming) {
    this.startedAt = startedAt;
    this.suspector = from;
    this.timing = timing;
    // The first suspector is not a confirmation of itself.
    this.confirmedBy.add(from);
    this.cachedDeadline = this.computeDeadline();
  }

  get confirmations(): number {
    return this.confirmedBy.size - 1;
  }

  /** Record that `from` also suspects; true when this is news (worth re-gossiping). */
  confirm(from: string): boolean {
    if (this.confirmations >= this.timing.expectedConfirmations) return false;
    if (this.confirmedBy.has(from)) return false;
    this.confirmedBy.add(from);
    this.cachedDeadline = this.computeDeadline();
    return true;
  }

  deadline(): number {
    return this.cachedDeadline;
  }

  /** The deadline as if no one had confirmed it: the timeout's maximum. */
  unconfirmedDeadline(): number {
    return (
      this.startedAt +
      remainingSuspicionTime(0, this.timing.expectedConfirmations, 0, this.timing.minMs, this.timing.maxMs)
    );
  }

  private computeDeadline(): number {
    const { expectedConfirmations, minMs, maxMs } = this.timing;
    return (
      this.startedAt + remainingSuspicionTime(this.confirmations, expectedConfirmations, 0, minMs, maxMs)
    );
  }
}
