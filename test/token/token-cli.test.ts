// `enclave-elect token verify`: exit 0 with the token's facts, 1 with the
// reason it was refused, 2 for a usage error; --json prints one document.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PKI_FILES } from '../../src/enclave/pki.ts';
import { runBinary } from '../support/run-cli.ts';
import { startTokenFixture, type TokenFixture } from './token-fixture.ts';

describe('enclave-elect token verify', () => {
  let f: TokenFixture;
  let pins: string[];
  before(async () => {
    f = await startTokenFixture({ productKeys: true }); // the CLI accepts only product-size keys
    pins = ['--root', `${f.pki.dir}/${PKI_FILES.rootCert}`, '--checksum', f.enclave.service.checksum];
  });
  after(() => f.close());

  it('exits 0 and prints one JSON document for a valid token', async () => {
    const result = await runBinary([
      'token',
      'verify',
      ...pins,
      '--cluster',
      'test-cluster',
      '--json',
      f.token,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const document = JSON.parse(result.stdout);
    assert.equal(document.valid, true);
    assert.equal(document.epoch, f.lease.claims.epoch);
    assert.equal(document.seq, f.lease.claims.seq);
    assert.equal(document.leader.name, f.lease.claims.leader.name);
    assert.ok(document.lease_remaining_ms > 0);
  });

  it('exits 1 naming the reason: an older token than --min-epoch, another cluster', async () => {
    const stale = await runBinary([
      'token',
      'verify',
      ...pins,
      '--cluster',
      'test-cluster',
      '--min-epoch',
      String(f.lease.claims.epoch + 1),
      f.token,
    ]);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /refused \[E_TOKEN_STALE\]: .*is older than epoch/);
    const other = await runBinary(['token', 'verify', ...pins, '--json', f.token]);
    assert.equal(other.code, 1);
    assert.deepEqual(JSON.parse(other.stdout), {
      valid: false,
      code: 'E_TOKEN_CLUSTER',
      reason: 'fencing token refused: the token is for cluster test-cluster, not default',
    });
  });

  it('exits 2 without a root, with a bad --min-epoch, or --min-seq alone', async () => {
    const noRoot = await runBinary(['token', 'verify', f.token], { PKI_ROOT: '' });
    assert.equal(noRoot.code, 2);
    assert.match(noRoot.stderr, /needs --root/);
    const negative = await runBinary(['token', 'verify', ...pins, '--min-epoch', '-1', f.token]);
    assert.equal(negative.code, 2);
    assert.match(negative.stderr, /--min-epoch must be a non-negative integer/);
    const seqAlone = await runBinary(['token', 'verify', ...pins, '--min-seq', '3', f.token]);
    assert.equal(seqAlone.code, 2);
    assert.match(seqAlone.stderr, /--min-seq needs --min-epoch/);
  });
});
