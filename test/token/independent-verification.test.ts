// A fencing token checked by verifiers we did not write: the documented
// openssl + coreutils script (scripts/verify-token-openssl.sh, docs/protocol/token.md)
// and the `jose` library, with the pinned root as the only trust anchor.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compactVerify, importSPKI, importX509 } from 'jose';
import { PKI_FILES } from '../../src/enclave/pki.ts';
import { encodeFencingToken, splitFencingToken } from '../../src/token/fencing-token.ts';
import { makePki, removeDir } from '../enclave/fixture.ts';
import { startTokenFixture, type TokenFixture } from './token-fixture.ts';

const SCRIPT = fileURLToPath(new URL('../../scripts/verify-token-openssl.sh', import.meta.url));

function pem(label: string, base64: string): string {
  return `-----BEGIN ${label}-----\n${base64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

describe('fencing token, verified independently', () => {
  let f: TokenFixture;
  let rootPath: string;
  let checksum: string;
  const script = (args: string[]) => {
    const result = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8' });
    return { status: result.status, out: `${result.stdout}${result.stderr}`.trim() };
  };
  before(async () => {
    f = await startTokenFixture({ productKeys: true });
    rootPath = `${f.pki.dir}/${PKI_FILES.rootCert}`;
    checksum = f.enclave.service.checksum;
  });
  after(() => f.close());

  it('the openssl script accepts a valid token and prints its epoch, seq and leader', () => {
    const { epoch, seq, leader } = f.lease.claims;
    const result = script([rootPath, checksum, 'test-cluster', f.token]);
    assert.equal(result.status, 0, result.out);
    assert.equal(result.out, `valid epoch=${epoch} seq=${seq} leader=${leader.name}`);
  });

  it('the openssl script refuses another root, checksum, cluster, a tampered signature and an older token', () => {
    const other = makePki();
    try {
      const [h, p, s] = f.lease.compact.split('.') as [string, string, string];
      const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
      const tampered = encodeFencingToken({
        certificate: `${h}.${p}.${flipped}`,
        attestation: f.attestation,
      });
      const { epoch } = f.lease.claims;
      const cases: [string[], RegExp][] = [
        [[`${other.dir}/${PKI_FILES.rootCert}`, checksum, 'test-cluster', f.token], /pinned root/],
        [[rootPath, 'ab'.repeat(32), 'test-cluster', f.token], /checksum/],
        [[rootPath, checksum, 'other', f.token], /cluster test-cluster is not other/],
        [[rootPath, checksum, 'test-cluster', tampered], /certificate signature/],
        [[rootPath, checksum, 'test-cluster', f.token, String(epoch + 1), '0'], /older/],
      ];
      for (const [args, reason] of cases) {
        const result = script(args);
        assert.equal(result.status, 1, `${reason}: ${result.out}`);
        assert.match(result.out, reason);
      }
    } finally {
      removeDir(other.dir);
    }
  });

  it('jose verifies both parts: the attestation with x5c[0], the certificate with the attested key', async () => {
    const { certificate, attestation } = splitFencingToken(f.token);
    const header = JSON.parse(Buffer.from(attestation.split('.')[0]!, 'base64url').toString());
    const signer = await importX509(pem('CERTIFICATE', header.x5c[0]), 'RS256');
    const evidence = await compactVerify(attestation, signer);
    const attested = JSON.parse(new TextDecoder().decode(evidence.payload));
    assert.equal(attested.user_data.func_checksum, checksum);
    const enclaveKey = await importSPKI(pem('PUBLIC KEY', attested.public_key), 'RS256');
    const verified = await compactVerify(certificate, enclaveKey);
    assert.equal(JSON.parse(new TextDecoder().decode(verified.payload)).epoch, f.lease.claims.epoch);
  });
});
