// Offline verification of a fencing token, for a resource server: from the
// pinned root certificate and the pinned function checksum alone, with no call
// to the enclave or any peer. Depends only on src/crypto and node built-ins,
// so a Node service imports this module without the peer runtime.
// Steps (docs/protocol/token.md §3): split; the attestation chains to the root,
// its signature holds and it attests the pinned checksum (cached per document);
// the certificate is signed by the attested key and well formed; the cluster;
// the lease has not ended; (epoch, seq) is not older than the caller's minimum.
import { type AttestedEnclave, verifyAttestationEvidence } from '../crypto/attestation.ts';
import { type LeaderClaims, verifyCertificate } from '../crypto/leader-certificate.ts';
import type { MemberIdentity } from '../crypto/member-digest.ts';
import { VerificationError } from '../crypto/verification-error.ts';
import type { Certificate } from '../crypto/x509.ts';
import { compareTokenOrder, splitFencingToken, type TokenOrder } from './fencing-token.ts';
import { TokenRefusedError } from './token-error.ts';

export interface TokenVerifierOptions {
  /** The pinned attestation root (PEM file contents, parsed). */
  root: Certificate;
  /** The pinned function checksum, 64 lowercase hex digits. */
  pinnedChecksum: string;
  /** The cluster the token must name. */
  clusterId: string;
  /** Wall clock, ms since the Unix epoch. Default Date.now. */
  now?: () => number;
  /** Attestation documents remembered as verified. Default 64: one per enclave key seen. */
  cacheEntries?: number;
  /** Test-only: accept enclave keys below 2048 bits. */
  minKeyBits?: number;
}

export interface VerifiedFencingToken {
  clusterId: string;
  epoch: number;
  seq: number;
  leader: MemberIdentity;
  /** Lease end and issue time, ms since the Unix epoch. */
  leaseEnd: number;
  issuedAt: number;
  /** The attested enclave key that signed the certificate. */
  kid: string;
  funcChecksum: string;
  claims: LeaderClaims;
}

export interface VerifyTokenOptions {
  /** Refuse a token older than this (epoch, seq): the newest the caller has accepted. */
  minimum?: TokenOrder;
}

const CHECKSUM = /^[0-9a-f]{64}$/;

export class TokenVerifier {
  readonly #options: Required<Omit<TokenVerifierOptions, 'minKeyBits'>> & { minKeyBits?: number };
  /** Verified attestation documents by their exact text (bounded, oldest evicted). */
  readonly #attestations = new Map<string, AttestedEnclave>();
  hits = 0;
  misses = 0;

  constructor(options: TokenVerifierOptions) {
    if (!CHECKSUM.test(options.pinnedChecksum)) {
      throw new TypeError('pinnedChecksum must be 64 lowercase hex digits (SHA-256)');
    }
    if (options.clusterId === '') throw new TypeError('clusterId must not be empty');
    this.#options = { now: Date.now, cacheEntries: 64, ...options };
  }

  /** Verify `token`; throws TokenRefusedError with the reason. */
  verify(token: string, options: VerifyTokenOptions = {}): VerifiedFencingToken {
    const parts = splitFencingToken(token);
    const now = this.#options.now();
    const attested = this.#attestation(parts.attestation, now);
    const claims = this.#certificate(parts.certificate, attested);
    if (claims.cluster_id !== this.#options.clusterId) {
      throw new TokenRefusedError(
        'E_TOKEN_CLUSTER',
        `the token is for cluster ${claims.cluster_id}, not ${this.#options.clusterId}`,
      );
    }
    if (now >= claims.lease_end) {
      throw new TokenRefusedError(
        'E_TOKEN_EXPIRED',
        `the lease of epoch ${claims.epoch} seq ${claims.seq} ended at ${new Date(claims.lease_end).toISOString()}, ${now - claims.lease_end} ms ago`,
      );
    }
    const minimum = options.minimum;
    if (minimum && compareTokenOrder(claims, minimum) < 0) {
      throw new TokenRefusedError(
        'E_TOKEN_STALE',
        `epoch ${claims.epoch} seq ${claims.seq} is older than epoch ${minimum.epoch} seq ${minimum.seq}`,
      );
    }
    return {
      clusterId: claims.cluster_id,
      epoch: claims.epoch,
      seq: claims.seq,
      leader: { name: claims.leader.name, key: claims.leader.key },
      leaseEnd: claims.lease_end,
      issuedAt: claims.iat,
      kid: claims.kid,
      funcChecksum: claims.func_checksum,
      claims,
    };
  }

  #attestation(document: string, now: number): AttestedEnclave {
    const cached = this.#attestations.get(document);
    if (cached && now < cached.chainValidUntil) {
      this.hits++;
      return cached;
    }
    this.misses++;
    let attested: AttestedEnclave;
    try {
      attested = verifyAttestationEvidence(document, {
        root: this.#options.root,
        pinnedChecksum: this.#options.pinnedChecksum,
        now: new Date(now),
        ...(this.#options.minKeyBits === undefined ? {} : { minKeyBits: this.#options.minKeyBits }),
      });
    } catch (error) {
      if (!(error instanceof VerificationError)) throw error;
      const code = error.code === 'E_ENCLAVE_UNTRUSTED' ? 'E_TOKEN_CHECKSUM' : 'E_TOKEN_UNTRUSTED';
      throw new TokenRefusedError(code, error.message, { cause: error });
    }
    this.#attestations.delete(document);
    if (this.#attestations.size >= this.#options.cacheEntries) {
      this.#attestations.delete(this.#attestations.keys().next().value as string);
    }
    this.#attestations.set(document, attested);
    return attested;
  }

  #certificate(certificate: string, attested: AttestedEnclave): LeaderClaims {
    try {
      // The cluster is compared after the signature, by verify(), with its own code.
      return verifyCertificate(certificate, {
        clusterId: null,
        pinnedChecksum: this.#options.pinnedChecksum,
        keys: new Map([[attested.kid, attested.publicKey]]),
      }).claims;
    } catch (error) {
      if (!(error instanceof VerificationError)) throw error;
      const message =
        error.code === 'E_CERT_UNKNOWN_KID'
          ? `the certificate is signed by another key than the attested ${attested.kid}`
          : error.message;
      throw new TokenRefusedError('E_TOKEN_INVALID', message, { cause: error });
    }
  }
}
