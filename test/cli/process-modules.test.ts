// A peer or enclave container runs one process kind; the CLI must load only
// that kind's code. The orchestrator, chaos and dockerode stay on the host:
// loading them into every peer cost about 60 MB of RSS (issue 12). A peer
// also parses its flags without yargs and verifies attestations and leader
// certificates with node:crypto alone, without node-forge (about 5 and 8 MB),
// and loads prom-client only when first scraped (about 7 MB); an enclave parses
// its flags without yargs too.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LOOPBACK_PEER_FLAGS, MAIN, runBinary } from '../support/run-cli.ts';

const RECORDER = fileURLToPath(new URL('../support/record-modules.ts', import.meta.url));
const HOST_ONLY = [/\/node_modules\/dockerode\//, /\/src\/orchestrator\//, /\/src\/chaos\//];
const NOT_IN_A_PEER = [
  /\/node_modules\/yargs\//,
  /\/node_modules\/node-forge\//,
  /\/node_modules\/prom-client\//,
];

const scratch = mkdtempSync(join(tmpdir(), 'ee-modules-'));
const started: ChildProcess[] = [];
after(() => {
  for (const child of started) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  /** The JSON log line with `event`, parsed. */
  line: Record<string, unknown>;
  stderr: () => string;
}

/** Start the CLI with `args` (recording its modules to `record`) and wait for `event` in its JSON logs. */
async function startUntil(args: string[], event: string, record?: string): Promise<Running> {
  const child = spawn(process.execPath, [...(record ? ['--import', RECORDER] : []), MAIN, ...args], {
    env: {
      ...process.env,
      LOG_PRETTY: '0',
      LOG_LEVEL: 'info',
      ...(record ? { RECORD_MODULES_TO: record } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const found = stdout.split('\n').find((l) => l.includes(`"event":"${event}"`));
      if (found) resolve(JSON.parse(found) as Record<string, unknown>);
    });
    child.on('close', (code) => reject(new Error(`exited ${code} before ${event}: ${stderr}`)));
    setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ${event} within 20 s: ${stderr}`));
    }, 20_000).unref();
  });
  return { child, line, stderr: () => stderr };
}

/** Start the CLI with `args`, wait for `event`, ask for the modules it loaded, stop it. */
async function modulesLoadedUntil(args: string[], event: string): Promise<string[]> {
  const record = join(scratch, `modules-${args[0]}-${Date.now()}.txt`);
  const { child, stderr } = await startUntil(args, event, record);
  const exited = new Promise((resolve) => child.on('close', resolve));
  child.kill('SIGUSR2');
  for (let waited = 0; !existsSync(record); waited += 20) {
    if (waited > 10_000) throw new Error(`no module list from the process: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const urls = readFileSync(record, 'utf8').split('\n');
  child.kill('SIGKILL');
  await exited;
  return urls;
}

const matching = (urls: string[], patterns: RegExp[]) =>
  urls.filter((url) => patterns.some((pattern) => pattern.test(url)));

describe('modules a process kind loads', () => {
  const pki = join(scratch, 'pki');
  before(async () => {
    const init = await runBinary(['pki', 'init', '--out', pki]);
    assert.equal(init.code, 0, init.stderr);
  });

  it('a running enclave loads no dockerode, orchestrator, chaos or yargs code', async () => {
    const urls = await modulesLoadedUntil(
      ['enclave', '--pki', pki, '--state-dir', join(scratch, 'state'), '--host', '127.0.0.1', '--port', '0'],
      'enclave.listening',
    );
    assert.ok(
      urls.some((url) => url.includes('/src/enclave/')),
      'the recorder saw the enclave code',
    );
    assert.deepEqual(matching(urls, HOST_ONLY), []);
    assert.deepEqual(matching(urls, [/\/node_modules\/yargs\//]), []);
  });

  it('a peer that attested the enclave loaded no dockerode, orchestrator, chaos, yargs, node-forge or prom-client code', async () => {
    const enclave = await startUntil(
      [
        'enclave',
        '--pki',
        pki,
        '--state-dir',
        join(scratch, 'state-2'),
        '--host',
        '127.0.0.1',
        '--port',
        '0',
      ],
      'enclave.listening',
    );
    const urls = await modulesLoadedUntil(
      [
        'peer',
        '--name',
        'lean',
        ...LOOPBACK_PEER_FLAGS,
        '--enclave-url',
        `http://127.0.0.1:${enclave.line.port}`,
        '--pki-root',
        join(pki, 'root.crt.pem'),
      ],
      'enclave.attested',
    );
    enclave.child.kill('SIGKILL');
    assert.ok(
      urls.some((url) => url.includes('/src/crypto/attestation.')),
      'the recorder saw the verification code',
    );
    assert.deepEqual(matching(urls, HOST_ONLY), []);
    assert.deepEqual(matching(urls, NOT_IN_A_PEER), []);
    // node:crypto, whose ES import loads WebCrypto through its getters (src/platform),
    // and two built-ins a peer does not run. (node:fs and node:util are require()d by
    // pino's stream, which reads no getter; the recorder cannot tell the two apart.)
    assert.deepEqual(matching(urls, [/^node:(crypto|vm|child_process)$/]), []);
    assert.ok(
      urls.includes('node:dgram'),
      `the recorder sees built-in imports: ${urls.filter((u) => u.startsWith('node:'))}`,
    );
  });
});
