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

  it('with a capacity, drops the rumour sent most often (the oldest of those) to make room', () => {
    const q = new BroadcastQueue(3);
    q.push('a', bytes(1));
    q.push('b', bytes(2));
    q.push('c', bytes(3));
    assert.deepEqual(q.take(10, 5), [bytes(3)], 'c sent once');
    q.push('d', bytes(4));
    assert.equal(q.size, 3);
    assert.deepEqual(q.take(100, 5), [bytes(4), bytes(2), bytes(1)], 'c, the most sent, left');
    // All sent once now: the oldest of them leaves.
    q.push('e', bytes(5));
    assert.deepEqual(q.take(100, 5), [bytes(5), bytes(4), bytes(2)], 'a, the oldest, left');
  });

  it('replaces an older rumour with the same key', () => {
    const q = new BroadcastQueue();
    q.push('member:x', bytes(1));
    q.push('member:x', bytes(2));
    assert.equal(q.size, 1);
    assert.deepEqual(q.take(100, 5), [bytes(2)]);
  });

  it('holds no replaced copies, even when every take spends its whole budget', () => {
    // A lease renewed every other datagram, each filling exactly the room left:
    // the scan never reached the copies it replaced, and 500 of them piled up.
    const q = new BroadcastQueue();
    for (let i = 0; i < 1000; i++) {
      if (i % 2 === 0) q.push('broadcast:leader:lease', bytes(i % 256, 1100));
      q.take(1100, 12);
    }
    assert.equal(q.size, 1);
    assert.equal(q.filed, 1);
    // Echoes retire the copy they replace as well.
    q.push('member:x', bytes(1), 'alive:1');
    for (let i = 0; i < 5; i++) q.heardAgain('member:x', 'alive:1', 1, 12);
    assert.equal(q.filed, 2);
  });

  it('takes at most `count` rumours, and counts a transmission only for those taken', () => {
    const q = new BroadcastQueue();
    for (let i = 1; i <= 4; i++) q.push(`k${i}`, bytes(i));
    assert.deepEqual(q.take(1000, 2, 2), [bytes(4), bytes(3)]);
    assert.deepEqual(q.take(1000, 2, 0), []);
    // k1 and k2 were not sent: they still come first, and k3, k4 have one send left.
    assert.deepEqual(q.take(1000, 2), [bytes(2), bytes(1), bytes(4), bytes(3)]);
    assert.deepEqual(q.take(1000, 2), [bytes(2), bytes(1)]);
    assert.equal(q.size, 0);
  });

  it('fills the byte budget and skips what does not fit', () => {
    const q = new BroadcastQueue();
    q.push('big', bytes(1, 50));
    q.push('small', bytes(2, 10));
    assert.deepEqual(q.take(30, 5), [bytes(2, 10)]);
    assert.deepEqual(q.take(55, 5), [bytes(1, 50)]);
  });
});

describe('broadcast queue echoes', () => {
  it('counts an echo of the same rumour as transmissions, and drops it at the limit', () => {
    const q = new BroadcastQueue();
    q.push('member:a', bytes(1), 'alive:1');
    q.heardAgain('member:a', 'alive:1', 2, 4);
    assert.equal(q.size, 1);
    assert.deepEqual(q.take(100, 4), [bytes(1)], 'still sent: 2 of 4 used');
    q.heardAgain('member:a', 'alive:1', 2, 4);
    assert.equal(q.size, 0, '3 + 2 >= 4: forgotten');
    assert.deepEqual(q.take(100, 4), []);
  });

  it('ignores an echo of other news (another state or incarnation)', () => {
    const q = new BroadcastQueue();
    q.push('member:a', bytes(1), 'alive:2');
    q.heardAgain('member:a', 'alive:1', 10, 4);
    q.heardAgain('member:a', 'suspect:2', 10, 4);
    q.heardAgain('member:b', 'alive:2', 10, 4);
    assert.equal(q.size, 1);
    for (let i = 0; i < 4; i++) assert.deepEqual(q.take(100, 4), [bytes(1)]);
  });

  it('keeps least-sent-first order after an echo', () => {
    const q = new BroadcastQueue();
    q.push('a', bytes(1), 't');
    q.push('b', bytes(2), 't');
    q.heardAgain('b', 't', 2, 10);
    // 'a' (0 sends) goes before 'b' (counted as 2) when only one fits.
    assert.deepEqual(q.take(10, 10), [bytes(1)]);
    assert.deepEqual(q.take(10, 10), [bytes(1)]);
    assert.deepEqual(q.take(10, 10), [bytes(2)], 'now both count 2: the newer first');
  });
});
