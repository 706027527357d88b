import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteWriter } from '../../src/protocol/byte-buffer.ts';

describe('ByteWriter (one shared scratch buffer)', () => {
  it('hands the scratch back when an encoding throws (ByteWriter.encode), so later writers still borrow it', () => {
    assert.equal(ByteWriter.scratchFree, true);
    assert.throws(() => ByteWriter.encode(8, (w) => w.u8(1).u53(2 ** 53)), { name: 'WireFormatError' });
    assert.equal(ByteWriter.scratchFree, true);
    assert.deepEqual([...ByteWriter.encode(8, (w) => w.u16(0x0304))], [3, 4]);
    assert.equal(ByteWriter.scratchFree, true);
  });
  it('keeps writers that are open at once apart, and their results stay as written', () => {
    const outer = new ByteWriter(8).u8(1).u16(0x0203);
    const inner = new ByteWriter(8).u8(9).u32(0x0a0b0c0d);
    outer.u8(4);
    const innerBytes = inner.finish();
    const outerBytes = outer.finish();
    assert.deepEqual([...outerBytes], [1, 2, 3, 4]);
    assert.deepEqual([...innerBytes], [9, 10, 11, 12, 13]);
    // A later writer borrows the scratch again: the bytes handed out before do not change.
    new ByteWriter(8).u8(0xff).u8(0xff).u8(0xff).u8(0xff).u8(0xff).finish();
    assert.deepEqual([...outerBytes], [1, 2, 3, 4]);
    assert.deepEqual([...innerBytes], [9, 10, 11, 12, 13]);
  });

  it('grows past its first capacity, and a writer abandoned by a throw harms no later one', () => {
    const big = new Uint8Array(100_000).fill(7);
    const grown = new ByteWriter(16).u8(1).bytes(big).finish();
    assert.equal(grown.length, 100_001);
    assert.equal(grown[100_000], 7);
    assert.throws(() => new ByteWriter(8).u8(1).u53(-1));
    assert.deepEqual([...new ByteWriter(8).u16(0x0102).finish()], [1, 2]);
  });
});
