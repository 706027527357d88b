// Our attestation documents and leader certificates, checked by verifiers we
// did not write: the openssl CLI (chain with `openssl verify`, signatures with
// `openssl dgst`, raw RSA with `openssl pkeyutl`) and the `jose` library.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { calculateJwkThumbprint, compactVerify, importSPKI, importX509 } from 'jose';
import { type AttestedEnclave, verifyAttestation } from '../../src/crypto/attestation.ts';
import { decodeBase64url } from '../../src/crypto/base64url.ts';
import type { LeaderCertificate } from '../../src/crypto/leader-certificate.ts';
import { memberDigest } from '../../src/crypto/member-digest.ts';
import { publicJwk } from '../../src/crypto/rsa-keys.ts';
import { mgf1Sha256 } from '../../src/crypto/vrf.ts';

import { initPki, loadRootCertificate, PKI_FILES } from '../../src/enclave/pki.ts';
import {
  electAs,
  makeClient,
  makePeers,
  removeDir,
  startTestEnclave,
  type TestEnclave,
  type TestPki,
  tempDir,
} from '../enclave/fixture.ts';

function pem(label: string, der: Buffer): string {
  const lines = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN ${label}-----\n${lines}\n-----END ${label}-----\n`;
}

function openssl(args: string[]): { status: number | null; out: string } {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: result.status, out: `${result.stdout}${result.stderr}`.trim() };
}

describe('independent verification (openssl, jose) of product-size tokens', () => {
  let pki: TestPki;
  let work: string;
  let enclave: TestEnclave;
  let attestation: string;
  let attested: AttestedEnclave;
  let certificate: LeaderCertificate;
  const nonce = 'c0ffee'.repeat(8);

  before(async () => {
    const dir = tempDir('pki2048');
    initPki(dir); // 2048-bit root and attestation keys, as the product makes them
    pki = { dir, root: loadRootCertificate(dir) };
    work = tempDir('openssl');
    enclave = await startTestEnclave({ pki, keyBits: 2048 });
    attestation = enclave.service.attest(nonce);
    attested = verifyAttestation(attestation, {
      root: pki.root,
      nonce,
      pinnedChecksum: enclave.service.checksum,
      now: new Date(),
    });
    const client = makeClient(enclave, pki, enclave.service.checksum, { minKeyBits: 2048 });
    certificate = await electAs(client, makePeers(1)[0]!);
  });
  after(async () => {
    await enclave.close();
    removeDir(enclave.stateDir);
    removeDir(pki.dir);
    removeDir(work);
  });

  it('openssl verify accepts the x5c chain against the pinned root only', () => {
    const x5c = JSON.parse(Buffer.from(attestation.split('.')[0]!, 'base64url').toString()).x5c as string[];
    writeFileSync(join(work, 'leaf.pem'), pem('CERTIFICATE', Buffer.from(x5c[0]!, 'base64')));
    const ok = openssl(['verify', '-CAfile', join(pki.dir, PKI_FILES.rootCert), join(work, 'leaf.pem')]);
    assert.equal(ok.status, 0, ok.out);
    assert.match(ok.out, /leaf\.pem: OK/);
    const other = tempDir('otherpki');
    initPki(other, { keyBits: 1024 });
    const refused = openssl(['verify', '-CAfile', join(other, PKI_FILES.rootCert), join(work, 'leaf.pem')]);
    assert.notEqual(refused.status, 0);
    removeDir(other);
  });

  it('openssl dgst verifies the attestation signature with the attested certificate key', () => {
    const [h, p, s] = attestation.split('.') as [string, string, string];
    writeFileSync(join(work, 'att-input'), `${h}.${p}`);
    writeFileSync(join(work, 'att-sig'), decodeBase64url(s)!);
    execFileSync('openssl', [
      'x509',
      '-in',
      join(work, 'leaf.pem'),
      '-pubkey',
      '-noout',
      '-out',
      join(work, 'att-pub.pem'),
    ]);
    const args = [
      'dgst',
      '-sha256',
      '-verify',
      join(work, 'att-pub.pem'),
      '-signature',
      join(work, 'att-sig'),
    ];
    const ok = openssl([...args, join(work, 'att-input')]);
    assert.equal(ok.status, 0, ok.out);
    assert.equal(ok.out, 'Verified OK');
    writeFileSync(join(work, 'att-input-bad'), `${h}.${p}x`);
    assert.notEqual(openssl([...args, join(work, 'att-input-bad')]).status, 0);
  });

  it('openssl dgst verifies a leader certificate with the attested public_key', () => {
    writeFileSync(join(work, 'enclave.der'), Buffer.from(attested.claims.public_key, 'base64'));
    execFileSync('openssl', [
      'pkey',
      '-pubin',
      '-inform',
      'DER',
      '-in',
      join(work, 'enclave.der'),
      '-out',
      join(work, 'enclave.pem'),
    ]);
    const [h, p, s] = certificate.compact.split('.') as [string, string, string];
    writeFileSync(join(work, 'cert-input'), `${h}.${p}`);
    writeFileSync(join(work, 'cert-sig'), decodeBase64url(s)!);
    const ok = openssl([
      'dgst',
      '-sha256',
      '-verify',
      join(work, 'enclave.pem'),
      '-signature',
      join(work, 'cert-sig'),
      join(work, 'cert-input'),
    ]);
    assert.equal(ok.status, 0, ok.out);
    assert.equal(ok.out, 'Verified OK');
  });

  it('openssl pkeyutl recovers the VRF encoded message from the proof (RSAVP1)', () => {
    const pi = decodeBase64url(certificate.claims.proof!)!;
    writeFileSync(join(work, 'pi'), pi);
    execFileSync('openssl', [
      'pkeyutl',
      '-verifyrecover',
      '-pubin',
      '-inkey',
      join(work, 'enclave.pem'),
      '-pkeyopt',
      'rsa_padding_mode:none',
      '-in',
      join(work, 'pi'),
      '-out',
      join(work, 'em'),
    ]);
    const recovered = readFileSync(join(work, 'em'));
    const n = Buffer.from(attested.publicKey.export({ format: 'jwk' }).n!, 'base64url');
    assert.equal(n.length, 256, 'a 2048-bit modulus, 256 octets with no leading zero');
    const k = Buffer.alloc(4);
    k.writeUInt32BE(256);
    const alpha = Buffer.from(
      `{"cluster_id":"${certificate.claims.cluster_id}","epoch":${certificate.claims.epoch},"members_digest":"${certificate.claims.members_digest}"}`,
    );
    const em = mgf1Sha256(Buffer.concat([Buffer.from([1, 1]), k, n, alpha]), 255);
    assert.deepEqual(recovered, Buffer.concat([Buffer.from([0]), em]));
  });

  it('jose verifies both tokens, and its RFC 7638 thumbprint equals the kid', async () => {
    const [leaf] = JSON.parse(Buffer.from(attestation.split('.')[0]!, 'base64url').toString())
      .x5c as string[];
    const attestationKey = await importX509(pem('CERTIFICATE', Buffer.from(leaf!, 'base64')), 'RS256');
    const verifiedAttestation = await compactVerify(attestation, attestationKey);
    assert.equal(JSON.parse(new TextDecoder().decode(verifiedAttestation.payload)).nonce, nonce);
    const enclaveKey = await importSPKI(
      pem('PUBLIC KEY', Buffer.from(attested.claims.public_key, 'base64')),
      'RS256',
    );
    const verifiedLease = await compactVerify(certificate.compact, enclaveKey);
    assert.equal(verifiedLease.protectedHeader.kid, certificate.claims.kid);
    assert.equal(await calculateJwkThumbprint(publicJwk(attested.publicKey)), certificate.claims.kid);
    const tampered = `${certificate.compact.slice(0, -4)}AAAA`;
    await assert.rejects(compactVerify(tampered, enclaveKey));
  });

  it('the member digest is SHA-256 of the documented canonical JSON', () => {
    const members = [
      { name: 'b', key: 'k2' },
      { name: 'a', key: 'k1' },
    ];
    const expected = execFileSync('openssl', ['dgst', '-sha256', '-r'], {
      input: '[{"key":"k1","name":"a"},{"key":"k2","name":"b"}]',
    })
      .toString()
      .split(' ')[0];
    assert.equal(memberDigest(members), expected);
  });
});
