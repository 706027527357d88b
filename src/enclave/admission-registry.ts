// The enclave's admission rules, pure (time comes in as `now`):
// - at most `identitiesPerAddress` live identities per TCP source address
//   (one, in a Docker network), so an admitted member cannot become many;
// - a name held by another key at another address stays theirs until that
//   admission expires, so no member can take another's name;
// - the same name from the same address with a new key supersedes (a container
//   restarted with a fresh key), and the same key may renew or move;
// - serials only grow, also across restarts (the floor is persisted).
// The assumptions behind "address" are in docs/security.md.

import type { AdmissionClaims } from '../crypto/admission-certificate.ts';

/** What the enclave holds per admitted name: the certificate's claims but cluster and version. */
export type AdmissionBinding = Omit<AdmissionClaims, 'v' | 'cluster_id'>;

export interface AdmissionRules {
  /** How long an admission stands; members re-admit well before. */
  ttlMs: number;
  /** Live identities one source address may hold: 1 unless many peers share a host (local mode). */
  identitiesPerAddress: number;
}

export type AdmissionDecision =
  | { kind: 'granted'; binding: AdmissionBinding; replaced: AdmissionBinding | undefined }
  | { kind: 'refused'; code: 'E_NAME_HELD' | 'E_ADDRESS_BOUND'; message: string; retryAt: number };

export interface AdmissionRegistrySnapshot {
  serial: number;
  bindings: AdmissionBinding[];
}

export class AdmissionRegistry {
  readonly rules: AdmissionRules;
  readonly #byName = new Map<string, AdmissionBinding>();
  #serial: number;

  constructor(rules: AdmissionRules, saved?: AdmissionRegistrySnapshot) {
    this.rules = rules;
    this.#serial = saved?.serial ?? 0;
    for (const binding of saved?.bindings ?? []) this.#byName.set(binding.name, binding);
  }

  get size(): number {
    return this.#byName.size;
  }

  get(name: string): AdmissionBinding | undefined {
    return this.#byName.get(name);
  }

  snapshot(): AdmissionRegistrySnapshot {
    return { serial: this.#serial, bindings: [...this.#byName.values()] };
  }

  /** Decide an admission; a grant is applied to the registry at once. */
  admit(request: { name: string; key: string; address: string }, now: number): AdmissionDecision {
    this.#expire(now);
    const { name, key, address } = request;
    const held = this.#byName.get(name);
    if (held && held.key !== key && held.address !== address) {
      return {
        kind: 'refused',
        code: 'E_NAME_HELD',
        message: `${name} is admitted with another key at another address until ${new Date(held.exp).toISOString()}`,
        retryAt: held.exp,
      };
    }
    const others = [...this.#byName.values()].filter((b) => b.address === address && b.name !== name);
    if (others.length >= this.rules.identitiesPerAddress) {
      const retryAt = Math.min(...others.map((b) => b.exp));
      return {
        kind: 'refused',
        code: 'E_ADDRESS_BOUND',
        message: `${address} already holds ${others.length} admitted identit${others.length === 1 ? 'y' : 'ies'} (${others
          .slice(0, 3)
          .map((b) => b.name)
          .join(
            ', ',
          )}); one address, ${this.rules.identitiesPerAddress} identit${this.rules.identitiesPerAddress === 1 ? 'y' : 'ies'}`,
        retryAt,
      };
    }
    // Wall-clock serials survive a restart with no counter; +1 keeps them strictly growing.
    this.#serial = Math.max(this.#serial + 1, now);
    const binding = { name, key, address, serial: this.#serial, iat: now, exp: now + this.rules.ttlMs };
    this.#byName.set(name, binding);
    return { kind: 'granted', binding, replaced: held };
  }

  #expire(now: number): void {
    for (const [name, binding] of this.#byName) if (binding.exp <= now) this.#byName.delete(name);
  }
}
