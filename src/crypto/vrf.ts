// RSA-FDH-VRF, ciphersuite RSAFDHVRF-SHA256 (suite_string 0x01), exactly as
// RFC 9381 §5: the proof is the RSA signature primitive (RSASP1) applied to a
// full-domain hash built with MGF1-SHA256; the output (beta) is SHA-256 of the
// proof. Deterministic for a key and input, so the enclave cannot pick among
// outcomes, and anyone holding the public key can check a proof.
import { hash } from '../platform/node-crypto.ts';
import { publicKeyOf, rsasp1, rsavp1 } from './native-rsa.ts';
import { modulusBytes, publicJwk, type RsaPrivateKey, type RsaPublicKey } from './rsa-keys.ts';

const SUITE_STRING = Buffer.from([0x01]);
const ONE_STRING = Buffer.from([0x01]);
const TWO_STRING = Buffer.from([0x02]);

function sha256(...parts: Uint8Array[]): Buffer {
  // One-shot hashing: a Hash object per block cost more than the RSA operation
  // when a resource server verifies thousands of tokens a second.
  return hash('sha256', parts.length === 1 ? parts[0]! : Buffer.concat(parts), 'buffer');
}

/** I2OSP (RFC 8017 §4.1) for a non-negative value that fits in `length` octets. */
function i2osp(value: bigint, length: number): Buffer {
  const hex = value.toString(16).padStart(length * 2, '0');
  if (hex.length > length * 2) throw new RangeError('integer too large');
  return Buffer.from(hex, 'hex');
}

/** MGF1 with SHA-256 (RFC 8017 §B.2.1). */
export function mgf1Sha256(seed: Uint8Array, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0; blocks.length * 32 < length; counter++) {
    blocks.push(sha256(seed, i2osp(BigInt(counter), 4)));
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function modulusBigInt(key: RsaPublicKey): bigint {
  return BigInt(`0x${Buffer.from(publicJwk(key).n, 'base64url').toString('hex')}`);
}

const salts = new WeakMap<RsaPublicKey, Buffer>();

/** RFC 9381 §5.4 MGF_salt for suites 0x01-0x03: I2OSP(k, 4) || I2OSP(n, k); once per key. */
function mgfSalt(key: RsaPublicKey): Buffer {
  let salt = salts.get(key);
  if (!salt) {
    const k = modulusBytes(key);
    salt = Buffer.concat([i2osp(BigInt(k), 4), i2osp(modulusBigInt(key), k)]);
    salts.set(key, salt);
  }
  return salt;
}

/** EM = MGF1(suite_string || one_string || MGF_salt || alpha_string, k - 1). */
function encodedMessage(key: RsaPublicKey, alpha: Uint8Array): Buffer {
  const seed = Buffer.concat([SUITE_STRING, ONE_STRING, mgfSalt(key), alpha]);
  return mgf1Sha256(seed, modulusBytes(key) - 1);
}

/** RSAFDHVRF_prove (RFC 9381 §5.1): pi_string of k octets. */
export function vrfProve(privateKey: RsaPrivateKey, alpha: Uint8Array): Buffer {
  const em = encodedMessage(publicKeyOf(privateKey), alpha);
  // m = OS2IP(EM) < 256^(k-1) <= n; s = RSASP1(K, m); pi = I2OSP(s, k).
  return rsasp1(privateKey, Buffer.concat([Buffer.from([0]), em]));
}

/** RSAFDHVRF_proof_to_hash (RFC 9381 §5.2): beta = SHA-256(suite || 0x02 || pi). */
export function vrfProofToHash(pi: Uint8Array): Buffer {
  return sha256(SUITE_STRING, TWO_STRING, pi);
}

/** RSAFDHVRF_verify (RFC 9381 §5.3): beta when the proof is valid, else undefined. */
export function vrfVerify(publicKey: RsaPublicKey, alpha: Uint8Array, pi: Uint8Array): Buffer | undefined {
  const k = modulusBytes(publicKey);
  if (pi.length !== k) return undefined;
  // RSAVP1 refuses s >= n (signature representative out of range).
  const block = rsavp1(publicKey, pi);
  if (block === undefined) return undefined;
  // EM = I2OSP(m, k - 1) fails when m >= 256^(k-1): the leading octet must be 0.
  if (block.length !== k || block[0] !== 0) return undefined;
  const expected = encodedMessage(publicKey, alpha);
  return block.subarray(1).equals(expected) ? vrfProofToHash(pi) : undefined;
}

/** The index a VRF output selects among `count` items: OS2IP(beta) mod count. */
export function vrfIndex(beta: Uint8Array, count: number): number {
  if (!Number.isSafeInteger(count) || count <= 0) throw new RangeError('count must be a positive integer');
  return Number(BigInt(`0x${Buffer.from(beta).toString('hex')}`) % BigInt(count));
}
