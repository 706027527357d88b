import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CANDIDACY_DEFAULTS } from '../../../src/enclave/enclave-service.ts';
import { candidacyRefreshMs } from '../../../src/peer/election/timing.ts';

const names = (n: number) => Array.from({ length: n }, (_, i) => `peer-${i + 1}`);
/** Candidacy refreshes a second, cluster-wide, when every follower refreshes on its own period. */
const rate = (n: number) => names(n - 1).reduce((sum, name) => sum + 1000 / candidacyRefreshMs(n, name), 0);

describe('candidacy refresh period', () => {
  it('keeps every member standing: each refresh lands inside the enclave window with time to spare', () => {
    for (const n of [1, 5, 50, 200, 10_000]) {
      for (const name of names(Math.min(n, 300))) {
        const ms = candidacyRefreshMs(n, name);
        assert.ok(ms <= CANDIDACY_DEFAULTS.windowMs - 20_000, `${name} of ${n}: ${ms} ms`);
        assert.ok(ms >= 24_000, `${name} of ${n}: ${ms} ms`);
      }
    }
  });

  it('costs the enclave at most ~2/3 request a second at N = 50 (renewals take 2 of the 3/s budget)', () => {
    assert.ok(rate(50) <= 0.7, `${rate(50).toFixed(2)}/s at N = 50`);
    assert.ok(rate(5) <= 0.2, `${rate(5).toFixed(2)}/s at N = 5`);
  });
});
