// The RSA arithmetic on hot paths (JWS signatures, VRF proofs) runs in OpenSSL
// through node:crypto: forge's pure-JS bignums take ~27 ms per 2048-bit
// private-key operation and block the event loop, which under load made an
// enclave answer attestations in hundreds of ms and peers time out. Keys stay
// forge objects everywhere else (X.509, PEM, the formats); each is converted
// to a KeyObject once and cached.
import {
  constants,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  sign,
  verify,
} from 'node:crypto';
import forge from 'node-forge';
import type { RsaPrivateKey, RsaPublicKey } from './rsa-keys.ts';

/** Convert each forge key to a native KeyObject once: PEM parsing costs more than the signature. */
function cachedPerKey<K extends object>(convert: (key: K) => KeyObject): (key: K) => KeyObject {
  const cache = new WeakMap<K, KeyObject>();
  return (key) => {
    let native = cache.get(key);
    if (!native) {
      native = convert(key);
      cache.set(key, native);
    }
    return native;
  };
}

const nativePrivateKey = cachedPerKey((key: RsaPrivateKey) =>
  createPrivateKey(forge.pki.privateKeyToPem(key)),
);
const nativePublicKey = cachedPerKey((key: RsaPublicKey) => createPublicKey(forge.pki.publicKeyToPem(key)));

/** RSASSA-PKCS1-v1_5 with SHA-256 (RS256). */
export function rsaSignSha256(key: RsaPrivateKey, data: Uint8Array): Buffer {
  return sign('sha256', data, nativePrivateKey(key));
}

export function rsaVerifySha256(key: RsaPublicKey, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify('sha256', data, nativePublicKey(key), signature);
  } catch {
    return false;
  }
}

/** RSASP1 (RFC 8017 §5.2.1): m^d mod n on a block of exactly k octets. */
export function rsasp1(key: RsaPrivateKey, block: Uint8Array): Buffer {
  return privateDecrypt({ key: nativePrivateKey(key), padding: constants.RSA_NO_PADDING }, block);
}

/** RSAVP1 (RFC 8017 §5.2.2): s^e mod n, or undefined when s is out of range. */
export function rsavp1(key: RsaPublicKey, block: Uint8Array): Buffer | undefined {
  try {
    return publicEncrypt({ key: nativePublicKey(key), padding: constants.RSA_NO_PADDING }, block);
  } catch {
    return undefined;
  }
}
