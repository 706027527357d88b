// HTTP shell of the mock enclave: routing, body limits, JSON, coded errors,
// one log line per request. All rules live in EnclaveService.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NONCE_PATTERN } from '../crypto/attestation.ts';
import { EnclaveElectError } from '../errors.ts';
import { createLimitedServer, HTTP_LIMIT_DEFAULTS, type HttpLimits } from '../http/http-limits.ts';
import type { Logger } from '../log/logger.ts';
import type { EnclaveService } from './enclave-service.ts';
import { MAX_BODY_BYTES, RequestError } from './requests.ts';

export interface EnclaveServerOptions {
  host?: string;
  port?: number;
  logger: Logger;
  /** Timeouts and the connection cap; ENCLAVE_HTTP_LIMITS unless given. */
  limits?: HttpLimits;
}

/**
 * The enclave's defaults. Its connection cap is higher than a peer's admin
 * port: at a lease's end every peer without a lease asks at once, and the
 * enclave holds those requests until the lease ends.
 */
export const ENCLAVE_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: HTTP_LIMIT_DEFAULTS.headersTimeoutMs.value,
  requestTimeoutMs: HTTP_LIMIT_DEFAULTS.requestTimeoutMs.value,
  idleTimeoutMs: HTTP_LIMIT_DEFAULTS.idleTimeoutMs.value,
  maxConnections: 1024,
};

export interface StartedEnclaveServer extends AsyncDisposable {
  url: string;
  port: number;
  /** Connections closed at once because the cap was reached. */
  readonly refusedConnections: number;
  service: EnclaveService;
  close(): Promise<void>;
}

const POST_ROUTES = {
  '/v1/elect': (s: EnclaveService, body: unknown) => s.elect(body),
  '/v1/renew': (s: EnclaveService, body: unknown) => s.renew(body),
  '/v1/resign': (s: EnclaveService, body: unknown) => s.resign(body),
} as const;

function sendJson(res: ServerResponse, status: number, value: unknown, close = false): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      reject(new RequestError(413, 'E_BODY_TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new RequestError(413, 'E_BODY_TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes`));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function handlePost(service: EnclaveService, req: IncomingMessage, route: keyof typeof POST_ROUTES) {
  return POST_ROUTES[route](service, await readJsonBody(req));
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json(\s*;|$)/i.test(type)) {
    throw new RequestError(415, 'E_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  }
  const raw = await readBody(req);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RequestError(400, 'E_BAD_JSON', 'the request body is not valid JSON');
  }
  return body;
}

/** Admission binds to the TCP source address seen here, never to anything the body says. */
export const ADMIT_PATH = '/v1/admit';

async function handleAdmit(service: EnclaveService, req: IncomingMessage) {
  const body = await readJsonBody(req);
  return service.admit(body, sourceAddress(req.socket.remoteAddress));
}

/** The peer's IP as the socket reports it; an IPv4-mapped IPv6 address is shown as IPv4. */
export function sourceAddress(remote: string | undefined): string {
  if (!remote) throw new RequestError(400, 'E_BAD_REQUEST', 'no source address');
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}

function status(service: EnclaveService) {
  const lease = service.state.lease;
  return {
    cluster_id: service.clusterId,
    policy: service.policy,
    lease_ms: service.leaseMs,
    func_checksum: service.checksum,
    kid: service.kid,
    module_id: service.moduleId,
    epoch: service.state.epoch,
    leader: lease && !lease.ended ? lease.leader.name : null,
    lease_end: lease?.leaseEnd ?? null,
  };
}

async function route(
  service: EnclaveService,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://enclave');
  if (path === ADMIT_PATH) {
    if (req.method !== 'POST') throw new RequestError(405, 'E_METHOD_NOT_ALLOWED', `${path} takes POST`);
    sendJson(res, 200, await handleAdmit(service, req));
    return;
  }
  if (path in POST_ROUTES) {
    if (req.method !== 'POST') throw new RequestError(405, 'E_METHOD_NOT_ALLOWED', `${path} takes POST`);
    sendJson(res, 200, await handlePost(service, req, path as keyof typeof POST_ROUTES));
    return;
  }
  if (req.method !== 'GET') throw new RequestError(405, 'E_METHOD_NOT_ALLOWED', `${path} takes GET`);
  if (path === '/v1/attestation') {
    const nonce = url.searchParams.get('nonce') ?? '';
    if (!NONCE_PATTERN.test(nonce)) {
      throw new RequestError(400, 'E_BAD_NONCE', 'nonce must be 16 to 64 random bytes as lowercase hex');
    }
    const token = service.attest(nonce);
    res.writeHead(200, { 'content-type': 'application/jose', 'cache-control': 'no-store' }).end(token);
  } else if (path === '/v1/status') {
    sendJson(res, 200, status(service));
  } else if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  } else {
    throw new RequestError(404, 'E_NOT_FOUND', `no route ${path}`);
  }
}

export async function startEnclaveServer(
  service: EnclaveService,
  options: EnclaveServerOptions,
): Promise<StartedEnclaveServer> {
  const log = options.logger;
  const limited = createLimitedServer(options.limits ?? ENCLAVE_HTTP_LIMITS, (req, res) => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0]!;
    route(service, req, res, path)
      .catch((error: unknown) => {
        if (error instanceof RequestError) {
          const retryAt = (error as { retryAt?: number }).retryAt;
          sendJson(
            res,
            error.status,
            {
              error: { code: error.code, message: error.message, ...(retryAt ? { retry_at: retryAt } : {}) },
            },
            error.status === 413,
          );
        } else {
          const coded = error instanceof EnclaveElectError;
          log.error({ event: 'enclave.error', path, err: (error as Error).message });
          sendJson(res, 500, {
            error: {
              code: coded ? error.code : 'E_INTERNAL',
              message: coded ? error.message : 'internal error',
            },
          });
        }
      })
      .finally(() => {
        log.info({
          event: 'enclave.request',
          method: req.method,
          path,
          status: res.statusCode,
          ms: Math.round((performance.now() - started) * 10) / 10,
        });
      });
  });
  const server = limited.server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8000, options.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host === undefined || options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  const close = async () => {
    service.close();
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  log.info({
    event: 'enclave.listening',
    port,
    cluster: service.clusterId,
    checksum: service.checksum,
    kid: service.kid,
  });
  return {
    url: `http://${host}:${port}`,
    port,
    service,
    get refusedConnections() {
      return limited.refusedConnections;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
