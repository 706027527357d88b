// Logic of `enclave checksum`: hash the bundle exactly as the enclave will.
import { resolve } from 'node:path';
import {
  BUILT_IN_FUNCTION_PATH,
  functionChecksum,
  readFunctionBundle,
} from '../../../enclave/leader-function.ts';

export interface ChecksumReport {
  checksum: string;
  path: string;
  bytes: number;
  algorithm: 'SHA-256';
}

export function functionChecksumReport(path: string | undefined): ChecksumReport {
  const file = path ? resolve(path) : BUILT_IN_FUNCTION_PATH;
  const bytes = readFunctionBundle(file);
  return { checksum: functionChecksum(bytes), path: file, bytes: bytes.length, algorithm: 'SHA-256' };
}
