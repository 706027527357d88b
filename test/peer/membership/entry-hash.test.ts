// The pull hash must change with every field a difference can lie in, and
// agree between peers that hold the same entry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryHash, nameHash } from '../../../src/peer/membership/entry-hash.ts';
import type { MemberRecord } from '../../../src/protocol/gossip-messages.ts';

const key = new Uint8Array(32).fill(7);
const base: MemberRecord = { name: 'peer-1', address: '10.0.0.2:7946', incarnation: 5, publicKey: key };

describe('entry hash', () => {
  it('is the same for equal entries, with or without the cached name hash', () => {
    const copy = { ...base, publicKey: new Uint8Array(key) };
    assert.equal(entryHash(base, 'alive'), entryHash(copy, 'alive'));
    assert.equal(entryHash(base, 'alive'), entryHash(base, 'alive', nameHash('peer-1')));
  });

  it('differs in every field: state, incarnation (both halves), address, key, name', () => {
    const h = entryHash(base, 'alive');
    const changed = [
      entryHash(base, 'suspect'),
      entryHash(base, 'dead'),
      entryHash(base, 'left'),
      entryHash({ ...base, incarnation: 6 }, 'alive'),
      entryHash({ ...base, incarnation: 5 + 2 ** 32 }, 'alive'),
      entryHash({ ...base, address: '10.0.0.3:7946' }, 'alive'),
      entryHash({ ...base, publicKey: new Uint8Array(32).fill(7).fill(8, 31) }, 'alive'),
      entryHash({ ...base, name: 'peer-2' }, 'alive'),
    ];
    for (const other of changed) assert.notEqual(other, h);
    assert.equal(new Set(changed).size, changed.length);
  });

  it('is a 30-bit number, a small integer to V8 (not a boxed number in every row of every table)', () => {
    for (let i = 0; i < 1000; i++) {
      const h = entryHash({ ...base, incarnation: i * 977 }, 'alive');
      assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 30, String(h));
      const n = nameHash(`peer-${i}`);
      assert.ok(Number.isInteger(n) && n >= 0 && n < 2 ** 30, String(n));
    }
  });
});
