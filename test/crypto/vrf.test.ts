import assert from 'node:assert/strict';
import { constants, createHash, createPrivateKey, privateEncrypt } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import forge from 'node-forge';
import { generateRsaKeyPair, type RsaKeyPair } from '../../src/crypto/rsa-keys.ts';
import { vrfIndex, vrfProofToHash, vrfProve, vrfVerify } from '../../src/crypto/vrf.ts';

// RFC 9381 gives test vectors for its ECVRF suites only (Appendix B), none for
// RSA-FDH-VRF; so the proof is checked against an independent computation of
// the RFC's steps: MGF1 written out from RFC 8017 §B.2.1 and RSASP1 by OpenSSL.
const keys1024: RsaKeyPair = generateRsaKeyPair(1024); // test-only size
const keys2048: RsaKeyPair = generateRsaKeyPair(2048);

function referenceProof(keys: RsaKeyPair, alpha: Buffer): Buffer {
  const n = Buffer.from(keys.publicKey.export({ format: 'jwk' }).n!, 'base64url');
  const k = n.length;
  const kBytes = Buffer.alloc(4);
  kBytes.writeUInt32BE(k);
  const seed = Buffer.concat([Buffer.from([0x01, 0x01]), kBytes, n, alpha]);
  let t = Buffer.alloc(0);
  for (let counter = 0; t.length < k - 1; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    t = Buffer.concat([t, createHash('sha256').update(seed).update(c).digest()]);
  }
  const em = t.subarray(0, k - 1);
  const key = createPrivateKey(forge.pki.privateKeyToPem(keys.privateKey));
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, Buffer.concat([Buffer.from([0]), em]));
}

describe('RSA-FDH-VRF (RFC 9381, RSAFDHVRF-SHA256)', () => {
  for (const [bits, keys] of [
    [1024, keys1024],
    [2048, keys2048],
  ] as const) {
    it(`computes the proof of the RFC's steps (${bits}-bit key, independent RSASP1 by OpenSSL)`, () => {
      const alpha = Buffer.from('sample input');
      assert.deepEqual(vrfProve(keys.privateKey, alpha), referenceProof(keys, alpha));
      assert.deepEqual(vrfProve(keys.privateKey, Buffer.alloc(0)), referenceProof(keys, Buffer.alloc(0)));
    });
  }

  it('verifies its proofs and returns beta = SHA-256(0x01 || 0x02 || pi)', () => {
    const alpha = Buffer.from('{"cluster_id":"c","epoch":7}');
    const pi = vrfProve(keys2048.privateKey, alpha);
    assert.equal(pi.length, 256);
    const beta = vrfVerify(keys2048.publicKey, alpha, pi);
    const expected = createHash('sha256')
      .update(Buffer.from([0x01, 0x02]))
      .update(pi)
      .digest();
    assert.deepEqual(beta, expected);
    assert.deepEqual(vrfProofToHash(pi), expected);
  });

  it('is deterministic: one input, one proof; another input, another proof', () => {
    const a = vrfProve(keys1024.privateKey, Buffer.from('a'));
    assert.deepEqual(vrfProve(keys1024.privateKey, Buffer.from('a')), a);
    assert.notDeepEqual(vrfProve(keys1024.privateKey, Buffer.from('b')), a);
  });

  it('refuses a proof with any single bit flipped', () => {
    const alpha = Buffer.from('flip');
    const pi = vrfProve(keys1024.privateKey, alpha);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: pi.length * 8 - 1 }), (bit) => {
        const bad = Buffer.from(pi);
        bad[bit >> 3]! ^= 1 << (bit & 7);
        assert.equal(vrfVerify(keys1024.publicKey, alpha, bad), undefined);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a proof for another input, another key, a wrong length, or a value >= n', () => {
    const alpha = Buffer.from('x');
    const pi = vrfProve(keys1024.privateKey, alpha);
    assert.equal(vrfVerify(keys1024.publicKey, Buffer.from('y'), pi), undefined);
    assert.equal(vrfVerify(keys2048.publicKey, alpha, pi), undefined);
    assert.equal(vrfVerify(keys1024.publicKey, alpha, pi.subarray(1)), undefined);
    assert.equal(vrfVerify(keys1024.publicKey, alpha, Buffer.alloc(pi.length, 0xff)), undefined);
  });

  it('maps beta to an index as OS2IP(beta) mod n', () => {
    const beta = Buffer.alloc(32, 0);
    beta[31] = 10;
    assert.equal(vrfIndex(beta, 3), 1);
    assert.equal(vrfIndex(Buffer.alloc(32, 0xff), 7), Number((2n ** 256n - 1n) % 7n));
    assert.throws(() => vrfIndex(beta, 0), RangeError);
  });
});
