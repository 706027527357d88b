import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUILT_IN_FUNCTION_PATH, functionChecksum } from '../../src/enclave/leader-function.ts';
import { MAIN, runBinary } from '../support/run-cli.ts';
import { removeDir, tempDir } from './fixture.ts';

describe('enclave-elect pki init', () => {
  let dir: string;
  before(() => {
    dir = join(tempDir('cli-pki'), 'pki');
  });
  after(() => removeDir(join(dir, '..')));

  it('writes the root and attestation certificates, keys 0600, and refuses to overwrite without --force', async () => {
    const first = await runBinary(['pki', 'init', '--out', dir, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const report = JSON.parse(first.stdout) as { files: string[]; root_fingerprint: string };
    assert.equal(report.files.length, 4);
    for (const name of ['root.key.pem', 'attestation.key.pem']) {
      assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
    }
    const again = await runBinary(['pki', 'init', '--out', dir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /E_CONFLICT.*--force/);
    const forced = await runBinary(['pki', 'init', '--out', dir, '--force', '--json']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(JSON.parse(forced.stdout).root_fingerprint, report.root_fingerprint);
    assert.doesNotMatch(first.stdout + forced.stdout, /PRIVATE KEY/);
  });

  it('exits 2 without --out', async () => {
    const result = await runBinary(['pki', 'init'], { PKI_DIR: '' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--out/);
  });

  it('--if-missing keeps a complete PKI, refuses a partial one, and --publish copies only the root', async () => {
    const work = tempDir('cli-pki-once');
    try {
      const keys = join(work, 'keys');
      const trust = join(work, 'trust');
      const first = await runBinary([
        'pki',
        'init',
        '--out',
        keys,
        '--if-missing',
        '--publish',
        trust,
        '--json',
      ]);
      assert.equal(first.code, 0, first.stderr);
      const again = await runBinary(['pki', 'init', '--out', keys, '--if-missing', '--json']);
      assert.equal(again.code, 0, again.stderr);
      const [a, b] = [JSON.parse(first.stdout), JSON.parse(again.stdout)];
      assert.equal(a.created, true);
      assert.equal(b.created, false);
      assert.equal(b.root_fingerprint, a.root_fingerprint, 'the PKI was kept');
      assert.deepEqual(readdirSync(trust), ['root.crt.pem']);
      assert.equal(
        readFileSync(join(trust, 'root.crt.pem'), 'utf8'),
        readFileSync(join(keys, 'root.crt.pem'), 'utf8'),
      );
      const both = await runBinary(['pki', 'init', '--out', keys, '--if-missing', '--force']);
      assert.equal(both.code, 2);
      rmSync(join(keys, 'root.key.pem'));
      const partial = await runBinary(['pki', 'init', '--out', keys, '--if-missing']);
      assert.equal(partial.code, 1);
      assert.match(partial.stderr, /incomplete PKI \(3 of 4 files\)/);
    } finally {
      removeDir(work);
    }
  });

  it('--join creates the cluster join secret once (0600, never printed) and keeps it on later runs', async () => {
    const work = tempDir('cli-pki-join');
    try {
      const args = ['pki', 'init', '--out', join(work, 'keys'), '--if-missing', '--join', join(work, 'join')];
      const first = await runBinary([...args, '--json']);
      assert.equal(first.code, 0, first.stderr);
      const secretPath = join(work, 'join', 'join.key');
      assert.equal(JSON.parse(first.stdout).join_secret, secretPath);
      assert.equal(statSync(secretPath).mode & 0o777, 0o600);
      const secret = readFileSync(secretPath, 'utf8').trim();
      assert.match(secret, /^[0-9a-f]{64}$/);
      assert.ok(!first.stdout.includes(secret), 'the secret is not printed');
      const again = await runBinary(args);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(readFileSync(secretPath, 'utf8').trim(), secret);
      assert.deepEqual(readdirSync(join(work, 'keys')).includes('join.key'), false);
    } finally {
      removeDir(work);
    }
  });
});

describe('enclave-elect enclave', () => {
  let work: string;
  before(async () => {
    work = tempDir('cli-enclave');
    const init = await runBinary(['pki', 'init', '--out', join(work, 'pki')]);
    assert.equal(init.code, 0, init.stderr);
  });
  after(() => removeDir(work));

  it('checksum prints SHA-256 of the built-in bundle, or of --function', async () => {
    const builtIn = await runBinary(['enclave', 'checksum']);
    assert.equal(builtIn.code, 0, builtIn.stderr);
    assert.equal(builtIn.stdout.trim(), functionChecksum(readFileSync(BUILT_IN_FUNCTION_PATH)));
    const other = join(work, 'other.js');
    writeFileSync(other, `${readFileSync(BUILT_IN_FUNCTION_PATH, 'utf8')}\n// changed\n`);
    const changed = await runBinary(['enclave', 'checksum', '--function', other, '--json']);
    assert.equal(JSON.parse(changed.stdout).checksum, functionChecksum(readFileSync(other)));
  });

  it('exits 2 naming a bad option', async () => {
    const result = await runBinary(['enclave', '--pki', join(work, 'pki'), '--lease-ms', '5']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--lease-ms/);
    // A max term shorter than two leases would refuse a leader's first renewals.
    const term = await runBinary([
      'enclave',
      '--pki',
      join(work, 'pki'),
      '--lease-ms',
      '2000',
      '--max-term',
      '3000',
    ]);
    assert.equal(term.code, 2);
    assert.match(term.stderr, /--max-term/);
    const slow = await runBinary(['enclave', '--pki', join(work, 'pki'), '--max-connections', '0']);
    assert.equal(slow.code, 2);
    assert.match(slow.stderr, /--max-connections/);
  });

  it('lists its HTTP timeouts and connection cap in --help', async () => {
    const help = await runBinary(['enclave', '--help']);
    assert.equal(help.code, 0, help.stderr);
    for (const option of [
      '--headers-timeout-ms',
      '--request-timeout-ms',
      '--idle-timeout-ms',
      '--max-connections',
    ]) {
      assert.ok(help.stdout.includes(option), option);
    }
  });

  it('serves on the port it logs, and stops on SIGTERM with exit 0', async () => {
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'enclave',
        '--pki',
        join(work, 'pki'),
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--state-dir',
        join(work, 'state'),
      ],
      { env: { ...process.env, LOG_PRETTY: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let buffer = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          buffer += chunk;
          for (const line of buffer.split('\n')) {
            if (line.includes('enclave.listening')) resolve((JSON.parse(line) as { port: number }).port);
          }
        });
        child.on('exit', (code) => reject(new Error(`enclave exited ${code}`)));
      });
      const status = (await (await fetch(`http://127.0.0.1:${port}/v1/status`)).json()) as {
        epoch: number;
        policy: string;
      };
      assert.equal(status.epoch, 0);
      assert.equal(status.policy, 'vrf');
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
