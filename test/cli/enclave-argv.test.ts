// The enclave's own flag parser (no yargs in an enclave process): defaults
// from the environment as --help shows them, numbers and policy checked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enclaveDefaults, parseEnclaveArgv } from '../../src/cli/commands/enclave/argv.ts';
import { runBinary } from '../support/run-cli.ts';

describe('enclave flags without yargs', () => {
  it('takes flags over the environment over the defaults', () => {
    const env = { PKI_DIR: '/pki', ENCLAVE_PORT: '9000', ENCLAVE_POLICY: 'round-robin' };
    assert.deepEqual(parseEnclaveArgv(['--port', '8100', '--cluster-id=blue'], env), {
      ...enclaveDefaults(env),
      port: 8100,
      'cluster-id': 'blue',
    });
    assert.equal(parseEnclaveArgv([], env).policy, 'round-robin');
    assert.equal(parseEnclaveArgv([], {}).port, 8000);
  });

  it('reads a number that is not a whole number as NaN, which validation names', () => {
    assert.ok(Number.isNaN(parseEnclaveArgv(['--port', '80a'], {}).port));
  });

  it('refuses an unknown policy, an unknown flag and a missing value as usage errors', () => {
    for (const argv of [['--policy', 'oldest'], ['--no-such-flag', '1'], ['--pki']]) {
      assert.throws(() => parseEnclaveArgv(argv, {}), { code: 'E_USAGE' }, argv.join(' '));
    }
  });

  it('still runs `enclave checksum` (a subcommand, through yargs)', async () => {
    const result = await runBinary(['enclave', 'checksum']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^[0-9a-f]{64}\n$/);
  });

  it('exits 2 for a bad port, naming it', async () => {
    const result = await runBinary(['enclave', '--pki', '/nonexistent', '--port', 'eighty']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--port/);
  });
});
