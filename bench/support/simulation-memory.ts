// What the simulation needs in memory, checked before a run: N members in one
// process, each holding a table of all N, so the heap grows as N². A size that
// cannot fit is refused at once, saying what it needs and what to do, rather
// than after minutes of CPU with V8's out-of-memory abort.

/**
 * Heap per (peer, member) pair, with headroom: peak RSS of the cold start was
 * 0.71 GB at N = 1,000, 1.81 GB at N = 2,000 and 3.95 GB at N = 3,000 (seed 1,
 * docs/scale.md), and the steady window after it adds to that (5.3 GB at 3,000
 * before the tables shrank).
 */
export const BYTES_PER_PAIR = 600;
/** The process before any member: code, keys, the virtual network. */
export const BASE_BYTES = 300e6;
/** Share of the machine's memory a run may plan on (the OS and the rest keep the remainder). */
const USABLE_SHARE = 0.9;

export function simulationHeapBytes(peers: number): number {
  return BASE_BYTES + BYTES_PER_PAIR * peers * peers;
}

/** The largest N whose estimate fits in `totalMemoryBytes` (rounded down to hundreds). */
export function largestFitting(totalMemoryBytes: number): number {
  const pairs = Math.max(0, (USABLE_SHARE * totalMemoryBytes - BASE_BYTES) / BYTES_PER_PAIR);
  return Math.floor(Math.sqrt(pairs) / 100) * 100;
}

const gb = (bytes: number) => {
  const x = bytes / 1e9;
  return x >= 10 ? x.toFixed(0) : x.toFixed(1);
};

/**
 * Why a simulation of `peers` members cannot run in this process, or null if
 * it fits. The message starts with the flag, so `npm run bench` exits 2.
 */
export function memoryRefusal(
  peers: number,
  limits: { heapLimitBytes: number; totalMemoryBytes: number },
): string | null {
  const need = simulationHeapBytes(peers);
  if (need > USABLE_SHARE * limits.totalMemoryBytes) {
    return (
      `--peers ${peers} needs about ${gb(need)} GB of memory (about ${BYTES_PER_PAIR} B for each (peer, member) pair: ` +
      `every member's table holds every other), and this machine has ${gb(limits.totalMemoryBytes)} GB. ` +
      `The largest N that fits here is about ${largestFitting(limits.totalMemoryBytes).toLocaleString('en-US')}; ` +
      `--skip-memory-check runs anyway`
    );
  }
  if (need > limits.heapLimitBytes) {
    const mb = Math.ceil(need / 1e6 / 100) * 100 + 500;
    return (
      `--peers ${peers} needs about ${gb(need)} GB of heap, and this process may use ${gb(limits.heapLimitBytes)} GB: ` +
      `run NODE_OPTIONS=--max-old-space-size=${mb} npm run bench -- simulation --peers ${peers} ...`
    );
  }
  return null;
}
