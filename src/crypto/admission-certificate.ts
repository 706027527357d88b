// The admission certificate: by it the enclave vouches that `name` is a
// cluster member holding the Ed25519 key `key`, admitted from the TCP source
// `address`. It is signed with the enclave's admission key, an Ed25519 key the
// enclave makes at start beside its certificate-signing key; the attestation
// document binds both to the pinned function (user_data.admission_key), so
// any peer checks an admission with the attested keys alone. Compact (about
// 150 bytes, base64url as text) because every member meets every other's: a
// cold start of N members moves N^2 of them, several to a datagram. A newer
// `serial` for a name supersedes an older one (a restarted member with a new
// key). Format: docs/security.md §3.
import type { KeyObject } from 'node:crypto';
import { createHash, createPublicKey, sign, verify } from '../platform/node-crypto.ts';
import { VerificationError } from './verification-error.ts';

/** Names: one rule with the enclave's member names (src/enclave/requests.ts). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/;
/** An IPv4 or IPv6 address as the enclave's socket reported it, without port. */
const ADDRESS = /^[0-9A-Fa-f.:]{2,45}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Format version, the first byte of every admission. */
export const ADMISSION_VERSION = 2;
/** The signed bytes start with this tag and the cluster id: no other signature of the key matches. */
const DOMAIN = Buffer.from('enclave-elect/admission/v2\0');
const KID_BYTES = 8;
const KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
const U48_MAX = 2 ** 48 - 1;
/** version, kid, serial (8 bytes), iat and exp (6 each), two length bytes, key, signature. */
const FIXED_BYTES = 1 + KID_BYTES + 8 + 6 + 6 + 2 + KEY_BYTES + SIGNATURE_BYTES;
/** The largest admission: a 45-character address and a 63-character name. */
export const ADMISSION_MAX_BYTES = FIXED_BYTES + 45 + 63;
export const ADMISSION_MIN_BYTES = FIXED_BYTES + 2 + 1;

export interface AdmissionClaims {
  v: 2;
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
  /** The attested admission keys (Ed25519 public keys) by kid (admissionKeyId). */
  keys: ReadonlyMap<string, KeyObject>;
  /** Wall-clock time to judge expiry against. */
  now: number;
}

export interface VerifiedAdmission {
  claims: AdmissionClaims;
  kid: string;
}

export interface AdmissionSigner {
  kid: string;
  /** The enclave's Ed25519 admission key (private). */
  key: KeyObject;
}

/** An admission key's id: the first 8 bytes of SHA-256 over its raw 32 bytes, base64url. */
export function admissionKeyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(rawEd25519(publicKey))
    .digest()
    .subarray(0, KID_BYTES)
    .toString('base64url');
}

/** The raw 32 bytes of an Ed25519 public key (or of a private key's public half). */
export function rawEd25519(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
}

function invalid(message: string): VerificationError {
  return new VerificationError('E_ADMISSION_INVALID', `admission certificate refused: ${message}`);
}

function signedBytes(clusterId: string, body: Buffer): Buffer {
  const cluster = Buffer.from(clusterId, 'utf8');
  return Buffer.concat([DOMAIN, Buffer.from([cluster.length]), cluster, body]);
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function checkClaims(c: AdmissionClaims): void {
  if (!NAME.test(c.name)) throw invalid('name is not a member name');
  if (!ADDRESS.test(c.address)) throw invalid('address is not an IP address');
  if (!isCount(c.serial) || c.serial < 1) throw invalid('serial must be a positive integer');
  if (!isCount(c.iat) || !isCount(c.exp) || c.exp <= c.iat || c.exp > U48_MAX)
    throw invalid('iat/exp invalid');
}

export function signAdmission(claims: AdmissionClaims, signer: AdmissionSigner): string {
  checkClaims(claims);
  const key = Buffer.from(claims.key, 'base64url');
  if (key.length !== KEY_BYTES || key.toString('base64url') !== claims.key)
    throw invalid('key is not an Ed25519 key');
  const kid = Buffer.from(signer.kid, 'base64url');
  if (kid.length !== KID_BYTES) throw invalid('kid must be 8 bytes');
  const address = Buffer.from(claims.address, 'latin1');
  const name = Buffer.from(claims.name, 'latin1');
  const body = Buffer.alloc(FIXED_BYTES - SIGNATURE_BYTES + address.length + name.length);
  let at = body.writeUInt8(ADMISSION_VERSION, 0);
  at += kid.copy(body, at);
  at = body.writeBigUInt64BE(BigInt(claims.serial), at);
  at = body.writeUIntBE(claims.iat, at, 6);
  at = body.writeUIntBE(claims.exp, at, 6);
  at = body.writeUInt8(address.length, at);
  at += address.copy(body, at);
  at = body.writeUInt8(name.length, at);
  at += name.copy(body, at);
  key.copy(body, at);
  const signature = sign(null, signedBytes(claims.cluster_id, body), signer.key);
  return Buffer.concat([body, signature]).toString('base64url');
}

/** The fields of an admission's bytes, before its signature is checked. */
function parse(
  token: string,
  clusterId: string,
): { claims: AdmissionClaims; kid: string; body: Buffer; sig: Buffer } {
  if (token.length > Math.ceil((ADMISSION_MAX_BYTES * 4) / 3) || !BASE64URL.test(token))
    throw invalid('not base64url');
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length < ADMISSION_MIN_BYTES || bytes.length > ADMISSION_MAX_BYTES) throw invalid('bad length');
  if (bytes[0] !== ADMISSION_VERSION) throw invalid(`version must be ${ADMISSION_VERSION}`);
  const kid = bytes.subarray(1, 1 + KID_BYTES).toString('base64url');
  let at = 1 + KID_BYTES;
  const serial = Number(bytes.readBigUInt64BE(at));
  const iat = bytes.readUIntBE(at + 8, 6);
  const exp = bytes.readUIntBE(at + 14, 6);
  at += 20;
  const addressLength = bytes[at++]!;
  const address = bytes.toString('latin1', at, at + addressLength);
  at += addressLength;
  const nameLength = bytes[at++] ?? 0;
  const name = bytes.toString('latin1', at, at + nameLength);
  at += nameLength;
  if (at + KEY_BYTES + SIGNATURE_BYTES !== bytes.length) throw invalid('lengths do not add up');
  const key = bytes.subarray(at, at + KEY_BYTES).toString('base64url');
  const claims: AdmissionClaims = { v: 2, cluster_id: clusterId, name, key, address, serial, iat, exp };
  checkClaims(claims);
  const sigAt = at + KEY_BYTES;
  return { claims, kid, body: bytes.subarray(0, sigAt), sig: bytes.subarray(sigAt) };
}

/**
 * Verify an admission certificate: format, a kid among the attested
 * admission keys (E_CERT_UNKNOWN_KID otherwise, so the caller may re-attest),
 * signature over the cluster id and every field, and expiry
 * (E_ADMISSION_EXPIRED).
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

/** The claims an admission states, unverified (for logs and tests; never to trust). */
export function readAdmissionUnverified(token: string, clusterId: string): AdmissionClaims {
  return parse(token, clusterId).claims;
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
  { claims: Readonly<AdmissionClaims>; kid: string; key: KeyObject; token: string }
>();
const VERIFIED_ADMISSIONS_MAX = 1 << 14;

/**
 * The claims of `token` if it verified before in this process for this
 * cluster and key (expiry not judged), with the token as first verified: the
 * same text, one string to keep instead of a copy per holder.
 */
export function admissionVerifiedBefore(
  token: string,
  expect: Omit<AdmissionExpectations, 'now'>,
): (VerifiedAdmission & { token: string }) | undefined {
  const known = verifiedAdmissions.get(token);
  return known && known.claims.cluster_id === expect.clusterId && expect.keys.get(known.kid) === known.key
    ? { claims: known.claims, kid: known.kid, token: known.token }
    : undefined;
}

function verifiedOnce(token: string, expect: AdmissionExpectations): VerifiedAdmission {
  const known = admissionVerifiedBefore(token, expect);
  if (known) return known;
  const { claims, kid, body, sig } = parse(token, expect.clusterId);
  const key = expect.keys.get(kid);
  if (!key) throw new VerificationError('E_CERT_UNKNOWN_KID', `admission names key ${kid}, not attested`);
  let ok = false;
  try {
    ok = verify(null, signedBytes(expect.clusterId, body), key, sig);
  } catch {
    ok = false;
  }
  // The cluster is in the signed bytes: an admission to another cluster fails here.
  if (!ok) throw invalid(`signature does not verify for cluster ${expect.clusterId}`);
  Object.freeze(claims);
  if (verifiedAdmissions.size >= VERIFIED_ADMISSIONS_MAX)
    verifiedAdmissions.delete(verifiedAdmissions.keys().next().value!);
  verifiedAdmissions.set(token, { claims, kid, key, token });
  return { claims, kid };
}

/** Of two admissions for one name, the one that stands: the higher serial. */
export function supersedes(candidate: AdmissionClaims, current: AdmissionClaims | undefined): boolean {
  return current === undefined || candidate.serial > current.serial;
}
