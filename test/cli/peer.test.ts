import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { MAIN, runBinary } from '../support/run-cli.ts';

describe('enclave-elect peer', () => {
  it('lists every setting with its environment variable in --help', async () => {
    const result = await runBinary(['peer', '--help']);
    assert.equal(result.code, 0, result.stderr);
    const http = [
      '--admin-headers-timeout-ms',
      '--admin-request-timeout-ms',
      '--admin-idle-timeout-ms',
      '--admin-max-connections',
    ];
    for (const text of [
      '--probe-interval-ms',
      'PROBE_INTERVAL_MS',
      '--join',
      '--gossip-key',
      'GOSSIP_KEY',
      ...http,
    ]) {
      assert.ok(result.stdout.includes(text), text);
    }
  });

  it('exits 2 naming the option when a value is invalid', async () => {
    const result = await runBinary(['peer', '--gossip-port', '0'], { PROBE_INTERVAL_MS: 'soon' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /E_CONFIG.*--probe-interval-ms \(PROBE_INTERVAL_MS\)/);
  });

  it('exits 1 with E_BIND when the gossip port is taken', async () => {
    const { createSocket } = await import('node:dgram');
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const port = String(socket.address().port);
    const result = await runBinary([
      'peer',
      '--bind-address',
      '127.0.0.1',
      '--gossip-port',
      port,
      '--admin-port',
      '0',
    ]);
    socket.close();
    assert.equal(result.code, 1);
    assert.match(result.stderr, /E_BIND.*--gossip-port/);
  });

  it('serves /status and /readyz, and on SIGTERM leaves and exits within a second', async () => {
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'peer',
        '--name',
        'solo',
        '--bind-address',
        '127.0.0.1',
        '--gossip-port',
        '0',
        '--admin-address',
        '127.0.0.1',
        '--admin-port',
        '0',
      ],
      { env: { ...process.env, LOG_PRETTY: '0', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no peer.started in: ${stdout}`)), 10_000);
      child.stdout.on('data', () => {
        const line = stdout.split('\n').find((l) => l.includes('"peer.started"'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line));
        }
      });
    });
    const base = `http://127.0.0.1:${started.adminPort}`;
    const status = (await (await fetch(`${base}/status`)).json()) as Record<string, unknown>;
    assert.equal(status.name, 'solo');
    assert.equal((status.members as unknown[]).length, 1);
    assert.ok('dropped' in (status.counters as object));
    assert.equal((await fetch(`${base}/readyz`)).status, 200, 'a peer with no seeds is a cluster of one');
    assert.match(
      await (await fetch(`${base}/metrics`)).text(),
      /^enclave_elect_members\{state="alive"\} 1$/m,
    );
    const t0 = Date.now();
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
    assert.match(stdout, /"event":"peer.stopped"/);
  });
});
