// Compact JWS (RFC 7515) with RS256 only (RSASSA-PKCS1-v1_5 over SHA-256,
// RFC 7518 §3.3) on forge keys, the RSA arithmetic done by OpenSSL
// (native-rsa.ts). The payload is the canonical JSON of the claims, so a
// re-encoding never changes the bytes signed.
// Parsing is strict: three parts, canonical base64url, JSON objects, alg RS256.
import { EnclaveElectError } from '../errors.ts';
import { decodeBase64url, encodeBase64url } from './base64url.ts';
import { canonicalJson } from './canonical-json.ts';
import { rsaSignSha256, rsaVerifySha256 } from './native-rsa.ts';
import type { RsaPrivateKey, RsaPublicKey } from './rsa-keys.ts';
import { VerdictMemo } from './verdict-memo.ts';

export interface JwsHeader {
  alg: 'RS256';
  typ?: string;
  kid?: string;
  x5c?: string[];
}

export interface ParsedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** Maximum size of a token we are willing to parse (bytes of text). */
const MAX_JWS_LENGTH = 64 * 1024;

export class JwsFormatError extends EnclaveElectError {
  constructor(message: string) {
    super('E_JWS_FORMAT', message);
  }
}

export function signJws(header: JwsHeader, claims: object, privateKey: RsaPrivateKey): string {
  const signingInput = `${encodeBase64url(canonicalJson(header))}.${encodeBase64url(canonicalJson(claims))}`;
  return `${signingInput}.${encodeBase64url(rsaSignSha256(privateKey, Buffer.from(signingInput)))}`;
}

function decodeJsonObject(part: string, what: string): Record<string, unknown> {
  const bytes = decodeBase64url(part);
  if (!bytes) throw new JwsFormatError(`${what} is not canonical base64url`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new JwsFormatError(`${what} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new JwsFormatError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Split and decode a compact JWS without checking its signature. */
export function parseJws(token: string): ParsedJws {
  if (typeof token !== 'string' || token.length > MAX_JWS_LENGTH) {
    throw new JwsFormatError('token is not a string of at most 64 KiB');
  }
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwsFormatError('a compact JWS has exactly three parts');
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJsonObject(h, 'header');
  if (header.alg !== 'RS256') throw new JwsFormatError(`alg must be RS256, got ${String(header.alg)}`);
  if (header.crit !== undefined) throw new JwsFormatError('crit header parameters are not supported');
  const payload = decodeJsonObject(p, 'payload');
  const signature = decodeBase64url(s);
  if (!signature || signature.length === 0) throw new JwsFormatError('signature is not canonical base64url');
  return { header, payload, signingInput: `${h}.${p}`, signature };
}

/** parseJws, with a format error turned into the caller's own error. */
export function parseJwsOr(token: string, refuse: (message: string) => Error): ParsedJws {
  try {
    return parseJws(token);
  } catch (error) {
    throw refuse((error as Error).message);
  }
}

/** True when the RS256 signature over the signing input verifies with the key. */
export function verifyJwsSignature(parsed: ParsedJws, publicKey: RsaPublicKey): boolean {
  const expectedLength = Math.ceil(publicKey.n.bitLength() / 8);
  if (parsed.signature.length !== expectedLength) return false;
  const signingInput = Buffer.from(parsed.signingInput);
  const memoKey = VerdictMemo.key(modulusOf(publicKey), signingInput, parsed.signature);
  if (jwsVerdicts.has(memoKey)) return true;
  const ok = rsaVerifySha256(publicKey, signingInput, parsed.signature);
  if (ok) jwsVerdicts.remember(memoKey);
  return ok;
}

/** RS256 signatures that verified in this process. */
export const jwsVerdicts = new VerdictMemo(1 << 14);

const moduli = new WeakMap<RsaPublicKey, Buffer>();
function modulusOf(key: RsaPublicKey): Buffer {
  let modulus = moduli.get(key);
  if (!modulus) {
    modulus = Buffer.from(`${key.n.toString(16)}:${key.e.toString(16)}`);
    moduli.set(key, modulus);
  }
  return modulus;
}
