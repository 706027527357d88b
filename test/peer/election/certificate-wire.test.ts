import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  decodeCertificate,
  encodeFullCertificate,
  encodeRenewal,
} from '../../../src/peer/election/certificate-wire.ts';
import { EnclaveAuthority } from '../../../src/peer/election/enclave-authority.ts';
import type { ElectionCertificate } from '../../../src/peer/election/types.ts';
import {
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
  let authority: EnclaveAuthority;
  let granted: ElectionCertificate;
  let renewed: ElectionCertificate;

  before(async () => {
    pki = makePki();
    enclave = await startTestEnclave({ pki, policy: 'vrf' });
    const [peer] = makePeers(1);
    const client = makeClient(enclave, pki, enclave.service.checksum);
    authority = new EnclaveAuthority(client, peer!.privateKey, peer!.name);
    granted = await authority.elect([{ name: peer!.name, publicKey: peer!.key }], 0, 0);
    renewed = await authority.renew(granted);
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
      epoch === granted.epoch ? granted.compact : undefined,
    );
    assert.equal(decoded.kind, 'renewal');
    assert.equal(decoded.kind === 'renewal' && decoded.compact, renewed.compact);
    const verified = await authority.verify(renewed.compact);
    assert.equal(verified.seq, 1);
  });

  it('asks for the base when it holds no certificate of that epoch', () => {
    const delta = encodeRenewal(renewed.compact, granted.compact)!;
    assert.deepEqual(
      decodeCertificate(delta, () => undefined),
      {
        kind: 'missing-base',
        epoch: granted.epoch,
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
    await assert.rejects(authority.verify(decoded.kind === 'renewal' ? decoded.compact : ''), {
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
