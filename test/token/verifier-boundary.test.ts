// The verifier a resource server imports stands alone: following its imports
// from src/token/verify-token.ts reaches only src/token, src/crypto,
// src/errors.ts, node built-ins (src/platform takes some of them) and
// node-forge (X.509) — never the peer, the enclave service or the CLI.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);
}

describe('token verifier boundary', () => {
  it('reaches only src/token, src/crypto, src/errors.ts, node built-ins (src/platform) and node-forge', () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    const queue = [join(ROOT, 'src/token/verify-token.ts')];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const spec of importsOf(file)) {
        if (spec.startsWith('.')) queue.push(join(dirname(file), spec));
        else packages.add(spec);
      }
    }
    const files = [...seen].map((f) => relative(ROOT, f)).sort();
    assert.ok(files.length > 5, `followed only ${files.join(', ')}`);
    assert.deepEqual(
      files.filter((f) => !/^src\/(token|crypto|platform)\/[^/]+\.ts$/.test(f) && f !== 'src/errors.ts'),
      [],
    );
    assert.deepEqual(
      [...packages].filter((p) => !p.startsWith('node:') && p !== 'node-forge'),
      [],
    );
  });
});
