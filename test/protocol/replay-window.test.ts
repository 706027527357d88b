import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ReplayWindow } from '../../src/protocol/replay-window.ts';

describe('replay window', () => {
  it('accepts a nonce once within the window', () => {
    const window = new ReplayWindow(1000);
    const nonce = randomBytes(12);
    assert.equal(window.check(5000, nonce, 5000), undefined);
    assert.equal(window.check(5000, nonce, 5100), 'replayed');
    assert.equal(window.check(5000, randomBytes(12), 5100), undefined);
  });

  it('refuses times further than the window from its clock, either way', () => {
    const window = new ReplayWindow(1000);
    assert.equal(window.check(3999, randomBytes(12), 5000), 'stale');
    assert.equal(window.check(6001, randomBytes(12), 5000), 'stale');
    assert.equal(window.check(4000, randomBytes(12), 5000), undefined);
  });

  it('forgets nonces once they are too old to pass the time check', () => {
    const window = new ReplayWindow(1000);
    for (let t = 0; t < 100; t++) window.check(t * 100, randomBytes(12), t * 100);
    assert.ok(window.size <= 11, `holds ${window.size}`);
  });

  it('stays bounded under a flood, and a forgotten nonce still cannot be replayed', () => {
    const window = new ReplayWindow(60_000, 100);
    const first = randomBytes(12);
    assert.equal(window.check(1000, first, 1000), undefined);
    for (let i = 0; i < 1000; i++) assert.equal(window.check(1001 + i, randomBytes(12), 2000), undefined);
    assert.equal(window.size, 100);
    assert.equal(window.check(1000, first, 2000), 'stale', 'below the floor the eviction raised');
  });
});
