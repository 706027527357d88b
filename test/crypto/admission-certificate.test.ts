import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  ADMISSION_MAX_BYTES,
  type AdmissionClaims,
  admissionKeyId,
  admissionVerifiedBefore,
  readAdmissionUnverified,
  signAdmission,
  supersedes,
  verifyAdmission,
} from '../../src/crypto/admission-certificate.ts';
import { encodeBase64url } from '../../src/crypto/base64url.ts';

const keys = generateKeyPairSync('ed25519');
const kid = admissionKeyId(keys.publicKey);
const signer = { kid, key: keys.privateKey };
const expect = { clusterId: 'c1', keys: new Map([[kid, keys.publicKey]]), now: 5_000 };

function claims(overrides: Partial<AdmissionClaims> = {}): AdmissionClaims {
  return {
    v: 2,
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

/** The token with `edit` applied to its bytes. */
function edited(token: string, edit: (bytes: Buffer) => void): string {
  const bytes = Buffer.from(token, 'base64url');
  edit(bytes);
  return bytes.toString('base64url');
}

describe('admission certificate', () => {
  it('verifies with an attested admission key alone and returns the claims', () => {
    const token = signAdmission(claims(), signer);
    const verified = verifyAdmission(token, expect);
    assert.deepEqual(verified.claims, claims());
    assert.equal(verified.kid, kid);
    assert.deepEqual(readAdmissionUnverified(token, 'c1'), claims());
  });

  it('is checked once per process, and the memory of it vouches only for that cluster and key', () => {
    const token = signAdmission(claims({ name: 'peer-memo' }), signer);
    assert.equal(admissionVerifiedBefore(token, expect), undefined, 'not before the first check');
    verifyAdmission(token, expect);
    assert.equal(admissionVerifiedBefore(token, expect)?.claims.name, 'peer-memo');
    assert.equal(
      admissionVerifiedBefore(token, { ...expect, clusterId: 'c2' }),
      undefined,
      'another cluster',
    );
    const other = generateKeyPairSync('ed25519');
    const impostor = { ...expect, keys: new Map([[kid, other.publicKey]]) };
    assert.equal(admissionVerifiedBefore(token, impostor), undefined, 'another key under the same kid');
    assert.throws(() => verifyAdmission(token, impostor), /signature/);
    assert.throws(() => verifyAdmission(token, { ...expect, now: 20_000 }), { code: 'E_ADMISSION_EXPIRED' });
    assert.ok(Object.isFrozen(verifyAdmission(token, expect).claims), 'shared claims cannot be changed');
  });

  it('is compact: the largest (63-character name, 45-character address) is at most 235 bytes', () => {
    const largest = signAdmission(claims({ name: 'n'.repeat(63), address: 'a'.repeat(45) }), signer);
    assert.equal(Buffer.from(largest, 'base64url').length, ADMISSION_MAX_BYTES);
    assert.equal(ADMISSION_MAX_BYTES, 235);
    assert.ok(Buffer.from(signAdmission(claims(), signer), 'base64url').length <= 150);
  });

  it('refuses a key no attestation vouched for with E_CERT_UNKNOWN_KID (the caller may re-attest)', () => {
    const other = generateKeyPairSync('ed25519');
    const token = signAdmission(claims(), { kid: admissionKeyId(other.publicKey), key: other.privateKey });
    assert.throws(() => verifyAdmission(token, expect), { code: 'E_CERT_UNKNOWN_KID' });
  });

  it('refuses a kid that names the attested key over a signature by another key', () => {
    const other = generateKeyPairSync('ed25519');
    const token = signAdmission(claims(), { kid, key: other.privateKey });
    assert.throws(() => verifyAdmission(token, expect), {
      code: 'E_ADMISSION_INVALID',
      message: /signature/,
    });
  });

  it('refuses every edited byte, another cluster, another version and bad lengths', () => {
    const token = signAdmission(claims(), signer);
    const length = Buffer.from(token, 'base64url').length;
    for (let i = 0; i < length; i++) {
      const changed = edited(token, (b) => {
        b[i] = b[i]! ^ 0x01;
      });
      assert.throws(() => verifyAdmission(changed, expect), {
        code: /E_ADMISSION_INVALID|E_CERT_UNKNOWN_KID/,
      });
    }
    // The name's first byte made '_', as a forger would try: refused by the rule or the signature.
    const nameAt = 1 + 8 + 20 + 1 + '172.18.0.3'.length + 1;
    assert.throws(
      () =>
        verifyAdmission(
          edited(token, (b) => b.write('_', nameAt, 'latin1')),
          expect,
        ),
      { code: 'E_ADMISSION_INVALID' },
    );
    const otherCluster = signAdmission(claims({ cluster_id: 'c2' }), signer);
    assert.throws(() => verifyAdmission(otherCluster, expect), {
      message: /signature does not verify for cluster c1/,
    });
    assert.throws(() => verifyAdmission(token.slice(0, -4), expect), { code: 'E_ADMISSION_INVALID' });
    assert.throws(() => verifyAdmission(`${token}AAAA`, expect), { code: 'E_ADMISSION_INVALID' });
    assert.throws(() => verifyAdmission('not base64!', expect), { code: 'E_ADMISSION_INVALID' });
    assert.throws(() => verifyAdmission('', expect), { code: 'E_ADMISSION_INVALID' });
  });

  it('is never signed for names outside the one name rule, bad addresses or keys that are not 32 bytes', () => {
    for (const bad of [
      claims({ name: '_ghost' }),
      claims({ name: 'x'.repeat(64) }),
      claims({ address: 'host.example' }),
      claims({ key: 'AAAA' }),
      claims({ serial: 0 }),
      claims({ serial: 2 ** 53 }),
      claims({ exp: 1_000 }),
    ]) {
      assert.throws(() => signAdmission(bad, signer), { code: 'E_ADMISSION_INVALID' });
    }
  });

  it('refuses an expired admission with E_ADMISSION_EXPIRED', () => {
    const token = signAdmission(claims({ exp: 5_000 }), signer);
    assert.throws(() => verifyAdmission(token, expect), { code: 'E_ADMISSION_EXPIRED' });
  });

  it('lets a higher serial supersede: a restarted member with a new key', () => {
    assert.equal(supersedes(claims({ serial: 2 }), claims({ serial: 1 })), true);
    assert.equal(supersedes(claims({ serial: 1 }), claims({ serial: 2 })), false);
    assert.equal(supersedes(claims({ serial: 1 }), claims({ serial: 1 })), false);
    assert.equal(supersedes(claims(), undefined), true);
  });
});
