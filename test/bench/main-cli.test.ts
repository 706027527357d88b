// `npm run bench`: a bad flag is a usage error (exit 2, saying where the options
// are listed), not a stack trace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

const MAIN = new URL('../../bench/main.ts', import.meta.url).pathname;
const bench = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

describe('bench main', () => {
  it("exits 2 for a suite's bad flag value, naming the flag and --help", () => {
    const r = bench('footprint', '--mode', 'nope');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^bench footprint: --mode must be docker or local\n/);
    assert.match(r.stderr, /npm run bench -- footprint --help/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('exits 2 for a flag the parser refuses', () => {
    const r = bench('footprint', '--no-such-flag');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /no-such-flag/);
  });

  it('exits 2 for an unknown suite, listing the suites', () => {
    const r = bench('no-such-suite');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown suite 'no-such-suite'; suites: .*footprint/);
  });
});
