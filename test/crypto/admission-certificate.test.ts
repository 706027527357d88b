import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ADMISSION_TYP,
  type AdmissionClaims,
  admissionVerifiedBefore,
  signAdmission,
  supersedes,
  verifyAdmission,
} from '../../src/crypto/admission-certificate.ts';
import { encodeBase64url } from '../../src/crypto/base64url.ts';
import { signJws } from '../../src/crypto/jws.ts';
import { generateRsaKeyPair, keyId } from '../../src/crypto/rsa-keys.ts';

const keys = generateRsaKeyPair(1024); // test-only size
const kid = keyId(keys.publicKey);
const expect = { clusterId: 'c1', keys: new Map([[kid, keys.publicKey]]), now: 5_000 };

function claims(overrides: Partial<AdmissionClaims> = {}): AdmissionClaims {
  return {
    v: 1,
    cluster_id: 'c1',
    name: 'peer-1',
    key: encodeBase64url(Buffer.alloc(32, 7)),
    address: '172.18.0.3',
    serial: 1_700_000_000_000,
    iat: 1_000,
    exp: 10_000,
    ...overrides,
  };
}

describe('admission certificate', () => {
  it('verifies with an attested key alone and returns the claims', () => {
    const token = signAdmission(claims(), kid, keys.privateKey);
    const verified = verifyAdmission(token, expect);
    assert.deepEqual(verified.claims, claims());
    assert.equal(verified.kid, kid);
  });

  it('is checked once per process, and the memory of it vouches only for that cluster and key', () => {
    const token = signAdmission(claims({ name: 'peer-memo' }), kid, keys.privateKey);
    assert.equal(admissionVerifiedBefore(token, expect), undefined, 'not before the first check');
    verifyAdmission(token, expect);
    assert.equal(admissionVerifiedBefore(token, expect)?.claims.name, 'peer-memo');
    assert.equal(
      admissionVerifiedBefore(token, { ...expect, clusterId: 'c2' }),
      undefined,
      'another cluster',
    );
    const other = generateRsaKeyPair(1024);
    const impostor = { ...expect, keys: new Map([[kid, other.publicKey]]) };
    assert.equal(admissionVerifiedBefore(token, impostor), undefined, 'another key under the same kid');
    assert.throws(() => verifyAdmission(token, impostor), /signature/);
    assert.throws(() => verifyAdmission(token, { ...expect, now: 20_000 }), { code: 'E_ADMISSION_EXPIRED' });
    assert.ok(Object.isFrozen(verifyAdmission(token, expect).claims), 'shared claims cannot be changed');
  });

  it('fits a datagram beside its record even with a 2048-bit enclave key', () => {
    const big = generateRsaKeyPair(2048);
    const token = signAdmission(claims({ name: 'n'.repeat(63) }), keyId(big.publicKey), big.privateKey);
    assert.ok(token.length <= 950, `an admission of ${token.length} bytes`);
  });

  it('refuses a key no attestation vouched for with E_CERT_UNKNOWN_KID (the caller may re-attest)', () => {
    const other = generateRsaKeyPair(1024);
    const token = signAdmission(claims(), keyId(other.publicKey), other.privateKey);
    assert.throws(() => verifyAdmission(token, expect), { code: 'E_CERT_UNKNOWN_KID' });
  });

  it('refuses a kid that names the attested key over a signature by another key', () => {
    const other = generateRsaKeyPair(1024);
    const token = signAdmission(claims(), kid, other.privateKey);
    assert.throws(() => verifyAdmission(token, expect), {
      code: 'E_ADMISSION_INVALID',
      message: /signature/,
    });
  });

  it('refuses an edited claim, another cluster, another typ, and extra or missing claims', () => {
    const token = signAdmission(claims(), kid, keys.privateKey);
    const [h, , s] = token.split('.');
    const edited = `${h}.${encodeBase64url(JSON.stringify(claims({ name: 'peer-2' })))}.${s}`;
    assert.throws(() => verifyAdmission(edited, expect), { code: 'E_ADMISSION_INVALID' });
    const otherCluster = signAdmission(claims({ cluster_id: 'c2' }), kid, keys.privateKey);
    assert.throws(() => verifyAdmission(otherCluster, expect), { message: /cluster c2/ });
    const leaderTyp = signJws(
      { alg: 'RS256', typ: 'enclave-elect-leader+jwt', kid },
      claims(),
      keys.privateKey,
    );
    assert.throws(() => verifyAdmission(leaderTyp, expect), { message: /typ must be/ });
    const extra = signJws(
      { alg: 'RS256', typ: ADMISSION_TYP, kid },
      { ...claims(), admin: true },
      keys.privateKey,
    );
    assert.throws(() => verifyAdmission(extra, expect), { message: /exactly/ });
    const { address: _address, ...missing } = claims();
    const short = signJws({ alg: 'RS256', typ: ADMISSION_TYP, kid }, missing, keys.privateKey);
    assert.throws(() => verifyAdmission(short, expect), { message: /exactly/ });
  });

  it('refuses names outside the one name rule and keys that are not 32 bytes', () => {
    for (const bad of [
      claims({ name: '_ghost' }),
      claims({ name: 'x'.repeat(64) }),
      claims({ key: 'AAAA' }),
    ]) {
      assert.throws(() => verifyAdmission(signAdmission(bad, kid, keys.privateKey), expect), {
        code: 'E_ADMISSION_INVALID',
      });
    }
  });

  it('refuses an expired admission with E_ADMISSION_EXPIRED', () => {
    const token = signAdmission(claims({ exp: 5_000 }), kid, keys.privateKey);
    assert.throws(() => verifyAdmission(token, expect), { code: 'E_ADMISSION_EXPIRED' });
  });

  it('lets a higher serial supersede: a restarted member with a new key', () => {
    assert.equal(supersedes(claims({ serial: 2 }), claims({ serial: 1 })), true);
    assert.equal(supersedes(claims({ serial: 1 }), claims({ serial: 2 })), false);
    assert.equal(supersedes(claims({ serial: 1 }), claims({ serial: 1 })), false);
    assert.equal(supersedes(claims(), undefined), true);
  });
});
