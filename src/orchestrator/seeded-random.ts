// A small seeded generator (mulberry32 over an FNV-1a hash of the seed), so
// `cluster kill random --seed S` picks the same victim for the same seed and
// the same set of peers.

export function seededRandom(seed: string): () => number {
  let state = 0x811c9dc5;
  for (const ch of seed) {
    state ^= ch.codePointAt(0)!;
    state = Math.imul(state, 0x01000193) >>> 0;
  }
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function newSeed(): string {
  return Math.floor(Math.random() * 2 ** 32).toString(16);
}
