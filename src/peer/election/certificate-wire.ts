// How leader certificates ride on gossip (docs/protocol/gossip.md, topic
// "leader"). A compact JWS is base64url text; on the wire we carry its three
// parts as raw bytes (a quarter smaller), and the receiver re-encodes them
// exactly (canonical base64url). A renewal differs from the certificate it
// renews only in seq, iat and lease_end, so it travels as a delta: those three
// numbers and the new signature (~290 bytes instead of ~1.1 KB). The receiver
// rebuilds the JWS from its own certificate of that epoch; the result is
// verified like any other certificate, so a wrong base only fails verification.
import { decodeBase64url, encodeBase64url } from '../../crypto/base64url.ts';
import { canonicalJson } from '../../crypto/canonical-json.ts';

const FULL = 1;
const RENEWAL = 2;
const MAX_PART = 16 * 1024;

export type DecodedCertificate =
  | { kind: 'full'; compact: string }
  | { kind: 'renewal'; compact: string; epoch: number; seq: number }
  | { kind: 'missing-base'; epoch: number; seq: number }
  | { kind: 'invalid'; reason: string };

interface Parts {
  header: string;
  payload: string;
  signature: string;
}

function split(compact: string): Parts | undefined {
  const parts = compact.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  return { header, payload, signature };
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(part);
  if (!bytes) return undefined;
  try {
    const value = JSON.parse(bytes.toString('utf8')) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function withLength(bytes: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** The whole certificate: its three parts as raw bytes. */
export function encodeFullCertificate(compact: string): Uint8Array {
  const parts = split(compact);
  const raw = parts && [parts.header, parts.payload, parts.signature].map((p) => decodeBase64url(p));
  if (!raw || raw.some((b) => !b || b.length > MAX_PART)) throw new TypeError('not a compact JWS');
  return Buffer.concat([Buffer.from([FULL]), ...raw.map((b) => withLength(b!))]);
}

/**
 * A renewal as a delta against any certificate of the same epoch and key, or
 * undefined when `renewed` differs from `base` in more than seq/iat/lease_end
 * (then send it whole).
 */
export function encodeRenewal(renewed: string, base: string): Uint8Array | undefined {
  const r = split(renewed);
  const b = split(base);
  if (!r || !b || r.header !== b.header) return undefined;
  const claims = decodeJson(r.payload);
  const baseClaims = decodeJson(b.payload);
  const signature = decodeBase64url(r.signature);
  if (!claims || !baseClaims || !signature || signature.length > MAX_PART) return undefined;
  const { seq, iat, lease_end, ...rest } = claims;
  const { seq: _s, iat: _i, lease_end: _l, ...baseRest } = baseClaims;
  if (canonicalJson(rest) !== canonicalJson(baseRest)) return undefined;
  if (![seq, iat, lease_end].every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) return undefined;
  if (
    !Number.isSafeInteger(rest.epoch) ||
    (rest.epoch as number) > 0xffff_ffff ||
    (seq as number) > 0xffff_ffff
  ) {
    return undefined;
  }
  const head = Buffer.alloc(1 + 4 + 4 + 8 + 8);
  head.writeUInt8(RENEWAL, 0);
  head.writeUInt32BE(rest.epoch as number, 1);
  head.writeUInt32BE(seq as number, 5);
  head.writeDoubleBE(iat as number, 9);
  head.writeDoubleBE(lease_end as number, 17);
  return Buffer.concat([head, withLength(signature)]);
}

function readPart(bytes: Buffer, offset: number): { part: Buffer; next: number } | undefined {
  if (offset + 2 > bytes.length) return undefined;
  const length = bytes.readUInt16BE(offset);
  if (length === 0 || length > MAX_PART || offset + 2 + length > bytes.length) return undefined;
  return { part: bytes.subarray(offset + 2, offset + 2 + length), next: offset + 2 + length };
}

/**
 * Decode a gossiped certificate. `baseFor(epoch)` returns this peer's own
 * certificate of that epoch (any seq), needed to rebuild a renewal. Never throws.
 */
export function decodeCertificate(
  data: Uint8Array,
  baseFor: (epoch: number) => string | undefined,
): DecodedCertificate {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < 1) return { kind: 'invalid', reason: 'empty' };
  if (bytes[0] === FULL) {
    const parts: Buffer[] = [];
    let offset = 1;
    for (let i = 0; i < 3; i++) {
      const read = readPart(bytes, offset);
      if (!read) return { kind: 'invalid', reason: 'truncated' };
      parts.push(read.part);
      offset = read.next;
    }
    if (offset !== bytes.length) return { kind: 'invalid', reason: 'trailing-bytes' };
    return { kind: 'full', compact: parts.map((p) => encodeBase64url(p)).join('.') };
  }
  if (bytes[0] === RENEWAL) {
    if (bytes.length < 25) return { kind: 'invalid', reason: 'truncated' };
    const epoch = bytes.readUInt32BE(1);
    const seq = bytes.readUInt32BE(5);
    const iat = bytes.readDoubleBE(9);
    const leaseEnd = bytes.readDoubleBE(17);
    const read = readPart(bytes, 25);
    if (!read || read.next !== bytes.length) return { kind: 'invalid', reason: 'truncated' };
    if (![iat, leaseEnd].every((n) => Number.isSafeInteger(n) && n >= 0))
      return { kind: 'invalid', reason: 'times' };
    const base = baseFor(epoch);
    const b = base === undefined ? undefined : split(base);
    const baseClaims = b && decodeJson(b.payload);
    if (!b || !baseClaims || baseClaims.epoch !== epoch) return { kind: 'missing-base', epoch, seq };
    const claims = { ...baseClaims, seq, iat, lease_end: leaseEnd };
    const compact = `${b.header}.${encodeBase64url(canonicalJson(claims))}.${encodeBase64url(read.part)}`;
    return { kind: 'renewal', compact, epoch, seq };
  }
  return { kind: 'invalid', reason: 'unknown-kind' };
}
