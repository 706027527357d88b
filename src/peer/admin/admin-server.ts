// Peer admin HTTP (TCP): GET /status (JSON), /metrics (Prometheus text, prom-client),
// /healthz (the process serves), /readyz (every readiness check passes).
// Readiness is a list of named checks, so later layers (a verified leader
// certificate) add theirs without touching this file.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLimitedServer, type HttpLimits } from '../../http/http-limits.ts';

export interface ReadinessCheck {
  name: string;
  check(): { ready: boolean; detail?: string };
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

export interface AdminServerOptions {
  host: string;
  port: number;
  status(): unknown;
  metrics: { contentType: string; render(): Promise<string> };
  readiness: ReadinessCheck[];
  /** More GET endpoints by exact path (the leader API). */
  routes?: Record<string, RouteHandler>;
  /** Timeouts and the connection cap (http-limits.ts). */
  limits: HttpLimits;
}

export interface StartedAdminServer {
  readonly port: number;
  /** Connections closed at once because the cap was reached. */
  readonly refusedConnections: number;
  close(): Promise<void>;
}

export function evaluateReadiness(checks: readonly ReadinessCheck[]): {
  ready: boolean;
  checks: Record<string, { ready: boolean; detail?: string }>;
} {
  const results = Object.fromEntries(checks.map((c) => [c.name, c.check()]));
  return { ready: Object.values(results).every((r) => r.ready), checks: results };
}

export async function startAdminServer(options: AdminServerOptions): Promise<StartedAdminServer> {
  const limited = createLimitedServer(options.limits, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    try {
      const route = options.routes?.[path ?? ''];
      if (route) {
        route(req, res, new URL(req.url ?? '/', 'http://admin'));
        return;
      }
      switch (path) {
        case '/healthz':
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
          return;
        case '/readyz': {
          const readiness = evaluateReadiness(options.readiness);
          res
            .writeHead(readiness.ready ? 200 : 503, { 'content-type': 'application/json' })
            .end(`${JSON.stringify(readiness)}\n`);
          return;
        }
        case '/status':
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(`${JSON.stringify(options.status())}\n`);
          return;
        case '/metrics':
          options.metrics.render().then(
            (text) => res.writeHead(200, { 'content-type': options.metrics.contentType }).end(text),
            (error: unknown) =>
              res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
          );
          return;
        default:
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`);
    }
  });
  const server = limited.server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    get refusedConnections() {
      return limited.refusedConnections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
