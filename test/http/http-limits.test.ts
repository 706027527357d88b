// Every HTTP server of the project cuts off slow clients and caps connections:
// issue 13 found a client sending one byte every 2 s held a peer's admin
// connection for ever, and no cap on how many it could open.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { HttpLimits } from '../../src/http/http-limits.ts';
import { startAdminServer } from '../../src/peer/admin/admin-server.ts';
import { makePki, removeDir, startTestEnclave } from '../enclave/fixture.ts';

const LIMITS: HttpLimits = {
  headersTimeoutMs: 2500,
  requestTimeoutMs: 3500,
  idleTimeoutMs: 1000,
  maxConnections: 4,
};
/** Node's own slack on top of a timeout (its checking period and the close handshake). */
const SLACK_MS = 1500;

interface Outcome {
  /** When the server closed the connection, ms after it opened. */
  closedAfterMs: number;
  /** What the server wrote before closing. */
  reply: string;
}

/** Open a connection, write `head`, then one byte of `drip` every `everyMs`; resolve when the server closes it. */
function slowClient(port: number, head: string, drip: string, everyMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < drip.length && socket.writable) socket.write(drip[sent++]!);
    }, everyMs);
    socket.on('connect', () => {
      if (head) socket.write(head);
      socket.write(drip[sent++]!);
    });
    socket.on('data', (chunk) => {
      reply += chunk.toString();
    });
    socket.on('error', () => {
      // a reset after the server gave up also ends the client
    });
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ closedAfterMs: Date.now() - started, reply });
    });
    setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      reject(new Error('the server never closed the slow connection'));
    }, 30_000).unref();
  });
}

/** Open `count` idle connections and wait until each is established or closed. */
async function openConnections(
  port: number,
  count: number,
): Promise<{ sockets: Socket[]; closed: boolean[] }> {
  const sockets: Socket[] = [];
  const closed: boolean[] = [];
  for (let i = 0; i < count; i++) {
    const socket = connect(port, '127.0.0.1');
    closed.push(false);
    socket.on('close', () => {
      closed[i] = true;
    });
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    sockets.push(socket);
  }
  // The server accepts and then closes a connection over its cap: give it a moment.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { sockets, closed };
}

async function answersGet(port: number, path: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: 'close' } });
  await response.text();
  return response.status;
}

/** The same behaviour asked of each server. */
function limitsSpec(
  name: string,
  start: () => Promise<{ port: number; refused: () => number; close(): Promise<void> }>,
) {
  describe(`${name} HTTP limits`, { concurrency: 1 }, () => {
    let server: Awaited<ReturnType<typeof start>>;
    before(async () => {
      server = await start();
    });
    after(() => server.close());

    it('cuts off a client sending its headers one byte every 2 s (slowloris)', async () => {
      const outcome = await slowClient(
        server.port,
        'GET /healthz HTTP/1.1\r\n',
        'x-slow: aaaaaaaaaaaaaaaa',
        2000,
      );
      assert.ok(
        outcome.closedAfterMs >= LIMITS.headersTimeoutMs - 100,
        `closed after ${outcome.closedAfterMs} ms`,
      );
      assert.ok(
        outcome.closedAfterMs <= LIMITS.headersTimeoutMs + SLACK_MS,
        `closed after ${outcome.closedAfterMs} ms`,
      );
      assert.match(outcome.reply, /^HTTP\/1\.1 408 /);
    });

    it('cuts off a client sending its body one byte every 2 s', async () => {
      const head =
        'POST /v1/elect HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n';
      const outcome = await slowClient(server.port, head, '{'.repeat(100), 2000);
      assert.ok(
        outcome.closedAfterMs <= LIMITS.requestTimeoutMs + SLACK_MS,
        `closed after ${outcome.closedAfterMs} ms`,
      );
    });

    it('refuses connections over its cap and serves again once they close', async () => {
      const before = server.refused();
      const { sockets, closed } = await openConnections(server.port, LIMITS.maxConnections + 2);
      try {
        assert.deepEqual(
          closed,
          [...Array(LIMITS.maxConnections).fill(false), true, true],
          'the first maxConnections stay open, the rest are closed at once',
        );
        assert.equal(server.refused() - before, 2, 'each refusal is counted');
      } finally {
        for (const socket of sockets) socket.destroy();
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(await answersGet(server.port, '/healthz'), 200);
    });
  });
}

// The two servers' checks wait on timeouts, not CPU: run them side by side.
describe('HTTP limits on every server', { concurrency: 2 }, () => {
  limitsSpec('peer admin', async () => {
    const admin = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      status: () => ({}),
      metrics: { contentType: 'text/plain', render: async () => '' },
      readiness: [],
      limits: LIMITS,
    });
    return { port: admin.port, refused: () => admin.refusedConnections, close: () => admin.close() };
  });

  limitsSpec('enclave', async () => {
    const pki = makePki();
    const enclave = await startTestEnclave({ pki, httpLimits: LIMITS });
    return {
      port: enclave.port,
      refused: () => enclave.refusedConnections,
      close: async () => {
        await enclave.close();
        removeDir(enclave.stateDir);
        removeDir(pki.dir);
      },
    };
  });
});
