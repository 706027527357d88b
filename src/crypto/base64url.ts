// base64url without padding (RFC 4648 §5), as JOSE uses it. Decoding is strict:
// any character outside the alphabet, or padding, is an error, so one token
// has exactly one encoding.
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** 32 bytes in base64url without padding (an Ed25519 public key, an HMAC-SHA256): 43 characters. */
export const BASE64URL_32_BYTES = /^[A-Za-z0-9_-]{43}$/;

export function encodeBase64url(bytes: Uint8Array | string): string {
  return Buffer.from(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes).toString('base64url');
}

export function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  // Reject non-canonical encodings (stray low bits in the last character).
  return bytes.toString('base64url') === text ? bytes : undefined;
}
