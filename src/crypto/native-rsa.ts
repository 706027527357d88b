// The RSA arithmetic (JWS signatures, VRF proofs) runs in OpenSSL through
// node:crypto: forge's pure-JS bignums take ~27 ms per 2048-bit private-key
// operation and block the event loop, which under load made an enclave answer
// attestations in hundreds of ms and peers time out. Public keys are
// KeyObjects already; a forge private key is converted once and cached.
import type { KeyObject } from 'node:crypto';
import {
  constants,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  sign,
  verify,
} from '../platform/node-crypto.ts';
import { forge } from './forge.ts';
import type { RsaPrivateKey, RsaPublicKey } from './rsa-keys.ts';

/** PEM parsing costs more than the signature: convert each forge key once. */
const nativeKeys = new WeakMap<RsaPrivateKey, { privateKey: KeyObject; publicKey: KeyObject }>();

function nativeKeysOf(key: RsaPrivateKey): { privateKey: KeyObject; publicKey: KeyObject } {
  let native = nativeKeys.get(key);
  if (!native) {
    const privateKey = createPrivateKey(forge().pki.privateKeyToPem(key));
    native = { privateKey, publicKey: createPublicKey(privateKey) };
    nativeKeys.set(key, native);
  }
  return native;
}

/** The public half of a private key. */
export function publicKeyOf(key: RsaPrivateKey): RsaPublicKey {
  return nativeKeysOf(key).publicKey;
}

/** RSASSA-PKCS1-v1_5 with SHA-256 (RS256). */
export function rsaSignSha256(key: RsaPrivateKey, data: Uint8Array): Buffer {
  return sign('sha256', data, nativeKeysOf(key).privateKey);
}

export function rsaVerifySha256(key: RsaPublicKey, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify('sha256', data, key, signature);
  } catch {
    return false;
  }
}

/** RSASP1 (RFC 8017 §5.2.1): m^d mod n on a block of exactly k octets. */
export function rsasp1(key: RsaPrivateKey, block: Uint8Array): Buffer {
  return privateDecrypt({ key: nativeKeysOf(key).privateKey, padding: constants.RSA_NO_PADDING }, block);
}

/** RSAVP1 (RFC 8017 §5.2.2): s^e mod n, or undefined when s is out of range. */
export function rsavp1(key: RsaPublicKey, block: Uint8Array): Buffer | undefined {
  try {
    return publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, block);
  } catch {
    return undefined;
  }
}
