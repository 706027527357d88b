// httpFetch: the fetch subset the enclave client relies on, over node:http,
// with fetch's way of failing (timeouts by the signal's reason, network
// errors as TypeError with the socket error as cause).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { httpFetch } from '../../src/http/http-fetch.ts';

let server: Server;
let base: string;

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 500);
      if (req.url === '/missing') {
        res.writeHead(404, 'Not Found', { 'content-type': 'application/json' });
        return void res.end('{"error":{"code":"E_NOT_FOUND"}}');
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, body, type: req.headers['content-type'] ?? null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

describe('httpFetch', () => {
  it('sends method, headers and body and reads the JSON answer', async () => {
    const response = await httpFetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: '{"a":1}',
    });
    assert.equal(response.ok, true);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { method: 'POST', body: '{"a":1}', type: 'application/json' });
  });

  it('answers a non-2xx status with ok false, status text and body', async () => {
    const response = await httpFetch(`${base}/missing`);
    assert.equal(response.ok, false);
    assert.equal(response.status, 404);
    assert.equal(response.statusText, 'Not Found');
    assert.deepEqual(await response.json(), { error: { code: 'E_NOT_FOUND' } });
  });

  it('rejects with a TimeoutError when the signal times out', async () => {
    await assert.rejects(httpFetch(`${base}/slow`, { signal: AbortSignal.timeout(50) }), {
      name: 'TimeoutError',
    });
  });

  it('rejects an unreachable server with TypeError whose cause names the socket error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      httpFetch(`http://127.0.0.1:${port}/`),
      (error: Error & { cause?: { code?: string } }) => {
        assert.equal(error.name, 'TypeError');
        assert.equal(error.cause?.code, 'ECONNREFUSED');
        return true;
      },
    );
  });

  it('refuses URLs that are not http:', async () => {
    await assert.rejects(httpFetch('https://127.0.0.1/'), /http: only/);
  });
});
