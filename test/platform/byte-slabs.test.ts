import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allocBytes, bytesEqualAt, keepBytes } from '../../src/platform/byte-slabs.ts';
import { detachRecord, encodeDatagram, encodeMessage } from '../../src/protocol/gossip-codec.ts';

describe('byte slabs (small arrays without an ArrayBuffer each)', () => {
  it('hands out zeroed arrays that share no byte, however many fit in a slab', () => {
    const arrays = Array.from({ length: 2000 }, (_, i) => {
      const a = allocBytes(1 + (i % 37));
      assert.ok(
        a.every((b) => b === 0),
        'zeroed',
      );
      a.fill(i % 251);
      return a;
    });
    for (const [i, a] of arrays.entries())
      assert.ok(
        a.every((b) => b === i % 251),
        `array ${i} kept its bytes`,
      );
    // Neighbours in one slab do not overlap.
    const [x, y] = [allocBytes(5), allocBytes(5)];
    if (x.buffer === y.buffer) {
      assert.ok(x.byteOffset + x.length <= y.byteOffset || y.byteOffset + y.length <= x.byteOffset);
    }
  });

  it('gives a large request an array of its own', () => {
    const big = allocBytes(10_000);
    assert.equal(big.length, 10_000);
    assert.equal(big.byteOffset, 0);
    assert.equal(big.buffer.byteLength, 10_000);
  });

  it('keepBytes copies its parts one after another, and the copy does not follow the source', () => {
    const a = new Uint8Array([1, 2, 3]);
    const b = new Uint8Array([4, 5]);
    const kept = keepBytes(a, b);
    assert.deepEqual([...kept], [1, 2, 3, 4, 5]);
    a[0] = 9;
    assert.equal(kept[0], 1);
    assert.equal(bytesEqualAt(kept, 3, b), true);
    assert.equal(bytesEqualAt(kept, 2, b), false);
    assert.equal(bytesEqualAt(kept, 4, b), false, 'past the end');
  });

  it('encoded messages read back right wherever their slab puts them (length prefix at their own offset)', () => {
    allocBytes(3); // move the slab off an aligned start
    const m = encodeMessage({ type: 'ping', seq: 7, target: 'peer-1', source: 'peer-2' });
    assert.notEqual(m.byteOffset, 0);
    assert.equal((m[1]! << 8) | m[2]!, m.length - 3);
    const datagram = encodeDatagram([m, { type: 'ack', seq: 7 }]);
    assert.equal(datagram[3], 2);
  });

  it('a detached record owns its key and signature: the datagram it came from may be reused', () => {
    const datagram = new Uint8Array(200).fill(7);
    const record = {
      name: 'peer-1',
      address: '10.0.0.1:7946',
      incarnation: 1,
      publicKey: datagram.subarray(10, 42),
      signature: datagram.subarray(50, 114),
    };
    const kept = detachRecord(record);
    datagram.fill(0);
    assert.ok(kept.publicKey.every((b) => b === 7));
    assert.ok(kept.signature!.every((b) => b === 7));
    assert.notEqual(kept.publicKey.buffer, datagram.buffer);
  });
});
