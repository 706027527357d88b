// Ask a loopback HTTP endpoint whether this process is healthy.
import { EnclaveElectError, UsageError } from '../../errors.ts';

export const DEFAULT_HEALTH_URL = 'http://127.0.0.1:7947/healthz';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export interface HealthResult {
  status: number;
  body: string;
}

export async function checkHealth(url: string, timeoutMs: number): Promise<HealthResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url '${url}' is not a URL (example: ${DEFAULT_HEALTH_URL})`);
  }
  if (parsed.protocol !== 'http:' || !LOOPBACK.has(parsed.hostname)) {
    throw new UsageError(
      `--url must be an http:// URL on loopback (127.0.0.1, localhost or [::1]), got '${url}'`,
    );
  }
  let response: Response;
  try {
    response = await fetch(parsed, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const inner = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    const cause = inner?.code ?? inner?.message;
    const reason = cause ?? (error as Error).message;
    throw new EnclaveElectError('E_HEALTHCHECK', `no answer from ${url}: ${reason}`, {
      cause: error,
    });
  }
  const body = (await response.text()).slice(0, 200).trim();
  if (!response.ok) {
    throw new EnclaveElectError('E_HEALTHCHECK', `${url} answered ${response.status}: ${body}`);
  }
  return { status: response.status, body };
}
