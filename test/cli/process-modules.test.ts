// A peer or enclave container runs one process kind; the CLI must load only
// that kind's code. The orchestrator, chaos and dockerode stay on the host:
// loading them into every peer cost about 60 MB of RSS (issue 12).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MAIN, runBinary } from '../support/run-cli.ts';

const RECORDER = fileURLToPath(new URL('../support/record-modules.ts', import.meta.url));
const HOST_ONLY = [/\/node_modules\/dockerode\//, /\/src\/orchestrator\//, /\/src\/chaos\//];

const scratch = mkdtempSync(join(tmpdir(), 'ee-modules-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Start the CLI with `args`, wait for `event` in its JSON logs, ask for the modules it loaded, stop it. */
async function modulesLoadedUntil(args: string[], event: string): Promise<string[]> {
  const record = join(scratch, `modules-${args[0]}-${Date.now()}.txt`);
  const child = spawn(process.execPath, ['--import', RECORDER, MAIN, ...args], {
    env: { ...process.env, LOG_PRETTY: '0', LOG_LEVEL: 'info', RECORD_MODULES_TO: record },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes(`"event":"${event}"`)) resolve();
    });
    child.on('close', (code) => reject(new Error(`exited ${code} before ${event}: ${stderr}`)));
    setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ${event} within 20 s: ${stderr}`));
    }, 20_000).unref();
  });
  child.kill('SIGUSR2');
  for (let waited = 0; !existsSync(record); waited += 20) {
    if (waited > 10_000) throw new Error(`no module list from the process: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const urls = readFileSync(record, 'utf8').split('\n');
  child.kill('SIGKILL');
  await exited;
  return urls;
}

function hostOnlyModules(urls: string[]): string[] {
  return urls.filter((url) => HOST_ONLY.some((pattern) => pattern.test(url)));
}

describe('modules a process kind loads', () => {
  it('a running peer loads no dockerode, orchestrator or chaos code', async () => {
    const urls = await modulesLoadedUntil(
      [
        'peer',
        '--name',
        'lean',
        '--bind-address',
        '127.0.0.1',
        '--gossip-port',
        '0',
        '--admin-address',
        '127.0.0.1',
        '--admin-port',
        '0',
      ],
      'peer.started',
    );
    assert.ok(
      urls.some((url) => url.includes('/src/peer/')),
      'the recorder saw the peer code',
    );
    assert.deepEqual(hostOnlyModules(urls), []);
  });

  it('a running enclave loads no dockerode, orchestrator or chaos code', async () => {
    const pki = join(scratch, 'pki');
    const init = await runBinary(['pki', 'init', '--out', pki]);
    assert.equal(init.code, 0, init.stderr);
    const urls = await modulesLoadedUntil(
      ['enclave', '--pki', pki, '--state-dir', join(scratch, 'state'), '--host', '127.0.0.1', '--port', '0'],
      'enclave.listening',
    );
    assert.ok(
      urls.some((url) => url.includes('/src/enclave/')),
      'the recorder saw the enclave code',
    );
    assert.deepEqual(hostOnlyModules(urls), []);
  });
});
