import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AmplificationLimit } from '../../src/peer/amplification-limit.ts';

describe('amplification limit', () => {
  it('lets an unproven address draw at most the bytes it sent', () => {
    const limit = new AmplificationLimit();
    assert.equal(limit.spend('10.0.0.9:1', 1), false, 'nothing before it sent anything');
    limit.received('10.0.0.9:1', 100);
    assert.equal(limit.spend('10.0.0.9:1', 60), true);
    assert.equal(limit.spend('10.0.0.9:1', 60), false, 'only 40 left');
    assert.equal(limit.spend('10.0.0.9:1', 40), true);
    assert.equal(limit.spend('10.0.0.9:1', 1), false);
  });

  it('grants a budget to addresses the peer chose itself', () => {
    const limit = new AmplificationLimit();
    limit.grant('10.0.0.2:7946', 64);
    assert.equal(limit.spend('10.0.0.2:7946', 64), true);
    assert.equal(limit.spend('10.0.0.2:7946', 1), false);
  });

  it('remembers a bounded number of addresses, forgetting the least recently heard (to zero credit)', () => {
    const limit = new AmplificationLimit(3);
    for (const a of ['a:1', 'b:1', 'c:1']) limit.received(a, 10);
    limit.received('a:1', 1);
    limit.received('d:1', 10);
    assert.equal(limit.addresses, 3);
    assert.equal(limit.spend('b:1', 1), false, 'b was forgotten');
    assert.equal(limit.spend('a:1', 11), true);
  });
});
