import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LeaderCertificate } from '../../../src/crypto/leader-certificate.ts';
import type { EnclaveClient } from '../../../src/enclave/client/enclave-client.ts';
import {
  decodeCertificate,
  encodeFullCertificate,
  encodeRenewal,
} from '../../../src/peer/election/certificate-wire.ts';
import {
  electAs,
  makeClient,
  makePeers,
  makePki,
  removeDir,
  startTestEnclave,
  type TestEnclave,
  type TestPki,
} from '../../enclave/fixture.ts';

describe('leader certificates on the gossip wire', () => {
  let pki: TestPki;
  let enclave: TestEnclave;
  let client: EnclaveClient;
  let granted: LeaderCertificate;
  let renewed: LeaderCertificate;

  before(async () => {
    pki = makePki();
    enclave = await startTestEnclave({ pki, policy: 'vrf' });
    const [peer] = makePeers(1);
    client = makeClient(enclave, pki, enclave.service.checksum);
    granted = await electAs(client, peer!);
    renewed = await client.renew({ certificate: granted, signer: peer!.privateKey });
  });
  after(async () => {
    await enclave.close();
    removeDir(pki.dir);
    removeDir(enclave.stateDir);
  });

  it('round-trips a whole certificate as raw parts, a quarter smaller than its text', () => {
    const wire = encodeFullCertificate(granted.compact);
    const decoded = decodeCertificate(wire, () => undefined);
    assert.deepEqual(decoded, { kind: 'full', compact: granted.compact });
    assert.ok(wire.length < granted.compact.length * 0.8, `${wire.length} vs ${granted.compact.length}`);
  });

  it('sends a renewal as a delta that rebuilds the exact certificate, which verifies', async () => {
    const delta = encodeRenewal(renewed.compact, granted.compact);
    assert.ok(delta, 'a renewal differs only in seq, iat and lease_end');
    assert.ok(delta.length < 300, `delta is ${delta.length} bytes`);
    const decoded = decodeCertificate(delta, (epoch) =>
      epoch === granted.claims.epoch ? granted.compact : undefined,
    );
    assert.equal(decoded.kind, 'renewal');
    assert.equal(decoded.kind === 'renewal' && decoded.compact, renewed.compact);
    const verified = await client.verifyCertificate(renewed.compact);
    assert.equal(verified.claims.seq, 1);
  });

  it('asks for the base when it holds no certificate of that epoch', () => {
    const delta = encodeRenewal(renewed.compact, granted.compact)!;
    assert.deepEqual(
      decodeCertificate(delta, () => undefined),
      {
        kind: 'missing-base',
        epoch: granted.claims.epoch,
        seq: 1,
      },
    );
  });

  it('refuses a delta between different epochs or keys', () => {
    const other = granted.compact.replace(/^[^.]+/, (h) => `${h}x`);
    assert.equal(encodeRenewal(renewed.compact, other), undefined);
  });

  it('a tampered delta rebuilds a certificate that fails verification', async () => {
    const delta = Buffer.from(encodeRenewal(renewed.compact, granted.compact)!);
    delta.writeDoubleBE(delta.readDoubleBE(17) + 60_000, 17); // stretch the lease by a minute
    const decoded = decodeCertificate(delta, () => granted.compact);
    assert.equal(decoded.kind, 'renewal');
    await assert.rejects(client.verifyCertificate(decoded.kind === 'renewal' ? decoded.compact : ''), {
      code: 'E_CERT_INVALID',
    });
  });

  it('never throws on garbage', () => {
    for (const bytes of [[], [1], [1, 0, 5, 1], [2, 0, 0], [9, 9, 9], Array.from({ length: 40 }, () => 2)]) {
      const decoded = decodeCertificate(Uint8Array.from(bytes), () => granted.compact);
      assert.ok(['invalid', 'missing-base', 'renewal', 'full'].includes(decoded.kind));
    }
  });
});
