import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BroadcastQueue } from '../../../src/peer/membership/broadcast-queue.ts';

const bytes = (tag: number, size = 10) => new Uint8Array(size).fill(tag);

describe('broadcast queue', () => {
  it('sends each rumour at most `limit` times, then forgets it', () => {
    const q = new BroadcastQueue();
    q.push('a', bytes(1));
    for (let i = 0; i < 3; i++) assert.deepEqual(q.take(100, 3), [bytes(1)]);
    assert.deepEqual(q.take(100, 3), []);
    assert.equal(q.size, 0);
  });

  it('prefers the least sent, then the newest', () => {
    const q = new BroadcastQueue();
    q.push('old', bytes(1));
    q.take(100, 5);
    q.push('new1', bytes(2));
    q.push('new2', bytes(3));
    assert.deepEqual(q.take(20, 5), [bytes(3), bytes(2)], 'unsent first, newest first');
    assert.deepEqual(q.take(10, 5), [bytes(3)], 'then the newest of those sent once');
  });

  it('replaces an older rumour with the same key', () => {
    const q = new BroadcastQueue();
    q.push('member:x', bytes(1));
    q.push('member:x', bytes(2));
    assert.equal(q.size, 1);
    assert.deepEqual(q.take(100, 5), [bytes(2)]);
  });

  it('fills the byte budget and skips what does not fit', () => {
    const q = new BroadcastQueue();
    q.push('big', bytes(1, 50));
    q.push('small', bytes(2, 10));
    assert.deepEqual(q.take(30, 5), [bytes(2, 10)]);
    assert.deepEqual(q.take(55, 5), [bytes(1, 50)]);
  });
});
