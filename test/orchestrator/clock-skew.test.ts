import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CLOCK_DIR,
  clockEnv,
  clockVolumeName,
  faketimeOffset,
  isArmed,
  offsetFile,
  parseOffset,
} from '../../src/orchestrator/clock-skew.ts';

describe('clock skew', () => {
  it('reads signed offsets; a bare number is milliseconds', () => {
    assert.deepEqual(
      ['+2s', '-500ms', '1.5s', '250', '-1m'].map(parseOffset),
      [2000, -500, 1500, 250, -60_000],
    );
  });

  it('refuses what is not a signed duration, or more than an hour', () => {
    assert.throws(() => parseOffset('soon'), {
      code: 'E_USAGE',
      message: /--offset 'soon' must be a signed duration/,
    });
    assert.throws(() => parseOffset('+2h'), { code: 'E_USAGE' });
    assert.throws(() => parseOffset('+61m'), { code: 'E_USAGE', message: /at most 1 hour/ });
  });

  it("writes libfaketime's relative offset in seconds with a sign", () => {
    assert.deepEqual([2000, -250, 0, 1].map(faketimeOffset), ['+2.000', '-0.250', '+0.000', '+0.001']);
  });

  it('preloads libfaketime from the clock volume, one offset file per peer, monotonic time left true', () => {
    assert.deepEqual(clockEnv('peer-3'), [
      `LD_PRELOAD=${CLOCK_DIR}/libfaketime.so.1`,
      `FAKETIME_TIMESTAMP_FILE=${CLOCK_DIR}/peer-3.rc`,
      'FAKETIME_NO_CACHE=1',
      'FAKETIME_DONT_FAKE_MONOTONIC=1',
    ]);
    assert.equal(offsetFile('weird name/..'), `${CLOCK_DIR}/weird_name_...rc`);
    assert.equal(isArmed(['NODE_ENV=production', ...clockEnv('peer-1')]), true);
    assert.equal(isArmed(['NODE_ENV=production']), false);
    assert.equal(isArmed(undefined), false);
  });

  it('names the clock volume after the cluster or the compose project', () => {
    assert.equal(clockVolumeName({ kind: 'name', name: 'demo' }), 'enclave-elect-demo-clock');
    assert.equal(clockVolumeName({ kind: 'project', project: 'p1' }), 'p1-enclave-elect-clock');
  });
});
