// Limits every HTTP server of this project applies (peer admin, enclave): how
// long a client may take to send its headers and its whole request, how long a
// connection may idle between requests, and how many connections are open at
// once. Without them one client sending a byte every 2 s holds a connection
// for ever, and a few thousand such clients exhaust the process's descriptors.
import type { RequestListener, Server } from 'node:http';
import { httpDate } from '../time/iso-time.ts';
import { createServer } from './node-http.ts';

export interface HttpLimits {
  /** Request line and headers must arrive within this (408 after it). */
  headersTimeoutMs: number;
  /** The whole request, headers and body, must arrive within this (408 after it). */
  requestTimeoutMs: number;
  /** A kept-alive connection with no request in flight is closed after this. */
  idleTimeoutMs: number;
  /** Connections open at once; one more is closed as soon as it is accepted. */
  maxConnections: number;
}

/** The shared defaults, each with its reason; servers override maxConnections. */
export const HTTP_LIMIT_DEFAULTS = {
  headersTimeoutMs: {
    value: 5000,
    reason:
      'a request line and headers are a few hundred bytes; a client one byte every 2 s (slowloris) is cut off',
  },
  requestTimeoutMs: {
    value: 10_000,
    reason:
      'the largest body (an elect request, at most 256 KiB) arrives in milliseconds on a cluster network',
  },
  idleTimeoutMs: {
    value: 5000,
    reason: 'clients here reconnect cheaply; an idle connection only holds a descriptor',
  },
} as const;

export const HTTP_LIMIT_BOUNDS = {
  timeoutMs: { min: 100, max: 600_000 },
  maxConnections: { min: 1, max: 65_535 },
} as const;

/** Why the limits are inconsistent, or undefined when they are not. */
export function httpLimitsProblem(limits: HttpLimits): string | undefined {
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    return `the headers timeout (${limits.headersTimeoutMs} ms) must not exceed the request timeout (${limits.requestTimeoutMs} ms)`;
  }
  return undefined;
}

export interface LimitedServer {
  server: Server;
  /** Connections closed at once because maxConnections were open. */
  readonly refusedConnections: number;
}

/** An HTTP server that enforces `limits` (validate them first with httpLimitsProblem). */
export function createLimitedServer(limits: HttpLimits, listener: RequestListener): LimitedServer {
  const problem = httpLimitsProblem(limits);
  if (problem) throw new RangeError(problem);
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.idleTimeoutMs,
      // Node checks the two timeouts on this period (30 s by default), which would let a
      // slow client hold on for up to 30 s past them.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    // The Date header set here, so that Node does not compute it with Date#toUTCString,
    // which loads ICU's time zone names into the process (src/time/iso-time.ts).
    (req, res) => {
      res.setHeader('date', httpDate(Date.now()));
      listener(req, res);
    },
  );
  server.maxConnections = limits.maxConnections;
  let refused = 0;
  server.on('drop', () => {
    refused++;
  });
  return {
    server,
    get refusedConnections() {
      return refused;
    },
  };
}
