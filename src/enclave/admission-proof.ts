// An admission request proves two things without sending either secret: the
// join secret (an HMAC-SHA256 over the request) and possession of the Ed25519
// key being admitted (a signature over the same bytes). The signed bytes are
// the canonical JSON of the request without `mac` and `sig`, plus `op`, so the
// proof cannot be reused as any other signed request. `ts` and `nonce` make
// each proof good once: the enclave refuses stale times and nonces it has seen.
import type { KeyObject } from 'node:crypto';
import { decodeBase64url, encodeBase64url } from '../crypto/base64url.ts';
import { canonicalBytes } from '../crypto/canonical-json.ts';
import { createHmac, randomBytes, sign, timingSafeEqual, verify } from '../platform/node-crypto.ts';
import { ed25519PublicKey } from './lease-signature.ts';

export interface AdmissionFields {
  cluster_id: string;
  name: string;
  /** Ed25519 public key: 32 raw bytes, base64url. */
  key: string;
  /** The requester's wall clock, ms since the Unix epoch. */
  ts: number;
  /** 16 random bytes, lowercase hex. */
  nonce: string;
}

export interface AdmissionRequestBody extends AdmissionFields {
  /** HMAC-SHA256 under the join secret, base64url. */
  mac: string;
  /** Ed25519 signature by `key`, base64url. */
  sig: string;
}

export function admissionSigningBytes(fields: AdmissionFields): Buffer {
  const { cluster_id, name, key, ts, nonce } = fields;
  return canonicalBytes({ op: 'admit', cluster_id, name, key, ts, nonce });
}

function hmac(secret: Uint8Array, fields: AdmissionFields): Buffer {
  return createHmac('sha256', secret).update(admissionSigningBytes(fields)).digest();
}

export function signAdmissionRequest(
  fields: Omit<AdmissionFields, 'nonce'> & { nonce?: string },
  joinSecret: Uint8Array,
  privateKey: KeyObject,
): AdmissionRequestBody {
  const full: AdmissionFields = { ...fields, nonce: fields.nonce ?? randomBytes(16).toString('hex') };
  return {
    ...full,
    mac: encodeBase64url(hmac(joinSecret, full)),
    sig: encodeBase64url(sign(null, admissionSigningBytes(full), privateKey)),
  };
}

/** The HMAC proves the join secret; compared in constant time. */
export function verifyAdmissionMac(fields: AdmissionFields, mac: string, joinSecret: Uint8Array): boolean {
  const given = decodeBase64url(mac);
  const expected = hmac(joinSecret, fields);
  return given?.length === expected.length && timingSafeEqual(given, expected);
}

/** The signature proves possession of the key being admitted. */
export function verifyAdmissionSignature(fields: AdmissionFields, sig: string): boolean {
  const key = ed25519PublicKey(fields.key);
  const signature = decodeBase64url(sig);
  if (!key || signature?.length !== 64) return false;
  try {
    return verify(null, admissionSigningBytes(fields), key, signature);
  } catch {
    return false;
  }
}
