// The leader API on the peer's admin port (docs/leader-api.md):
//   GET /v1/leader          the current leadership as JSON
//   GET /v1/leader/watch    Server-Sent Events: the current state first, then each change
//                           (?renewals=1 adds renewals)
//   GET /v1/token           this peer's fencing token while it acts as leader, else 409
import type { ServerResponse } from 'node:http';
import type { LeaderEvent } from '../leadership/leader-events.ts';
import type { LeaderWatch } from '../leadership/leader-watch.ts';
import { hasLiveLeader, type LeadershipSource } from '../leadership/leadership-view.ts';
import type { RouteHandler } from './admin-server.ts';

/** Comment lines keep idle streams open through proxies and idle timeouts. */
export const HEARTBEAT_MS = 15_000;
/** What an EventSource waits before reconnecting. */
const RETRY_MS = 1000;

export interface LeaderApiOptions {
  source: LeadershipSource;
  watch: LeaderWatch;
  wallNow?: () => number;
  heartbeatMs?: number;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(`${JSON.stringify(body)}\n`);
}

export function formatSse(event: LeaderEvent): string {
  return `event: ${event.type}\nid: ${event.id}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

export function leaderApiRoutes(options: LeaderApiOptions): Record<string, RouteHandler> {
  const wallNow = options.wallNow ?? Date.now;
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  return {
    '/v1/leader': (_req, res) => {
      const view = options.source.view();
      const now = wallNow();
      json(res, 200, {
        leader: hasLiveLeader(view, now) ? view.leader : null,
        epoch: view.epoch,
        seq: view.seq,
        lease_end: view.leaseEnd,
        lease_remaining_ms: view.leaseEnd === null ? null : Math.max(0, view.leaseEnd - now),
        acting: view.acting,
        token: view.acting ? view.token : null,
      });
    },
    '/v1/token': (_req, res) => {
      const view = options.source.view();
      if (view.acting && view.token !== null) {
        json(res, 200, { token: view.token, epoch: view.epoch, seq: view.seq, lease_end: view.leaseEnd });
        return;
      }
      const reason = hasLiveLeader(view, wallNow())
        ? `not acting as leader: the leader is ${view.leader!.name} (epoch ${view.epoch})`
        : 'not acting as leader: there is no leader with a live lease';
      json(res, 409, { error: { code: 'E_NOT_ACTING_LEADER', message: reason } });
    },
    '/v1/leader/watch': (req, res, url) => {
      const renewals = ['1', 'true'].includes(url.searchParams.get('renewals') ?? '');
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(`retry: ${RETRY_MS}\n\n`);
      const unsubscribe = options.watch.subscribe((event) => res.write(formatSse(event)), { renewals });
      const heartbeat = setInterval(() => res.write(': keepalive\n\n'), heartbeatMs);
      heartbeat.unref();
      const close = () => {
        clearInterval(heartbeat);
        unsubscribe();
      };
      req.on('close', close);
      res.on('close', close);
    },
  };
}
