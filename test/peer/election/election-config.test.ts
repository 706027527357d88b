import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PKI_FILES } from '../../../src/enclave/pki.ts';
import { ELECTION_SETTINGS, resolveElectionConfig } from '../../../src/peer/election/election-config.ts';
import { makePki, removeDir, type TestPki } from '../../enclave/fixture.ts';
import { configError } from '../../support/config-error.ts';

describe('election config', () => {
  let pki: TestPki;
  let rootPath: string;
  before(() => {
    pki = makePki();
    rootPath = join(pki.dir, PKI_FILES.rootCert);
  });
  after(() => removeDir(pki.dir));

  it('gives every setting a variable and a reason', () => {
    for (const [key, setting] of Object.entries(ELECTION_SETTINGS)) {
      assert.ok(setting.reason.length > 20, `${key} needs a reason`);
      assert.match(setting.env, /^[A-Z_]+$/);
    }
  });

  it('is null without an enclave URL: the peer runs membership only', () => {
    assert.equal(resolveElectionConfig({}, {}), null);
  });

  it('takes a flag over the environment over the default', () => {
    const env = {
      ENCLAVE_URL: 'http://enclave:8000/',
      PKI_ROOT: rootPath,
      ENCLAVE_TIMEOUT_MS: '300',
      ASKERS: '4',
    };
    const config = resolveElectionConfig({ 'enclave-timeout-ms': '600', 'cluster-id': 'blue' }, env);
    assert.ok(config);
    assert.equal(config.enclaveUrl, 'http://enclave:8000');
    assert.equal(config.requestTimeoutMs, 600);
    assert.equal(config.clusterId, 'blue');
    assert.equal(config.timing.askers, 4);
    assert.equal(config.rootPath, rootPath);
    assert.equal(config.root.subject.hash, pki.root.subject.hash);
  });

  it('rejects bad values naming the option', () => {
    assert.match(
      configError(() => resolveElectionConfig({ 'enclave-url': 'enclave:8000' }, {})),
      /--enclave-url \(ENCLAVE_URL\).*not an http\(s\) URL/,
    );
    assert.match(
      configError(() => resolveElectionConfig({ 'enclave-url': 'http://enclave:8000' }, {})),
      /--pki-root \(PKI_ROOT\).*required with --enclave-url/,
    );
    assert.match(
      configError(() =>
        resolveElectionConfig({ 'enclave-url': 'http://e', 'pki-root': join(pki.dir, 'none.pem') }, {}),
      ),
      /--pki-root \(PKI_ROOT\).*cannot read a PEM certificate/,
    );
    assert.match(
      configError(() =>
        resolveElectionConfig({}, { ENCLAVE_URL: 'http://e', PKI_ROOT: rootPath, ASKERS: '0' }),
      ),
      /--askers \(ASKERS\).*outside 1\.\.1000/,
    );
    assert.match(
      configError(() => resolveElectionConfig({ 'cluster-id': 'no spaces' }, {})),
      /--cluster-id \(CLUSTER_ID\)/,
    );
  });
});
