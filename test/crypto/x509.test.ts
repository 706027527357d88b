// Chain validation with node:crypto (no forge on a peer): only the pinned
// root is an anchor, every certificate valid at the time given, every issuer
// a CA allowed to sign that deep.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateRsaKeyPair } from '../../src/crypto/rsa-keys.ts';
import {
  type Certificate,
  certificateToX5c,
  createCertificate,
  verifyChainToRoot,
} from '../../src/crypto/x509.ts';

const NOW = new Date('2026-06-01T00:00:00Z');
const rootKeys = generateRsaKeyPair(1024); // test-only size
const leafKeys = generateRsaKeyPair(1024);

function certificate(name: string, issuer: { cert?: Certificate; keys: typeof rootKeys }, isCA: boolean) {
  const keys = generateRsaKeyPair(1024);
  const cert = createCertificate({
    commonName: name,
    publicKey: keys.publicKey,
    ...(issuer.cert ? { issuer: issuer.cert } : {}),
    issuerKey: issuer.keys.privateKey,
    isCA,
    notBefore: NOW,
    validDays: 30,
  });
  return { cert, keys };
}

const root = createCertificate({
  commonName: 'root',
  publicKey: rootKeys.publicKey,
  issuerKey: rootKeys.privateKey,
  isCA: true,
  notBefore: NOW,
  validDays: 365,
});
const leaf = createCertificate({
  commonName: 'leaf',
  publicKey: leafKeys.publicKey,
  issuer: root,
  issuerKey: rootKeys.privateKey,
  isCA: false,
  notBefore: NOW,
  validDays: 30,
});
const x5c = (...certs: Certificate[]) => certs.map(certificateToX5c);
const refused = { code: 'E_X509_CHAIN' };

describe('verifyChainToRoot', () => {
  it('returns the leaf of a chain to the pinned root, with or without a trailing copy of the root', () => {
    for (const chain of [x5c(leaf), x5c(leaf, root)]) {
      const verified = verifyChainToRoot(chain, root, NOW);
      assert.ok(verified.publicKey.equals(leafKeys.publicKey));
    }
  });

  it('refuses a leaf outside its validity period', () => {
    assert.throws(() => verifyChainToRoot(x5c(leaf), root, new Date('2026-08-01T00:00:00Z')), refused);
    assert.throws(() => verifyChainToRoot(x5c(leaf), root, new Date('2026-05-01T00:00:00Z')), refused);
  });

  it('refuses a chain to another root, even with that root in x5c', () => {
    const other = certificate('root', { keys: generateRsaKeyPair(1024) }, true);
    const stranger = certificate('leaf', { cert: other.cert, keys: other.keys }, false);
    assert.throws(() => verifyChainToRoot(x5c(stranger.cert, other.cert), root, NOW), refused);
    assert.throws(() => verifyChainToRoot(x5c(stranger.cert), root, NOW), refused);
  });

  it('refuses a leaf that signs another certificate (not a CA)', () => {
    const below = certificate('below', { cert: leaf, keys: leafKeys }, false);
    assert.throws(() => verifyChainToRoot(x5c(below.cert, leaf), root, NOW), /not a CA|may not sign/);
  });

  it('refuses an intermediate CA below a root whose path length is 0', () => {
    const intermediate = certificate('intermediate', { cert: root, keys: rootKeys }, true);
    const below = certificate('below', { cert: intermediate.cert, keys: intermediate.keys }, false);
    assert.throws(() => verifyChainToRoot(x5c(below.cert, intermediate.cert), root, NOW), /intermediates/);
  });

  it('refuses a tampered signature and entries that are not certificates', () => {
    const der = Buffer.from(leaf.raw);
    der[der.length - 5]! ^= 0xff;
    assert.throws(() => verifyChainToRoot([der.toString('base64')], root, NOW), refused);
    assert.throws(() => verifyChainToRoot(['bm90IGEgY2VydA=='], root, NOW), refused);
    assert.throws(() => verifyChainToRoot([], root, NOW), refused);
  });
});
