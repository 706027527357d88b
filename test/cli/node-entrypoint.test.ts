// The image's entrypoint (src/cli/node-entrypoint.sh) picks node's V8 flags by
// command: --jitless for the long-running peer and enclave, which never use
// fetch; the JIT's baseline tier for every other command, so fetch (undici,
// which needs WebAssembly) keeps working in the healthcheck and ledger writer.
// A stand-in `node` on PATH prints the arguments it was given, one a line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ENTRYPOINT = fileURLToPath(new URL('../../src/cli/node-entrypoint.sh', import.meta.url));
const bin = mkdtempSync(join(tmpdir(), 'ee-entrypoint-'));
writeFileSync(join(bin, 'node'), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
chmodSync(join(bin, 'node'), 0o755);
after(() => rmSync(bin, { recursive: true, force: true }));

function nodeArgs(...args: string[]): string[] {
  const result = spawnSync(ENTRYPOINT, args, { env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.split('\n').slice(0, -1);
}

const CLI = '/app/src/cli/main.js';
/** No JIT, and a V8 heap kept small (see the script's comment for the figures). */
const LEAN = ['--jitless', '--memory-saver-mode', '--bytecode-old-age=1'];

describe('the image entrypoint', () => {
  it('runs a peer and the enclave without any JIT, with a small V8 heap', () => {
    assert.deepEqual(nodeArgs('peer', '--join=peer'), [...LEAN, CLI, 'peer', '--join=peer']);
    assert.deepEqual(nodeArgs('enclave', '--pki', '/pki'), [...LEAN, CLI, 'enclave', '--pki', '/pki']);
  });

  it('runs every other command with baseline code, where fetch works', () => {
    for (const command of ['healthcheck', 'ledger', 'pki', 'token', '--help']) {
      assert.deepEqual(nodeArgs(command, 'x'), ['--no-opt', '--no-maglev', CLI, command, 'x'], command);
    }
  });

  it('passes each argument through whole, spaces and all', () => {
    assert.deepEqual(nodeArgs('peer', '--exec=a b', ''), [...LEAN, CLI, 'peer', '--exec=a b', '']);
  });
});
