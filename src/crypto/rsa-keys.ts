// RSA key pairs as node-forge objects (forge does all X.509 and PEM work; the
// private-key arithmetic runs in OpenSSL, see native-rsa.ts), plus the encodings our formats use for public keys: SPKI
// DER and the RFC 7638 JWK thumbprint that serves as key id.
import { createHash, generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { encodeBase64url } from './base64url.ts';
import { canonicalJson } from './canonical-json.ts';

export type RsaPrivateKey = forge.pki.rsa.PrivateKey;
export type RsaPublicKey = forge.pki.rsa.PublicKey;

export interface RsaKeyPair {
  privateKey: RsaPrivateKey;
  publicKey: RsaPublicKey;
}

/** Product keys are at least this size; smaller ones exist only in tests. */
export const MIN_PRODUCT_RSA_BITS = 2048;

export function generateRsaKeyPair(bits = MIN_PRODUCT_RSA_BITS): RsaKeyPair {
  // Prime search in forge's pure-JS bignum takes seconds per 2048-bit key;
  // OpenSSL (node:crypto) takes milliseconds. The key is generated there and
  // handed to forge as PKCS#8 PEM, in memory only.
  const { privateKey: pem } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent: 65537,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const privateKey = forge.pki.privateKeyFromPem(pem);
  return { privateKey, publicKey: forge.pki.setRsaPublicKey(privateKey.n, privateKey.e) };
}

export function spkiDer(publicKey: RsaPublicKey): Buffer {
  const der = forge.asn1.toDer(forge.pki.publicKeyToAsn1(publicKey)).getBytes();
  return Buffer.from(der, 'binary');
}

export function publicKeyFromSpkiDer(der: Uint8Array): RsaPublicKey {
  const asn1 = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(der).toString('binary')));
  const key = forge.pki.publicKeyFromAsn1(asn1) as RsaPublicKey;
  if (!key.n || !key.e) throw new TypeError('not an RSA public key');
  return key;
}

export function publicKeyToPem(publicKey: RsaPublicKey): string {
  return forge.pki.publicKeyToPem(publicKey);
}

function bigIntegerToBase64url(value: forge.jsbn.BigInteger): string {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return encodeBase64url(Buffer.from(hex, 'hex'));
}

/** The public key as a JWK (RFC 7517) with the members RFC 7638 hashes. */
export function publicJwk(publicKey: RsaPublicKey): { kty: 'RSA'; n: string; e: string } {
  return { kty: 'RSA', n: bigIntegerToBase64url(publicKey.n), e: bigIntegerToBase64url(publicKey.e) };
}

/** RFC 7638 JWK SHA-256 thumbprint, base64url: the enclave key id (`kid`). */
export function keyId(publicKey: RsaPublicKey): string {
  return encodeBase64url(
    createHash('sha256')
      .update(canonicalJson(publicJwk(publicKey)))
      .digest(),
  );
}

export function modulusBytes(key: RsaPublicKey): number {
  return Math.ceil(key.n.bitLength() / 8);
}
