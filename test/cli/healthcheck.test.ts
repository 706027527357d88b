import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runBinary } from '../support/run-cli.ts';

const HEALTHCHECK_ENTRY = fileURLToPath(new URL('../../src/peer/admin/healthcheck.ts', import.meta.url));

describe('enclave-elect healthcheck', () => {
  let server: Server;
  let base: string;

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/healthz') res.writeHead(200).end('ok');
      else res.writeHead(503).end('not ready');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('exits 0 when the endpoint answers 2xx', async () => {
    const result = await runBinary(['healthcheck', '--url', `${base}/healthz`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^200 ok/);
  });

  it('takes the URL from HEALTHCHECK_URL', async () => {
    const result = await runBinary(['healthcheck'], { HEALTHCHECK_URL: `${base}/healthz` });
    assert.equal(result.code, 0, result.stderr);
  });

  it('exits 1 with a coded error when the endpoint answers 5xx', async () => {
    const result = await runBinary(['healthcheck', '--url', `${base}/readyz`]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error \[E_HEALTHCHECK\]: .* answered 503: not ready/);
  });

  it('exits 1 when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await runBinary(['healthcheck', '--url', `http://127.0.0.1:${port}/healthz`]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /E_HEALTHCHECK.*ECONNREFUSED/);
  });

  it('refuses a non-loopback URL with exit 2 and sends nothing', async () => {
    const result = await runBinary(['healthcheck', '--url', 'http://192.0.2.1/healthz']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /must be an http:\/\/ URL on loopback/);
  });

  it('refuses a non-positive timeout with exit 2', async () => {
    const result = await runBinary(['healthcheck', '--timeout-ms', '0']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--timeout-ms must be a positive number/);
  });

  describe('src/peer/admin/healthcheck.ts (the image HEALTHCHECK: no CLI, 10x less CPU)', () => {
    const run = (env: Record<string, string>) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [HEALTHCHECK_ENTRY],
          { env: { ...process.env, ...env } },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
        );
      });

    it('exits 0 on 2xx from HEALTHCHECK_URL', async () => {
      const result = await run({ HEALTHCHECK_URL: `${base}/healthz` });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^200 ok/);
    });

    it('exits 1 on 5xx and on a non-loopback URL, saying why', async () => {
      const sick = await run({ HEALTHCHECK_URL: `${base}/readyz` });
      assert.equal(sick.code, 1);
      assert.match(sick.stderr, /unhealthy: .* answered 503: not ready/);
      const remote = await run({ HEALTHCHECK_URL: 'http://192.0.2.1/healthz' });
      assert.equal(remote.code, 1);
      assert.match(remote.stderr, /unhealthy: --url must be an http:\/\/ URL on loopback/);
    });
  });
});
