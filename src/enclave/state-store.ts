// Sealed persistence of the enclave's epoch state. The state file carries an
// HMAC-SHA256 under a key derived (HKDF) from the attestation private key, so
// a file edited outside the enclave is refused. A separate sealed generation
// counter (standing in for a TEE's hardware monotonic counter) catches a state
// file rolled back to an older, validly sealed copy. Writes are atomic
// (temp file, fsync, rename) and happen before the enclave replies.

import { join } from 'node:path';
import { canonicalJson } from '../crypto/canonical-json.ts';
import type { MemberIdentity } from '../crypto/member-digest.ts';
import { EnclaveElectError } from '../errors.ts';
import { createHmac, hkdfSync, timingSafeEqual } from '../platform/node-crypto.ts';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from '../platform/node-fs.ts';

export const STATE_FILE = 'epoch-state.json';
export const COUNTER_FILE = 'epoch-counter.json';

export interface LeaseRecord {
  epoch: number;
  seq: number;
  leader: MemberIdentity;
  leaseEnd: number;
  /** True once the leader resigned: the lease ended early. */
  ended: boolean;
  /** The certificate last issued for this lease, and the enclave key (kid) that signed it. */
  token: string;
  kid: string;
}

export interface EpochState {
  clusterId: string;
  /** Highest epoch ever issued; only grows. */
  epoch: number;
  /** Write counter; +1 per save. */
  generation: number;
  lease: LeaseRecord | null;
}

export function sealKeyFrom(attestationKeyDer: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', attestationKeyDer, 'enclave-elect/state-seal', 'epoch-state v1', 32));
}

function mac(key: Buffer, body: unknown): string {
  return createHmac('sha256', key).update(canonicalJson(body)).digest('hex');
}

function tampered(path: string, why: string): EnclaveElectError {
  return new EnclaveElectError(
    'E_STATE_TAMPERED',
    `${path} ${why}: refusing to start. Restore the enclave's own state directory, or remove it to start a new epoch lineage (peers then need their known epoch in elect requests).`,
  );
}

export function readSealed(path: string, key: Buffer): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let doc: { v?: unknown; body?: unknown; mac?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    throw tampered(path, 'is not JSON');
  }
  if (doc.v !== 1 || typeof doc.mac !== 'string' || doc.body === null || typeof doc.body !== 'object') {
    throw tampered(path, 'is not a sealed state document');
  }
  let expected: string;
  try {
    expected = mac(key, doc.body);
  } catch {
    throw tampered(path, 'holds values a sealed document cannot');
  }
  const given = Buffer.from(doc.mac, 'hex');
  if (given.length !== 32 || !timingSafeEqual(given, Buffer.from(expected, 'hex'))) {
    throw tampered(path, 'fails its seal (edited, or sealed under another attestation key)');
  }
  return doc.body as Record<string, unknown>;
}

/** Write `body` sealed under `key` to DIR/name, atomically. */
export function writeSealed(dir: string, name: string, key: Buffer, body: unknown): void {
  writeAtomic(dir, name, JSON.stringify({ v: 1, body, mac: mac(key, body) }));
}

function writeAtomic(dir: string, name: string, text: string): void {
  const path = join(dir, name);
  const temp = `${path}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

export class SealedStateStore {
  readonly dir: string;
  readonly #key: Buffer;

  constructor(dir: string, sealKey: Buffer) {
    this.dir = dir;
    this.#key = sealKey;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** The saved state, or undefined for a fresh directory. Throws on tampering or rollback. */
  load(): EpochState | undefined {
    const statePath = join(this.dir, STATE_FILE);
    const counterPath = join(this.dir, COUNTER_FILE);
    const state = readSealed(statePath, this.#key) as EpochState | undefined;
    const counter = readSealed(counterPath, this.#key) as { generation?: number } | undefined;
    if (!state) {
      if (counter) throw tampered(statePath, 'is missing while its generation counter exists');
      return undefined;
    }
    const generation = counter?.generation ?? 0;
    // The state is written before the counter, so after a crash it may be one ahead; never behind.
    if (state.generation < generation) {
      throw new EnclaveElectError(
        'E_STATE_ROLLBACK',
        `${statePath} is generation ${state.generation} but the enclave already wrote generation ${generation}: the state was rolled back; refusing to start`,
      );
    }
    return state;
  }

  save(state: EpochState): void {
    writeAtomic(this.dir, STATE_FILE, JSON.stringify({ v: 1, body: state, mac: mac(this.#key, state) }));
    const counter = { generation: state.generation };
    writeAtomic(
      this.dir,
      COUNTER_FILE,
      JSON.stringify({ v: 1, body: counter, mac: mac(this.#key, counter) }),
    );
  }
}
