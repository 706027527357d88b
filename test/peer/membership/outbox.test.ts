// The outbox: how the core's datagrams are filled. Own messages first, then
// urgent rumours, then piggyback-only ones, within the datagram's byte budget;
// gossip rounds only while urgent rumours wait; effects come out in order, once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCoded } from '../../../src/errors.ts';
import { membershipConfig, PEER_DEFAULTS } from '../../../src/peer/config.ts';
import { NEWS_CAPACITY, Outbox } from '../../../src/peer/membership/outbox.ts';

const config = { ...membershipConfig(PEER_DEFAULTS), maxDatagramBytes: 100 };
const OVERHEAD = 4;
const outbox = () => new Outbox({ config, overhead: OVERHEAD, liveCount: () => 10, isProven: () => true });
const bytes = (tag: number, size: number) => new Uint8Array(size).fill(tag);
const sizes = (messages: Uint8Array[]) => messages.map((m) => m.length);

describe('outbox', () => {
  it('fills a datagram with its own messages, then urgent rumours, then piggyback-only ones, then join news', () => {
    const o = outbox();
    o.newsQueue.push('joined', bytes(4, 20));
    o.lazyQueue.push('lazy', bytes(3, 20));
    o.queue.push('urgent', bytes(2, 20));
    o.send('a', [bytes(1, 10)]);
    const [effect] = o.flush();
    assert.ok(effect?.type === 'send');
    assert.equal(effect.to, 'a');
    assert.deepEqual(effect.messages, [bytes(1, 10), bytes(2, 20), bytes(3, 20), bytes(4, 20)]);
    // Join news fills only what is left: here, one message after a 60-byte lazy one.
    const p = outbox();
    p.newsQueue.push('joined-1', bytes(5, 20));
    p.newsQueue.push('joined-2', bytes(5, 20));
    p.lazyQueue.push('lazy-2', bytes(3, 60));
    p.send('b', []);
    const [second] = p.flush();
    assert.ok(second?.type === 'send');
    assert.deepEqual(sizes(second.messages), [60, 20]);
    assert.ok(sizes(second.messages).reduce((x, y) => x + y) + OVERHEAD <= config.maxDatagramBytes);
  });

  it(`holds at most ${NEWS_CAPACITY} join news`, () => {
    const o = outbox();
    for (let i = 0; i < 3 * NEWS_CAPACITY; i++) o.newsQueue.push(`member:${i}`, bytes(1, 20));
    assert.equal(o.newsQueue.size, NEWS_CAPACITY);
    assert.equal(o.pending, NEWS_CAPACITY);
  });

  it('never exceeds the datagram size: what does not fit waits for the next datagram', () => {
    const o = outbox();
    o.queue.push('one', bytes(2, 40));
    o.queue.push('two', bytes(3, 40));
    o.send('a', [bytes(1, 30)]);
    o.send('b', []);
    const [first, second] = o.flush();
    assert.ok(first?.type === 'send' && second?.type === 'send');
    assert.ok(sizes(first.messages).reduce((x, y) => x + y) + OVERHEAD <= config.maxDatagramBytes);
    assert.deepEqual(sizes(first.messages), [30, 40]);
    assert.deepEqual(sizes(second.messages), [40, 40], 'the one left over, and the other sent again');
  });

  it('runs a gossip round only while urgent rumours wait', () => {
    const o = outbox();
    o.lazyQueue.push('renewal', bytes(3, 20));
    o.gossipTo(['a', 'b', 'c']);
    assert.deepEqual(o.flush(), [], 'a piggyback-only rumour starts no round');
    o.queue.push('news', bytes(2, 20));
    o.gossipTo(['a', 'b', 'c']);
    const sent = o.flush();
    assert.deepEqual(
      sent.map((e) => e.type === 'send' && e.to),
      ['a', 'b', 'c'],
    );
  });

  it('sends a state-sync part alone, without rumours', () => {
    const o = outbox();
    o.queue.push('news', bytes(2, 20));
    o.sendAlone('a', bytes(9, 60));
    assert.deepEqual(o.flush(), [{ type: 'send', to: 'a', messages: [bytes(9, 60)] }]);
    assert.equal(o.pending, 1, 'the rumour still waits');
  });

  it('hands out effects in order, each once', () => {
    const o = outbox();
    o.emit({ event: 'member.removed', member: 'x' });
    o.sendAlone('a', bytes(1, 5));
    assert.deepEqual(
      o.flush().map((e) => e.type),
      ['event', 'send'],
    );
    assert.deepEqual(o.flush(), []);
  });

  it('refuses a broadcast no datagram could carry, naming its size and the room', () => {
    const o = outbox();
    assert.throws(
      () => o.broadcast('leader', 'epoch', bytes(0, 200), false),
      (error) =>
        isCoded(error, 'E_PAYLOAD_TOO_LARGE') &&
        /needs \d+ bytes; a datagram has room for 95/.test(error.message),
    );
    assert.equal(o.pending, 0);
    o.broadcast('leader', 'lease', bytes(0, 10), true);
    assert.equal(o.hasRumours, false, 'piggyback-only: no gossip round for it');
    assert.equal(o.pending, 1);
  });
});
