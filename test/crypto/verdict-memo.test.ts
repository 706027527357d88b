import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
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
});
