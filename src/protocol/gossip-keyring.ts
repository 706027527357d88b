// Cluster keyring for gossip encryption (memberlist's model): every datagram is
// sealed with AES-256-GCM under the primary (first) key; on receipt every
// installed key is tried, so keys can be rotated without a flag day. What is
// sealed binds its destination and time (gossip-codec.ts), and receivers keep
// a replay window (replay-window.ts): a recorded datagram cannot be replayed.
import { createCipheriv, createDecipheriv, randomBytes } from '../platform/node-crypto.ts';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface Keyring {
  /** Bytes sealing adds to a datagram (nonce + tag). */
  readonly overhead: number;
  /** The sealed bytes start with a random nonce this long, unique per seal (replay windows key on it). */
  readonly nonceBytes: number;
  seal(aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** The plaintext, or undefined when no installed key opens it. */
  open(aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined;
}

/** Parse one key: 32 bytes as base64 (44 chars) or hex (64 chars). Returns an error message or the key. */
export function parseGossipKey(text: string): Buffer | string {
  const trimmed = text.trim();
  let key: Buffer;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/]{43}=$/.test(trimmed)) key = Buffer.from(trimmed, 'base64');
  else return 'a key must be 32 bytes written as base64 (44 characters) or hex (64 characters)';
  return key.length === KEY_BYTES ? key : 'a key must be exactly 32 bytes';
}

export function createKeyring(keys: readonly Uint8Array[]): Keyring {
  if (keys.length === 0) throw new Error('a keyring needs at least one key');
  for (const key of keys) if (key.length !== KEY_BYTES) throw new Error('gossip keys are 32 bytes');
  const installed = keys.map((k) => Buffer.from(k));
  const primary = installed[0]!;
  return {
    overhead: NONCE_BYTES + TAG_BYTES,
    nonceBytes: NONCE_BYTES,
    seal(aad, plaintext) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', primary, nonce);
      cipher.setAAD(aad);
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return Buffer.concat([nonce, body, cipher.getAuthTag()]);
    },
    open(aad, sealed) {
      if (sealed.length < NONCE_BYTES + TAG_BYTES) return undefined;
      const nonce = sealed.subarray(0, NONCE_BYTES);
      const tag = sealed.subarray(sealed.length - TAG_BYTES);
      const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
      for (const key of installed) {
        try {
          const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
          decipher.setAAD(aad);
          decipher.setAuthTag(tag);
          return Buffer.concat([decipher.update(body), decipher.final()]);
        } catch {
          // wrong key or tampered: try the next one
        }
      }
      return undefined;
    },
  };
}
