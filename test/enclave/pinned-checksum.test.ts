import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolvePinnedChecksum } from '../../src/enclave/client/pinned-checksum.ts';
import { BUILT_IN_FUNCTION_PATH, functionChecksum } from '../../src/enclave/leader-function.ts';
import { removeDir, tempDir } from './fixture.ts';

const BUILT_IN = functionChecksum(readFileSync(BUILT_IN_FUNCTION_PATH));

describe('the pinned function checksum', () => {
  let dir: string;
  before(() => {
    dir = tempDir('pin');
  });
  after(() => removeDir(dir));

  it('is the checksum the image recorded at build time when present', () => {
    const file = join(dir, 'FUNCTION_CHECKSUM');
    writeFileSync(file, `${'ab'.repeat(32)}\n`);
    assert.deepEqual(resolvePinnedChecksum('', file), { checksum: 'ab'.repeat(32), source: 'image' });
  });

  it('lets an explicit pin win over the image', () => {
    const file = join(dir, 'FUNCTION_CHECKSUM');
    writeFileSync(file, 'ab'.repeat(32));
    assert.deepEqual(resolvePinnedChecksum('CD'.repeat(32), file), {
      checksum: 'cd'.repeat(32),
      source: 'explicit',
    });
  });

  it('falls back to the built-in bundle outside an image', () => {
    assert.deepEqual(resolvePinnedChecksum(undefined, join(dir, 'absent')), {
      checksum: BUILT_IN,
      source: 'built-in',
    });
  });

  it('refuses a malformed pin or recorded file naming the option', () => {
    assert.throws(() => resolvePinnedChecksum('xyz', join(dir, 'absent')), { code: 'E_CONFIG' });
    const file = join(dir, 'BAD');
    writeFileSync(file, 'not a checksum');
    assert.throws(() => resolvePinnedChecksum('', file), { code: 'E_CONFIG', message: /BAD/ });
  });
});
