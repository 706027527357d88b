// The fairness harness as a specification (issue 14): against the real enclave
// service, no scripted strategy lets one malicious member of five win more than
// its share of epochs beyond chance, and every forged, replayed or list-naming
// request is refused. Fewer elections than the bench (npm run bench -- fairness),
// so the bound is looser: M/N + 4 binomial standard deviations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFairness, STRATEGIES } from '../../bench/support/fairness-harness.ts';
import { TEST_KEY_BITS } from './fixture.ts';

const ELECTIONS = 150;

describe('fairness against a malicious minority (M = 1 of 5)', () => {
  for (const strategy of STRATEGIES) {
    it(`keeps the share of epochs within M/N + 4 sigma under “${strategy}”, refusing every illegitimate request`, async () => {
      const result = await runFairness({
        members: 5,
        malicious: 1,
        strategy,
        elections: ELECTIONS,
        keyBits: TEST_KEY_BITS,
      });
      assert.ok(result.elections >= ELECTIONS);
      const bound = result.expected + 4 * result.sigma;
      assert.ok(result.share <= bound, `${strategy}: share ${result.share} above ${bound}`);
      assert.equal(result.wrongfullyAccepted, 0);
    });
  }

  it('counts the refusals each strategy provokes, by code', async () => {
    const replay = await runFairness({
      members: 5,
      malicious: 1,
      strategy: 'replay',
      elections: 20,
      keyBits: TEST_KEY_BITS,
    });
    assert.ok((replay.refused.E_REPLAYED ?? 0) > 0);
    const forged = await runFairness({
      members: 5,
      malicious: 1,
      strategy: 'forge-renewals',
      elections: 20,
      keyBits: TEST_KEY_BITS,
    });
    assert.ok((forged.refused.E_BAD_SIGNATURE ?? 0) > 0);
    const term = await runFairness({
      members: 5,
      malicious: 1,
      strategy: 'max-term',
      elections: 20,
      keyBits: TEST_KEY_BITS,
    });
    assert.ok((term.refused.E_MAX_TERM ?? 0) > 0);
  });
});
