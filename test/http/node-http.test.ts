// node:http without undici: an ES import of node:http loads undici (Node's
// fetch, ~14 MB of RSS) through its WebSocket getters; the modules a peer and
// the enclave serve and call HTTP with must not. Checked in a fresh process,
// where process.moduleLoadList names every built-in loaded.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/** Whether importing `specifier` in a fresh ES module process loads undici. */
function loadsUndici(specifier: string): boolean {
  const script = `await import(${JSON.stringify(specifier)});
    process.stdout.write(String(process.moduleLoadList.some((m) => m.includes('undici'))));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout === 'true';
}

const source = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));

describe('node:http without undici', () => {
  it('is what an ES import of node:http costs (the check sees it)', () => {
    assert.equal(loadsUndici('node:http'), true);
  });

  for (const path of [
    'http/node-http.ts',
    'http/http-fetch.ts',
    'http/http-limits.ts',
    'cli/commands/peer/cli.ts',
    'cli/commands/enclave/cli.ts',
  ]) {
    it(`${path} serves and calls HTTP without loading undici`, () => {
      assert.equal(loadsUndici(source(path)), false);
    });
  }
});
