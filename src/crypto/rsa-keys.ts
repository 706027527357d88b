// RSA keys and the encodings our formats use for public keys: SPKI DER and
// the RFC 7638 JWK thumbprint that serves as key id. Public keys are
// node:crypto KeyObjects, so verifying needs nothing else. Private keys are
// node-forge objects (forge writes the PKI's PEM and signs its certificates);
// their arithmetic runs in OpenSSL (native-rsa.ts).
import type { KeyObject } from 'node:crypto';
import type forgeModule from 'node-forge';
import { createHash, createPublicKey, generateKeyPairSync } from '../platform/node-crypto.ts';
import { encodeBase64url } from './base64url.ts';
import { canonicalJson } from './canonical-json.ts';
import { forge } from './forge.ts';

export type RsaPrivateKey = forgeModule.pki.rsa.PrivateKey;
/** An RSA public key (a KeyObject of type 'public', asymmetricKeyType 'rsa'). */
export type RsaPublicKey = KeyObject;

export interface RsaKeyPair {
  privateKey: RsaPrivateKey;
  publicKey: RsaPublicKey;
}

/** Product keys are at least this size; smaller ones exist only in tests. */
export const MIN_PRODUCT_RSA_BITS = 2048;

export function generateRsaKeyPair(bits = MIN_PRODUCT_RSA_BITS): RsaKeyPair {
  // Prime search in forge's pure-JS bignum takes seconds per 2048-bit key;
  // OpenSSL (node:crypto) takes milliseconds. The private key is handed to
  // forge as PKCS#8 PEM, in memory only.
  const { privateKey: pem, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent: 65537,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  return { privateKey: forge().pki.privateKeyFromPem(pem), publicKey: publicKeyFromSpkiDer(publicKey) };
}

export function spkiDer(publicKey: RsaPublicKey): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}

export function publicKeyFromSpkiDer(der: Uint8Array): RsaPublicKey {
  const key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'rsa') throw new TypeError('not an RSA public key');
  return key;
}

export function publicKeyToPem(publicKey: RsaPublicKey): string {
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** The public key as a JWK (RFC 7517) with the members RFC 7638 hashes. */
export function publicJwk(publicKey: RsaPublicKey): { kty: 'RSA'; n: string; e: string } {
  const { n, e } = publicKey.export({ format: 'jwk' });
  if (typeof n !== 'string' || typeof e !== 'string') throw new TypeError('not an RSA public key');
  return { kty: 'RSA', n, e };
}

/** RFC 7638 JWK SHA-256 thumbprint, base64url: the enclave key id (`kid`). */
export function keyId(publicKey: RsaPublicKey): string {
  return encodeBase64url(
    createHash('sha256')
      .update(canonicalJson(publicJwk(publicKey)))
      .digest(),
  );
}

/** The modulus length in bits. */
export function modulusBits(key: RsaPublicKey): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined) throw new TypeError('not an RSA key');
  return bits;
}

export function modulusBytes(key: RsaPublicKey): number {
  return Math.ceil(modulusBits(key) / 8);
}
