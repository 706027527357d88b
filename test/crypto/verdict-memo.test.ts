import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  RecordVerdictMemo,
  recordVerdicts,
  signRecord,
  verifyRecordSignature,
} from '../../src/crypto/member-record-signature.ts';
import { VerdictMemo } from '../../src/crypto/verdict-memo.ts';

function rawKey(publicKey: ReturnType<typeof generateKeyPairSync>['publicKey']): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' }) as { x: string };
  return Buffer.from(jwk.x, 'base64url');
}

describe('verdict memo', () => {
  it('keeps at most its capacity, dropping the oldest', () => {
    const memo = new VerdictMemo(2);
    memo.remember('a');
    memo.remember('b');
    memo.remember('c');
    assert.equal(memo.size, 2);
    assert.equal(memo.has('a'), false);
    assert.equal(memo.has('c'), true);
  });

  it('keys differ when the parts are split differently', () => {
    const ab = VerdictMemo.key(Buffer.from('ab'), Buffer.from('c'));
    const a_bc = VerdictMemo.key(Buffer.from('a'), Buffer.from('bc'));
    assert.notEqual(ab, a_bc);
  });

  it('a remembered record signature does not vouch for other bytes or another signature', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const record = { name: 'peer-a', incarnation: 7, address: '10.0.0.1:7946', publicKey: rawKey(publicKey) };
    const signature = signRecord(record, privateKey);
    assert.equal(verifyRecordSignature(record, signature), true);
    const hits = recordVerdicts.hits;
    assert.equal(verifyRecordSignature(record, signature), true);
    assert.equal(recordVerdicts.hits, hits + 1, 'the second check is answered from the memo');
    // The same signature over a raised incarnation, and a flipped signature, still fail.
    assert.equal(verifyRecordSignature({ ...record, incarnation: 8 }, signature), false);
    const flipped = Uint8Array.from(signature);
    flipped[0]! ^= 1;
    assert.equal(verifyRecordSignature(record, flipped), false);
  });

  it('a remembered signature vouches only for the very fields it verified', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const other = rawKey(generateKeyPairSync('ed25519').publicKey);
    const record = { name: 'peer-b', incarnation: 3, address: '10.0.0.2:7946', publicKey: rawKey(publicKey) };
    const signature = signRecord(record, privateKey);
    assert.equal(verifyRecordSignature(record, signature), true);
    assert.equal(recordVerdicts.has(record, signature), true);
    // Each signed field changed alone: no hit, and the real check fails.
    for (const lie of [
      { ...record, name: 'peer-c' },
      { ...record, incarnation: 4 },
      { ...record, address: '10.0.0.9:7946' },
      { ...record, publicKey: other },
      { ...record, publicKey: record.publicKey.subarray(0, 31) },
    ]) {
      assert.equal(recordVerdicts.has(lie, signature), false, JSON.stringify(lie.name));
      assert.equal(verifyRecordSignature(lie, signature), false);
    }
  });

  it('hands back the record as it verified, with its own copies of key and signature', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    // Key and signature as views into one datagram-like buffer, as decoded records hold them.
    const datagram = new Uint8Array(200);
    const key = datagram.subarray(10, 42);
    key.set(rawKey(publicKey));
    const record = { name: 'peer-e', incarnation: 2, address: '10.0.0.4:7946', publicKey: key };
    const signature = datagram.subarray(50, 114);
    signature.set(signRecord(record, privateKey));
    assert.equal(verifyRecordSignature(record, signature), true);
    const kept = recordVerdicts.verified(record, signature);
    assert.ok(kept, 'verified');
    assert.deepEqual(Object.keys(kept), ['name', 'incarnation', 'address', 'publicKey', 'signature']);
    assert.deepEqual([...kept.publicKey], [...key]);
    assert.deepEqual([...kept.signature], [...signature]);
    assert.notEqual(kept.publicKey.buffer, datagram.buffer, 'not a view into the datagram');
    assert.notEqual(kept.signature.buffer, datagram.buffer, 'not a view into the datagram');
    // The datagram's buffer is reused: the kept record does not change.
    datagram.fill(0);
    assert.equal(verifyRecordSignature(kept, kept.signature), true);
    assert.equal(recordVerdicts.verified({ ...record, incarnation: 3 }, kept.signature), undefined);
  });

  it('the record memo keeps at most its capacity', () => {
    const memo = new RecordVerdictMemo(2);
    const record = {
      name: 'peer-d',
      incarnation: 1,
      address: '10.0.0.3:7946',
      publicKey: new Uint8Array(32),
    };
    const sigs = [1, 2, 3].map((b) => new Uint8Array(64).fill(b));
    for (const sig of sigs) memo.remember(record, sig);
    assert.equal(memo.size, 2);
    assert.equal(memo.has(record, sigs[0]!), false);
    assert.equal(memo.has(record, sigs[2]!), true);
  });
});
