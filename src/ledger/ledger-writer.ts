// The demo writer an `--exec` child runs (`enclave-elect ledger write`): every
// interval it fetches this peer's current fencing token from the peer's
// /v1/token and appends one entry to the ledger with it. It prints one JSON
// line per attempt (the peer logs it as an exec.output event). The token is
// fetched before the pause between appends and used after it, so a peer frozen
// in between sends the ledger exactly the late write fencing must refuse.
export interface WriterOptions {
  ledgerUrl: string;
  tokenUrl: string;
  name: string;
  intervalMs: number;
  signal: AbortSignal;
  print?: (line: string) => void;
}

/** Give up after `ms`, or at once when the writer is told to stop: SIGTERM must end it within its grace. */
const deadline = (stop: AbortSignal, ms: number) => AbortSignal.any([stop, AbortSignal.timeout(ms)]);

async function postJson(
  url: string,
  body: unknown,
  stop: AbortSignal,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: deadline(stop, 5000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function runWriter(options: WriterOptions): Promise<void> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  let n = 0;
  while (!options.signal.aborted) {
    let token: string | undefined;
    let epoch: number | undefined;
    let seq: number | undefined;
    try {
      const response = await fetch(options.tokenUrl, { signal: deadline(options.signal, 2000) });
      const body = (await response.json()) as { token?: string; epoch?: number; seq?: number };
      if (response.ok) ({ token, epoch, seq } = body);
    } catch {
      token = undefined;
    }
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        options.signal.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, options.intervalMs);
      options.signal.addEventListener('abort', wake, { once: true });
    });
    if (options.signal.aborted) break;
    if (token === undefined) continue;
    const entry = `${options.name}#${++n}`;
    try {
      const result = await postJson(`${options.ledgerUrl}/v1/append`, { token, entry }, options.signal);
      const error = result.body.error as { code?: string } | undefined;
      print(
        JSON.stringify({
          event: 'append',
          entry,
          epoch,
          seq,
          status: result.status,
          code: error?.code ?? null,
        }),
      );
    } catch (err) {
      if (options.signal.aborted) break;
      print(JSON.stringify({ event: 'append', entry, epoch, seq, status: null, code: (err as Error).name }));
    }
  }
}
