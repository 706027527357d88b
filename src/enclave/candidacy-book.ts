// The enclave's own evidence of which members are alive and stand for the
// next election: each authenticated elect request is a candidacy by its
// signer (name + key), stamped with the enclave's time of receipt. The
// candidates of an election are the candidacies received within a window
// before it, so no caller chooses them: a member can only add itself, and
// cannot remove anyone else's request. Pure: time comes in as `now`.
import { type MemberIdentity, sortMembers } from '../crypto/member-digest.ts';

export interface Candidacy extends MemberIdentity {
  receivedAt: number;
}

export class CandidacyBook {
  readonly capacity: number;
  /** name -> newest candidacy; a newer key under the same name replaces the older (admission decided it). */
  readonly #byName = new Map<string, Candidacy>();

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.#byName.size;
  }

  record(member: MemberIdentity, now: number): void {
    this.#byName.delete(member.name);
    if (this.#byName.size >= this.capacity) {
      // Oldest first (insertion order = receipt order): it is the first to leave any window anyway.
      const oldest = this.#byName.keys().next().value as string;
      this.#byName.delete(oldest);
    }
    this.#byName.set(member.name, { name: member.name, key: member.key, receivedAt: now });
  }

  /** Drop `name`'s candidacy if it was received before `before` (a later one is new evidence). */
  forget(name: string, before: number): void {
    const held = this.#byName.get(name);
    if (held && held.receivedAt < before) this.#byName.delete(name);
  }

  /** Receipt time of the earliest candidacy at or after `since`. */
  earliest(since: number): number | undefined {
    let first: number | undefined;
    for (const c of this.#byName.values()) {
      if (c.receivedAt >= since && (first === undefined || c.receivedAt < first)) first = c.receivedAt;
    }
    return first;
  }

  /**
   * The candidates: candidacies received at or after `since`, for which
   * `eligible` holds (still admitted with that key), sorted by name.
   */
  candidates(since: number, eligible: (member: MemberIdentity) => boolean): MemberIdentity[] {
    const chosen: MemberIdentity[] = [];
    for (const c of this.#byName.values()) {
      if (c.receivedAt >= since && eligible(c)) chosen.push({ name: c.name, key: c.key });
    }
    return sortMembers(chosen);
  }
}
