// The cluster join secret: 32 random bytes that `pki init --join DIR` writes
// once into a directory (a volume) only cluster services mount. A peer proves
// it holds the secret with an HMAC over its admission request; the secret
// itself never travels. Stored as lowercase hex, mode 0600.

import { join } from 'node:path';
import { EnclaveElectError } from '../errors.ts';
import { randomBytes } from '../platform/node-crypto.ts';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from '../platform/node-fs.ts';

export const JOIN_SECRET_FILE = 'join.key';
export const JOIN_SECRET_BYTES = 32;

/** Write DIR/join.key unless it exists (or `force`); returns its path. */
export function createJoinSecret(dir: string, options: { force?: boolean } = {}): string {
  const path = join(dir, JOIN_SECRET_FILE);
  if (existsSync(path) && !options.force) return path;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(path, `${randomBytes(JOIN_SECRET_BYTES).toString('hex')}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/** Read a join secret from its file or from the directory holding join.key. */
export function loadJoinSecret(pathOrDir: string): Buffer {
  const path = pathOrDir.endsWith(JOIN_SECRET_FILE) ? pathOrDir : join(pathOrDir, JOIN_SECRET_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new EnclaveElectError(
      'E_CONFIG',
      `cannot read the join secret ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; run 'enclave-elect pki init --join DIR' first`,
    );
  }
  if (!/^(?:[0-9a-f]{2}){32,}$/.test(text)) {
    throw new EnclaveElectError(
      'E_CONFIG',
      `${path} is not a join secret (at least 32 bytes as lowercase hex); recreate it with 'pki init --join DIR --force'`,
    );
  }
  return Buffer.from(text, 'hex');
}
