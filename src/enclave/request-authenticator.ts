// Who may ask the enclave for a lease: the signer of an elect, renew or resign
// must hold the key its request names (signature), be admitted with that key
// (the admission registry), and send a fresh request (ReplayGuard). A refusal
// is a 401/403 RequestError with a stable code and changes nothing; only an
// accepted request's nonce is remembered, by `accept`.
//
// Without admission (an enclave started with no join secret: tests, local
// experiments) the registry check is skipped: anyone with a key may stand.
// docs/security.md says what that gives up.
import type { MemberIdentity } from '../crypto/member-digest.ts';
import type { AdmissionRegistry } from './admission-registry.ts';
import { type Freshness, type RequestOp, verifyRequest } from './lease-signature.ts';
import { ReplayGuard } from './replay-guard.ts';
import { RequestError } from './requests.ts';

/** Freshness defaults, each with its reason. */
export const REQUEST_FRESHNESS = {
  // Containers share one host kernel's clock; 30 s also covers a briefly paused peer's held request.
  skewMs: 30_000,
  // Steady state is a few requests a second; an election burst is O(N). 65,536 nonces (~4 MB)
  // hold 30 s of ~2,000 requests/s before the window's edge rises (refusing, never admitting, replays).
  capacity: 65_536,
} as const;

export class RequestAuthenticator {
  readonly #guard: ReplayGuard;
  readonly #registry: () => AdmissionRegistry | undefined;

  constructor(registry: () => AdmissionRegistry | undefined, guard?: ReplayGuard) {
    this.#registry = registry;
    this.#guard = guard ?? new ReplayGuard(REQUEST_FRESHNESS.skewMs, REQUEST_FRESHNESS.capacity);
  }

  /** True when admission is on and `member` holds a live admission with exactly this key. */
  isAdmitted(member: MemberIdentity, now: number): boolean {
    const registry = this.#registry();
    if (!registry) return true;
    const binding = registry.get(member.name);
    return binding !== undefined && binding.key === member.key && binding.exp > now;
  }

  /** Refuse (throw) unless `fields` is signed by `signer`'s key, admitted, and fresh. */
  check<F extends Freshness>(
    op: RequestOp,
    fields: F & { sig: string },
    signer: MemberIdentity,
    now: number,
  ): void {
    if (!verifyRequest(op, fields as never, fields.sig, signer.key)) {
      throw new RequestError(403, 'E_BAD_SIGNATURE', `${op} is not signed by ${signer.name}'s key`);
    }
    if (!this.isAdmitted(signer, now)) {
      throw new RequestError(
        403,
        'E_NOT_ADMITTED',
        `${signer.name} holds no live admission with this key; admit first (POST /v1/admit)`,
      );
    }
    const verdict = this.#guard.check(fields.ts, fields.nonce, now);
    if (verdict === 'stale') {
      throw new RequestError(
        403,
        'E_STALE_REQUEST',
        `ts is more than ${this.#guard.skewMs} ms from the enclave's clock (or older than requests it forgot)`,
      );
    }
    if (verdict === 'replayed')
      throw new RequestError(403, 'E_REPLAYED', `this ${op} request was used before`);
  }

  /** Remember an accepted request so that it cannot be used again. */
  accept(fields: Freshness, now: number): void {
    this.#guard.remember(fields.ts, fields.nonce, now);
  }
}
