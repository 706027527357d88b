// Run an async function over items with at most `limit` in flight, keeping
// the order of the results. Every probe, and a status read by exec, is a
// `docker exec` that starts a node process in a container; a large cluster
// must not start them all at once on a small host.

export const EXEC_CONCURRENCY = 8;

export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
