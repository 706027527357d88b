// Runs a config resolution expected to fail, checks it failed as a ConfigError
// (E_CONFIG, exit 2) and returns the message for the caller to match.
import assert from 'node:assert/strict';
import { isCoded } from '../../src/errors.ts';

export function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(isCoded(error, 'E_CONFIG'), String(error));
    assert.equal(error.exitCode, 2);
    return error.message;
  }
  assert.fail('expected a ConfigError');
}
