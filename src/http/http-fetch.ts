// The subset of fetch() the enclave client uses, over node:http. Node's fetch
// (undici) costs a process about 15 MB of RSS once used (issue 12); a peer
// makes a few small requests a second to one enclave. Same contract for the
// caller: a timeout rejects with the signal's reason (a TimeoutError), a
// network failure with TypeError('fetch failed') whose `cause` carries the
// socket error's code, and the answer offers ok, status, statusText, text()
// and json(). Only http: URLs; anything else is refused.
import { request } from './node-http.ts';

/** What the enclave client reads of a response: a structural subset of Response. */
export interface HttpFetchResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/** Answers larger than this are refused: an enclave answer is a few KB. */
const MAX_BODY_BYTES = 1024 * 1024;

export function httpFetch(input: string | URL | Request, init: RequestInit = {}): Promise<HttpFetchResponse> {
  const url = new URL(String(input));
  if (url.protocol !== 'http:')
    return Promise.reject(new TypeError(`httpFetch speaks http: only, not ${url.protocol}`));
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: init.method ?? 'GET',
      headers: init.headers as Record<string, string> | undefined,
      agent: false,
      ...(signal ? { signal } : {}),
    });
    req.on('error', (error) => {
      reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) req.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', (error) =>
        reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error })),
      );
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        resolve({
          ok: status >= 200 && status <= 299,
          status,
          statusText: res.statusMessage ?? '',
          text: async () => body,
          json: async () => JSON.parse(body) as unknown,
        });
      });
    });
    if (typeof init.body === 'string') req.end(init.body);
    else req.end();
  });
}
