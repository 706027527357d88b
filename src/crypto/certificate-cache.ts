// Verify each leader certificate once: results keyed by SHA-256 of the token.
// Successes and definite failures are remembered (bounded, oldest evicted);
// an unknown kid is not, because attesting that key later makes it verifiable.
import { createHash } from 'node:crypto';
import {
  type CertificateExpectations,
  type LeaderCertificateClaims,
  verifyCertificate,
} from './leader-certificate.ts';
import { VerificationError } from './verification-error.ts';

export const DEFAULT_CACHE_ENTRIES = 4096;

type Entry = { ok: true; claims: LeaderCertificateClaims } | { ok: false; error: VerificationError };

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

  verify(token: string): LeaderCertificateClaims {
    const hash = createHash('sha256').update(token).digest('hex');
    const cached = this.#entries.get(hash);
    if (cached) {
      this.hits++;
      if (cached.ok) return cached.claims;
      throw cached.error;
    }
    this.misses++;
    let entry: Entry;
    try {
      entry = { ok: true, claims: verifyCertificate(token, this.#expect) };
    } catch (error) {
      if (!(error instanceof VerificationError) || error.code === 'E_CERT_UNKNOWN_KID') throw error;
      entry = { ok: false, error };
    }
    if (this.#entries.size >= this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value as string);
    }
    this.#entries.set(hash, entry);
    if (entry.ok) return entry.claims;
    throw entry.error;
  }
}
