import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  RecordVerifier,
  recordSigningBytes,
  signRecord,
  verifyRecordSignature,
} from '../../src/crypto/member-record-signature.ts';

function member(name: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32));
  return { privateKey, record: { name, incarnation: 7, address: '10.0.0.1:7946', publicKey: raw } };
}

describe('signed member records', () => {
  const alice = member('alice');
  const mallory = member('mallory');
  const signature = signRecord(alice.record, alice.privateKey);

  it('verifies a record signed by its own key, and nothing else about it', () => {
    assert.equal(signature.length, 64);
    assert.equal(verifyRecordSignature(alice.record, signature), true);
    for (const changed of [
      { ...alice.record, incarnation: 2 ** 40 },
      { ...alice.record, address: '10.6.6.6:7946' },
      { ...alice.record, name: 'alicf' },
    ]) {
      assert.equal(verifyRecordSignature(changed, signature), false, JSON.stringify(changed.name));
    }
  });

  it("refuses identity theft: the attacker's key with the attacker's signature is a valid record only of a key the admission does not name", () => {
    const stolen = { ...alice.record, incarnation: 2 ** 53 - 1, publicKey: mallory.record.publicKey };
    const forged = signRecord(stolen, mallory.privateKey);
    // The signature checks out against the key inside the record: admission decides whose key that is.
    assert.equal(verifyRecordSignature(stolen, forged), true);
    assert.notDeepEqual(stolen.publicKey, alice.record.publicKey);
    assert.equal(verifyRecordSignature({ ...stolen, publicKey: alice.record.publicKey }, forged), false);
  });

  it('keeps signed fields apart: a name cannot slide into the address', () => {
    const a = recordSigningBytes({ ...alice.record, name: 'ab', address: 'c' });
    const b = recordSigningBytes({ ...alice.record, name: 'a', address: 'bc' });
    assert.notDeepEqual(a, b);
  });

  it('checks each record once per process, and a refused one once per member and incarnation', () => {
    // A member no other test verified: the memo is per process.
    const carol = member('carol');
    const good = signRecord(carol.record, carol.privateKey);
    const verifier = new RecordVerifier();
    for (let i = 0; i < 5; i++) assert.equal(verifier.verify(carol.record, good), true);
    assert.deepEqual([verifier.checks, verifier.hits], [1, 4]);
    // Another peer's verifier in this process: answered by the memo.
    const other = new RecordVerifier();
    assert.equal(other.verify(carol.record, good), true);
    assert.deepEqual([other.checks, other.hits], [0, 1]);
    const bad = new Uint8Array(good);
    bad[0]! ^= 1;
    assert.equal(verifier.verify(carol.record, bad), false);
    assert.equal(verifier.verify(carol.record, bad), false);
    assert.equal(verifier.checks, 2, 'a forged signature sent twice is checked once');
    assert.equal(verifier.verify(carol.record, good), true);
    assert.equal(verifier.checks, 2, 'the good one is still remembered');
    // The remembered verdict vouches for exactly those fields: the same signature
    // over a record moved to another address, or naming another key, is checked and refused.
    assert.equal(verifier.verify({ ...carol.record, address: '10.9.9.9:7946' }, good), false);
    const otherKey = new Uint8Array(carol.record.publicKey);
    otherKey[0]! ^= 1;
    assert.equal(verifier.verify({ ...carol.record, publicKey: otherKey }, good), false);
    assert.equal(verifier.checks, 4);
    assert.equal(verifier.verify(carol.record, good), true);
  });

  it('refuses a signature of the wrong length or a key that is not Ed25519', () => {
    assert.equal(verifyRecordSignature(alice.record, signature.subarray(0, 63)), false);
    assert.equal(verifyRecordSignature({ ...alice.record, publicKey: new Uint8Array(31) }, signature), false);
  });
});
