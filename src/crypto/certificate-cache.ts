// Verify each leader certificate once: results keyed by SHA-256 of the token.
// Successes and definite failures are remembered (bounded, oldest evicted);
// an unknown kid is not, because attesting that key later makes it verifiable.
import {
  type CertificateExpectations,
  certificateHash,
  type LeaderCertificate,
  verifyCertificate,
} from './leader-certificate.ts';
import { VerificationError } from './verification-error.ts';

/**
 * A peer sees a new certificate at each renewal (twice a second at the
 * default lease), and gossip repeats each only for a few seconds: 64 covers
 * half a minute of them. At ~2.5 KB an entry (token, hash, claims) the former
 * 4096 grew a peer's heap by ~10 MB over its first hour, and 256 still held
 * 640 KB after two minutes; a certificate evicted and seen again is simply
 * verified again (tens of microseconds in OpenSSL).
 */
const DEFAULT_CACHE_ENTRIES = 64;

type Entry = { ok: true; certificate: LeaderCertificate } | { ok: false; error: VerificationError };

export class CertificateVerifier {
  readonly #expect: CertificateExpectations;
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  hits = 0;
  misses = 0;

  constructor(expect: CertificateExpectations, maxEntries = DEFAULT_CACHE_ENTRIES) {
    this.#expect = expect;
    this.#maxEntries = maxEntries;
  }

  verify(token: string): LeaderCertificate {
    const hash = certificateHash(token);
    const cached = this.#entries.get(hash);
    if (cached) {
      this.hits++;
      if (cached.ok) return cached.certificate;
      throw cached.error;
    }
    this.misses++;
    let entry: Entry;
    try {
      entry = { ok: true, certificate: verifyCertificate(token, this.#expect, hash) };
    } catch (error) {
      if (!(error instanceof VerificationError) || error.code === 'E_CERT_UNKNOWN_KID') throw error;
      entry = { ok: false, error };
    }
    if (this.#entries.size >= this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value as string);
    }
    this.#entries.set(hash, entry);
    if (entry.ok) return entry.certificate;
    throw entry.error;
  }
}
