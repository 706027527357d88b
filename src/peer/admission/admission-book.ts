// What a peer knows about who is admitted: for each member name the newest
// admission certificate it has verified (highest serial), and whether a signed
// member record matches it. Pure and synchronous, so the membership core can
// ask it for every record; the attested enclave keys come from the enclave
// client (a kid not yet attested is reported, and the shell re-attests).
import type { KeyObject } from 'node:crypto';
import {
  type AdmissionClaims,
  admissionVerifiedBefore,
  supersedes,
  verifyAdmission,
} from '../../crypto/admission-certificate.ts';
import {
  RecordVerifier,
  type SignableRecord,
  type VerifiedRecord,
} from '../../crypto/member-record-signature.ts';
import { VerificationError } from '../../crypto/verification-error.ts';
import { createHash } from '../../platform/node-crypto.ts';

export interface AdmissionBookOptions {
  clusterId: string;
  /** The attested admission keys by kid (a live view: it grows when the shell re-attests). */
  keys: ReadonlyMap<string, KeyObject>;
  /** Wall clock (admissions expire by wall time). */
  now: () => number;
  /** Members kept at most (the membership table's bound); the oldest admission is dropped first. */
  maxMembers?: number;
}

export type OfferResult =
  | { ok: true; claims: AdmissionClaims; changed: boolean }
  | { ok: false; reason: 'unknown-kid' | 'invalid' | 'expired' | 'superseded' };

/** Why a record is refused, or 'ok'. Each refusal is counted under `record-<reason>`. */
export type RecordVerdict = 'ok' | 'unsigned' | 'no-admission' | 'wrong-key' | 'bad-signature';

/** A record check: 'ok' with the record as it verified (shared per process), or why it was refused. */
export type RecordCheck =
  | { verdict: 'ok'; record: VerifiedRecord }
  | { verdict: Exclude<RecordVerdict, 'ok'> };

interface Held {
  readonly claims: AdmissionClaims;
  readonly token: string;
  /** claims.key decoded once: every record check compares raw bytes with it. */
  readonly key: Buffer;
}

/**
 * What a book holds for a member, per claims object: verified claims are
 * shared by every book in the process (admissionVerifiedBefore, one claims
 * object per token), and a Held never changes, so the in-process benches hold
 * one per member, not one per (peer, member).
 */
const heldByClaims = new WeakMap<AdmissionClaims, Held>();

function heldOf(claims: AdmissionClaims, token: string): Held {
  let held = heldByClaims.get(claims);
  if (!held) {
    held = { claims, token, key: Buffer.from(claims.key, 'base64url') };
    heldByClaims.set(claims, held);
  }
  return held;
}

export class AdmissionBook {
  readonly #options: Required<AdmissionBookOptions>;
  readonly #byName = new Map<string, Held>();
  /** Tokens refused (by SHA-256), so each is checked once. */
  readonly #refused = new Set<string>();
  readonly records: RecordVerifier;

  constructor(options: AdmissionBookOptions) {
    this.#options = { maxMembers: 4096, ...options };
    this.records = new RecordVerifier(this.#options.maxMembers);
  }

  get size(): number {
    return this.#byName.size;
  }

  /** Verify an admission certificate and keep it if it is the newest for its name. */
  offer(token: string): OfferResult {
    const verified = this.#verified(token);
    if (!verified.ok) return verified;
    const { claims } = verified;
    // The process's copy of the text, when it has one: a member's admission is
    // kept by every peer in the in-process benches, each from its own datagram.
    token = verified.token ?? token;
    if (claims.exp <= this.#options.now()) return { ok: false, reason: 'expired' };
    const held = this.#byName.get(claims.name);
    if (held?.claims.serial === claims.serial) return { ok: true, claims, changed: false };
    if (held && !supersedes(claims, held.claims)) return { ok: false, reason: 'superseded' };
    this.#byName.delete(claims.name);
    if (this.#byName.size >= this.#options.maxMembers) this.#byName.delete(this.#byName.keys().next().value!);
    this.#byName.set(claims.name, heldOf(claims, token));
    return { ok: true, claims, changed: true };
  }

  /**
   * The signature and claims check, once per token: a token that verified is
   * remembered per process (admissionVerifiedBefore), one refused here (an
   * unknown kid is not remembered: attesting it later helps).
   */
  #verified(
    token: string,
  ):
    | { ok: true; claims: AdmissionClaims; token?: string }
    | { ok: false; reason: 'unknown-kid' | 'invalid' } {
    const expect = { clusterId: this.#options.clusterId, keys: this.#options.keys };
    const known = admissionVerifiedBefore(token, expect);
    if (known) return { ok: true, claims: known.claims, token: known.token };
    const hash = createHash('sha256').update(token).digest('base64url');
    if (this.#refused.has(hash)) return { ok: false, reason: 'invalid' };
    try {
      // Expiry is judged on every offer, not cached: verify as of time 0.
      return { ok: true, claims: verifyAdmission(token, { ...expect, now: 0 }).claims };
    } catch (error) {
      if (error instanceof VerificationError && error.code === 'E_CERT_UNKNOWN_KID') {
        return { ok: false, reason: 'unknown-kid' };
      }
      if (this.#refused.size >= 2 * this.#options.maxMembers)
        this.#refused.delete(this.#refused.values().next().value!);
      this.#refused.add(hash);
      return { ok: false, reason: 'invalid' };
    }
  }

  /** What this peer holds for `name`, if its admission has not expired. */
  #held(name: string): Held | undefined {
    const held = this.#byName.get(name);
    return held && held.claims.exp > this.#options.now() ? held : undefined;
  }

  /** The current admission of `name` (not expired), if this peer holds one. */
  admission(name: string): AdmissionClaims | undefined {
    return this.#held(name)?.claims;
  }

  /** The certificate itself, to hand to a member that asks. */
  token(name: string): string | undefined {
    return this.#held(name)?.token;
  }

  /** Whether `name` is admitted with exactly this raw Ed25519 key. */
  admits(name: string, publicKey: Uint8Array): boolean {
    return this.#held(name)?.key.equals(publicKey) ?? false;
  }

  /** Check a record against its member's admission, then its signature (once per incarnation). */
  check(record: SignableRecord & { signature?: Uint8Array | undefined }): RecordCheck {
    if (!record.signature) return { verdict: 'unsigned' };
    const held = this.#held(record.name);
    if (!held) return { verdict: 'no-admission' };
    if (!held.key.equals(record.publicKey)) return { verdict: 'wrong-key' };
    const verified = this.records.verified(record, record.signature);
    return verified ? { verdict: 'ok', record: verified } : { verdict: 'bad-signature' };
  }

  forget(name: string): void {
    this.#byName.delete(name);
  }
}
