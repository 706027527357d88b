// Waits for benchmarks that end early when their signal aborts (Ctrl-C, a
// failed worker): they reject with the signal's reason.

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Poll `check` until it holds; ms taken, or undefined after `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  pollMs: number,
  signal?: AbortSignal,
): Promise<number | undefined> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > timeoutMs) return undefined;
    await sleep(pollMs, signal);
  }
  return performance.now() - start;
}
