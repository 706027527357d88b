// The leader-choice function bundle: its bytes, their checksum (SHA-256, the
// value attested and pinned), and running it. The bytes that are hashed are the
// bytes that run, in a fresh V8 context with no Node APIs and a time limit.

import { fileURLToPath } from 'node:url';
import type { Policy } from '../crypto/leader-certificate.ts';
import { EnclaveElectError } from '../errors.ts';
import { createHash } from '../platform/node-crypto.ts';
import { readFileSync } from '../platform/node-fs.ts';

export const BUILT_IN_FUNCTION_PATH = fileURLToPath(new URL('./function/leader-choice.js', import.meta.url));
const MAX_BUNDLE_BYTES = 1024 * 1024;
/**
 * node:vm, loaded when a function is first run: a peer imports this module
 * for the checksum alone (pinned-checksum.ts) and need not hold vm.
 */
const vm = () => process.getBuiltinModule('node:vm') as typeof import('node:vm');
// Wall-clock limit against a function that never returns. The built-in one
// takes microseconds, but on a loaded host a run can be descheduled for tens
// of milliseconds (100 ms timed out under the parallel unit suite), so the
// limit is generous.
const RUN_TIMEOUT_MS = 1000;

export interface ChoiceInput {
  policy: Policy;
  /** Candidate names sorted ascending. */
  members: string[];
  epoch: number;
  previousLeader: string | null;
  /** VRF output (hex) for policy vrf, else null. */
  vrfOutput: string | null;
}

export function functionChecksum(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class LeaderFunction {
  readonly path: string;
  readonly checksum: string;
  readonly #context: object;

  private constructor(path: string, bytes: Buffer) {
    this.path = path;
    this.checksum = functionChecksum(bytes);
    this.#context = vm().createContext({});
    try {
      new (vm().Script)(bytes.toString('utf8'), { filename: path }).runInContext(this.#context, {
        timeout: RUN_TIMEOUT_MS,
      });
    } catch (error) {
      throw new EnclaveElectError(
        'E_FUNCTION_INVALID',
        `function bundle ${path} does not load: ${(error as Error).message}`,
      );
    }
    if (vm().runInContext('typeof globalThis.leaderChoice?.choose', this.#context) !== 'function') {
      throw new EnclaveElectError(
        'E_FUNCTION_INVALID',
        `function bundle ${path} defines no leaderChoice.choose`,
      );
    }
  }

  static load(path: string = BUILT_IN_FUNCTION_PATH): LeaderFunction {
    return new LeaderFunction(path, readFunctionBundle(path));
  }

  /** Run the function; the result must be an index into `input.members`. */
  choose(input: ChoiceInput): number {
    const context = this.#context as { __input?: string };
    context.__input = JSON.stringify(input);
    let index: unknown;
    try {
      index = vm().runInContext(
        'globalThis.leaderChoice.choose(JSON.parse(globalThis.__input))',
        this.#context,
        {
          timeout: RUN_TIMEOUT_MS,
        },
      );
    } catch (error) {
      throw new EnclaveElectError(
        'E_FUNCTION_FAILED',
        `leader-choice function failed: ${(error as Error).message}`,
      );
    }
    if (!Number.isSafeInteger(index) || (index as number) < 0 || (index as number) >= input.members.length) {
      throw new EnclaveElectError(
        'E_FUNCTION_FAILED',
        `leader-choice function returned ${String(index)}, not an index`,
      );
    }
    return index as number;
  }
}

export function readFunctionBundle(path: string = BUILT_IN_FUNCTION_PATH): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new EnclaveElectError(
      'E_FUNCTION_INVALID',
      `cannot read function bundle ${path}: ${(error as Error).message}`,
    );
  }
  if (bytes.length > MAX_BUNDLE_BYTES) {
    throw new EnclaveElectError('E_FUNCTION_INVALID', `function bundle ${path} is larger than 1 MiB`);
  }
  return bytes;
}
