// The admission certificate: a compact JWS (RS256, `kid` = the attested enclave
// key's thumbprint) by which the enclave vouches that `name` is a cluster member
// holding the Ed25519 key `key`, admitted from the TCP source `address`. Any
// peer checks it with the attested keys alone (the pinned root and checksum are
// what made those keys attested). A newer `serial` for a name supersedes an
// older one (a restarted member with a new key). Format: docs/security.md.
import { verifyAttestedJws } from './attested-jws.ts';
import { signJws } from './jws.ts';
import type { RsaPrivateKey, RsaPublicKey } from './rsa-keys.ts';
import { VerificationError } from './verification-error.ts';

export const ADMISSION_TYP = 'enclave-elect-admission+jwt';
/** Names: one rule with the enclave's member names (src/enclave/requests.ts). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/;
const ED25519_KEY = /^[A-Za-z0-9_-]{43}$/;
/** An IPv4 or IPv6 address as the enclave's socket reported it, without port. */
const ADDRESS = /^[0-9A-Fa-f.:]{2,45}$/;

export interface AdmissionClaims {
  v: 1;
  cluster_id: string;
  /** The admitted member's name. */
  name: string;
  /** Its Ed25519 public key: 32 raw bytes, base64url. */
  key: string;
  /** The TCP source address the enclave saw the admission request come from. */
  address: string;
  /** Grows with every admission the enclave grants (across restarts): newer supersedes older. */
  serial: number;
  /** Issue time and expiry, milliseconds since the Unix epoch. */
  iat: number;
  exp: number;
}

export interface AdmissionExpectations {
  clusterId: string;
  /** The attested enclave keys by kid. */
  keys: ReadonlyMap<string, RsaPublicKey>;
  /** Wall-clock time to judge expiry against. */
  now: number;
}

export interface VerifiedAdmission {
  claims: AdmissionClaims;
  kid: string;
}

export function signAdmission(claims: AdmissionClaims, kid: string, key: RsaPrivateKey): string {
  return signJws({ alg: 'RS256', typ: ADMISSION_TYP, kid }, claims, key);
}

function invalid(message: string): VerificationError {
  return new VerificationError('E_ADMISSION_INVALID', `admission certificate refused: ${message}`);
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const CLAIM_FIELDS = ['address', 'cluster_id', 'exp', 'iat', 'key', 'name', 'serial', 'v'];

function readClaims(p: Record<string, unknown>): AdmissionClaims {
  const fields = Object.keys(p).sort();
  if (fields.join() !== CLAIM_FIELDS.join())
    throw invalid(`claims must be exactly ${CLAIM_FIELDS.join(', ')}`);
  if (p.v !== 1) throw invalid('v must be 1');
  if (typeof p.cluster_id !== 'string') throw invalid('cluster_id missing');
  if (typeof p.name !== 'string' || !NAME.test(p.name)) throw invalid('name is not a member name');
  if (typeof p.key !== 'string' || !ED25519_KEY.test(p.key)) throw invalid('key is not an Ed25519 key');
  if (typeof p.address !== 'string' || !ADDRESS.test(p.address))
    throw invalid('address is not an IP address');
  if (!isCount(p.serial) || p.serial < 1) throw invalid('serial must be a positive integer');
  if (!isCount(p.iat) || !isCount(p.exp) || p.exp <= p.iat) throw invalid('iat/exp invalid');
  return p as unknown as AdmissionClaims;
}

/**
 * Verify an admission certificate: typ, a kid among the attested keys
 * (E_CERT_UNKNOWN_KID otherwise, so the caller may re-attest), signature,
 * exact claims, cluster, and expiry (E_ADMISSION_EXPIRED).
 */
export function verifyAdmission(token: string, expect: AdmissionExpectations): VerifiedAdmission {
  const { claims, kid } = verifiedOnce(token, expect);
  if (claims.exp <= expect.now) {
    throw new VerificationError(
      'E_ADMISSION_EXPIRED',
      `admission of ${claims.name} expired at ${new Date(claims.exp).toISOString()}`,
    );
  }
  return { claims, kid };
}

/**
 * Admissions whose signature and claims checked out in this process, by token,
 * with the key object that verified them: a token is parsed and checked once
 * per process, whichever peer offers it (in the in-process benches 1,000 peers
 * each meet every admission; a deployment has one peer per process). A hit
 * needs the same cluster and the very key object the caller trusts under that
 * kid; expiry is judged on every call. Only successes are kept, FIFO-bounded.
 */
const verifiedAdmissions = new Map<
  string,
  { claims: Readonly<AdmissionClaims>; kid: string; key: RsaPublicKey }
>();
const VERIFIED_ADMISSIONS_MAX = 1 << 14;

/** The claims of `token` if it verified before in this process for this cluster and key (expiry not judged). */
export function admissionVerifiedBefore(
  token: string,
  expect: Omit<AdmissionExpectations, 'now'>,
): VerifiedAdmission | undefined {
  const known = verifiedAdmissions.get(token);
  return known && known.claims.cluster_id === expect.clusterId && expect.keys.get(known.kid) === known.key
    ? { claims: known.claims, kid: known.kid }
    : undefined;
}

function verifiedOnce(token: string, expect: AdmissionExpectations): VerifiedAdmission {
  const known = admissionVerifiedBefore(token, expect);
  if (known) return known;
  const { parsed, kid, key } = verifyAttestedJws(token, ADMISSION_TYP, expect.keys, invalid, 'admission');
  const claims = Object.freeze(readClaims(parsed.payload));
  if (claims.cluster_id !== expect.clusterId)
    throw invalid(`cluster ${claims.cluster_id} is not ${expect.clusterId}`);
  if (verifiedAdmissions.size >= VERIFIED_ADMISSIONS_MAX)
    verifiedAdmissions.delete(verifiedAdmissions.keys().next().value!);
  verifiedAdmissions.set(token, { claims, kid, key });
  return { claims, kid };
}

/** Of two admissions for one name, the one that stands: the higher serial. */
export function supersedes(candidate: AdmissionClaims, current: AdmissionClaims | undefined): boolean {
  return current === undefined || candidate.serial > current.serial;
}
