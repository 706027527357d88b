import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeBase64url } from '../../src/crypto/base64url.ts';
import { CertificateVerifier } from '../../src/crypto/certificate-cache.ts';
import { signJws } from '../../src/crypto/jws.ts';
import {
  CERTIFICATE_TYP,
  type LeaderClaims,
  signLeaderCertificate,
  verifyCertificate,
  vrfAlpha,
} from '../../src/crypto/leader-certificate.ts';
import { memberDigest, sortMembers } from '../../src/crypto/member-digest.ts';
import { generateRsaKeyPair, keyId } from '../../src/crypto/rsa-keys.ts';
import { vrfIndex, vrfProofToHash, vrfProve } from '../../src/crypto/vrf.ts';

const keys = generateRsaKeyPair(1024); // test-only size
const kid = keyId(keys.publicKey);
const CHECKSUM = 'ab'.repeat(32);
const members = ['a', 'b', 'c', 'd'].map((name) => ({
  name,
  key: encodeBase64url(Buffer.alloc(32, name.charCodeAt(0))),
}));
const expect = { clusterId: 'c1', pinnedChecksum: CHECKSUM, keys: new Map([[kid, keys.publicKey]]) };

function vrfClaims(epoch = 3): LeaderClaims {
  const sorted = sortMembers(members);
  const digest = memberDigest(sorted);
  const proof = vrfProve(keys.privateKey, vrfAlpha('c1', epoch, digest));
  const index = vrfIndex(vrfProofToHash(proof), sorted.length);
  return {
    v: 1,
    cluster_id: 'c1',
    epoch,
    seq: 0,
    leader: sorted[index]!,
    members_digest: digest,
    member_count: sorted.length,
    leader_index: index,
    policy: 'vrf',
    proof: encodeBase64url(proof),
    func_checksum: CHECKSUM,
    kid,
    iat: 1000,
    lease_end: 3000,
  };
}

describe('leader certificate verification', () => {
  it('accepts a well-formed certificate with a valid VRF choice', () => {
    const claims = vrfClaims();
    const token = signLeaderCertificate(claims, keys.privateKey);
    assert.deepEqual(verifyCertificate(token, expect), {
      compact: token,
      hash: createHash('sha256').update(token).digest('hex'),
      claims,
    });
  });

  it('refuses, even when properly signed, a wrong cluster, pin, VRF index, proof, or highest-id choice', () => {
    const claims = vrfClaims();
    const otherIndex = (claims.leader_index + 1) % claims.member_count;
    const cases: [string, LeaderClaims, RegExp][] = [
      ['cluster', { ...claims, cluster_id: 'c2' }, /cluster c2/],
      ['pin', { ...claims, func_checksum: 'cd'.repeat(32) }, /pin/],
      ['index', { ...claims, leader_index: otherIndex }, /not the VRF choice/],
      ['proof', { ...claims, proof: vrfClaims(4).proof }, /VRF proof/],
      ['no proof', { ...claims, proof: null }, /VRF proof/],
      ['highest-id', { ...claims, policy: 'highest-id', proof: null, leader_index: 0 }, /last sorted/],
      ['lease', { ...claims, lease_end: 10 }, /lease_end/],
    ];
    for (const [what, bad, message] of cases) {
      assert.throws(
        () => verifyCertificate(signLeaderCertificate(bad, keys.privateKey), expect),
        {
          code: 'E_CERT_INVALID',
          message,
        },
        what,
      );
    }
  });

  it('refuses claims naming another kid than the header', () => {
    const header = { alg: 'RS256' as const, typ: CERTIFICATE_TYP, kid };
    const token = signJws(header, { ...vrfClaims(), kid: 'other' }, keys.privateKey);
    assert.throws(() => verifyCertificate(token, expect), {
      code: 'E_CERT_INVALID',
      message: /kid in claims/,
    });
  });

  it('refuses a certificate signed by an unattested key with E_CERT_UNKNOWN_KID', () => {
    const stranger = generateRsaKeyPair(1024);
    const claims = { ...vrfClaims(), kid: keyId(stranger.publicKey) };
    assert.throws(() => verifyCertificate(signLeaderCertificate(claims, stranger.privateKey), expect), {
      code: 'E_CERT_UNKNOWN_KID',
    });
  });

  it('caches by token hash: a second verification costs no signature check', () => {
    const verifier = new CertificateVerifier(expect);
    const token = signLeaderCertificate(vrfClaims(), keys.privateKey);
    verifier.verify(token);
    verifier.verify(token);
    assert.deepEqual([verifier.misses, verifier.hits], [1, 1]);
    const bad = `${token.slice(0, -3)}AAA`;
    assert.throws(() => verifier.verify(bad), { code: 'E_CERT_INVALID' });
    assert.throws(() => verifier.verify(bad), { code: 'E_CERT_INVALID' });
    assert.deepEqual([verifier.misses, verifier.hits], [2, 2]);
  });
});
