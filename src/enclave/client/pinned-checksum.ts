// Which function checksum a peer pins when the operator names none: the one
// the image recorded at build time (FUNCTION_CHECKSUM at the package root,
// /app/FUNCTION_CHECKSUM in the image), else that of the built-in bundle in
// this checkout. An explicit pin (flag or ENCLAVE_CHECKSUM) always wins.

import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../errors.ts';
import { readFileSync } from '../../platform/node-fs.ts';
import { functionChecksum, readFunctionBundle } from '../leader-function.ts';

export const IMAGE_CHECKSUM_FILE = fileURLToPath(new URL('../../../FUNCTION_CHECKSUM', import.meta.url));
const CHECKSUM = /^[0-9a-f]{64}$/;

export interface PinnedChecksum {
  checksum: string;
  source: 'explicit' | 'image' | 'built-in';
}

export function resolvePinnedChecksum(
  explicit: string | undefined = process.env.ENCLAVE_CHECKSUM,
  imageFile: string = IMAGE_CHECKSUM_FILE,
): PinnedChecksum {
  if (explicit !== undefined && explicit !== '') {
    const checksum = explicit.trim().toLowerCase();
    if (!CHECKSUM.test(checksum))
      throw new ConfigError('enclave checksum', 'must be 64 hex digits (SHA-256)');
    return { checksum, source: 'explicit' };
  }
  let recorded: string | undefined;
  try {
    recorded = readFileSync(imageFile, 'utf8').trim();
  } catch {
    recorded = undefined;
  }
  if (recorded !== undefined) {
    if (!CHECKSUM.test(recorded)) throw new ConfigError(imageFile, 'must hold one SHA-256 checksum in hex');
    return { checksum: recorded, source: 'image' };
  }
  return { checksum: functionChecksum(readFunctionBundle()), source: 'built-in' };
}
