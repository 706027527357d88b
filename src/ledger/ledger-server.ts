// HTTP shell of the demo ledger (`enclave-elect ledger`):
//   POST /v1/append   {"token": "<fencing token>", "entry": "..."} -> 200 {index, epoch, seq}
//                     or 409 {"error": {code, message}} (refused token: stale, expired, ...)
//   GET  /v1/entries  the accepted entries, oldest first
//   GET  /v1/stats    accepted, rejected by code, the newest (epoch, seq)
//   GET  /healthz
// Every append is one log event, `ledger.accepted` or `ledger.rejected`, so a
// chaos run can rebuild the ledger's history from its log.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from '../http/node-http.ts';
import type { Logger } from '../log/logger.ts';
import type { Ledger } from './ledger.ts';

const MAX_BODY_BYTES = 256 * 1024;

export interface StartedLedgerServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(`${JSON.stringify(body)}\n`);
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return resolve(undefined);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        resolve(undefined);
      }
    });
    req.on('error', () => resolve(undefined));
  });
}

export async function startLedgerServer(options: {
  ledger: Ledger;
  logger: Logger;
  host: string;
  port: number;
}): Promise<StartedLedgerServer> {
  const { ledger, logger } = options;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && path === '/v1/append') {
      void readJson(req).then((body) => {
        const { token, entry } = (body ?? {}) as { token?: unknown; entry?: unknown };
        const result = ledger.append(token, entry);
        if (result.accepted) {
          const { index, epoch, seq, leader, leaseEnd } = result.entry;
          logger.info({ event: 'ledger.accepted', index, epoch, seq, leader, entry, leaseEnd });
          json(res, 200, { index, epoch, seq });
        } else {
          logger.warn({
            event: 'ledger.rejected',
            code: result.code,
            epoch: result.epoch,
            seq: result.seq,
            newest: ledger.newest,
            entry: typeof entry === 'string' ? entry.slice(0, 128) : null,
            reason: result.reason,
          });
          json(res, 409, { error: { code: result.code, message: result.reason } });
        }
      });
      return;
    }
    if (req.method !== 'GET')
      return json(res, 405, { error: { code: 'E_METHOD_NOT_ALLOWED', message: 'GET, or POST /v1/append' } });
    switch (path) {
      case '/healthz':
        return json(res, 200, { ok: true });
      case '/v1/entries':
        return json(res, 200, { entries: ledger.entries });
      case '/v1/stats':
        return json(res, 200, {
          accepted: ledger.accepted,
          rejected: Object.fromEntries(ledger.rejected),
          newest: ledger.newest,
        });
      default:
        return json(res, 404, { error: { code: 'E_NOT_FOUND', message: `no route ${path}` } });
    }
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ event: 'ledger.listening', port, newest: ledger.newest });
  return {
    url: `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
