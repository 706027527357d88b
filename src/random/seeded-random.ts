// The one seeded random source: mulberry32, tiny and fast, good enough for
// probe targets, jitter and chaos schedules (never for keys or nonces: those
// come from node:crypto). A seed is a number or a text (hashed with FNV-1a),
// and the same seed always gives the same sequence, so a failing simulation
// or chaos run is replayed from the seed it prints.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

export function seededRandom(seed: number | string): Random {
  let state = typeof seed === 'string' ? fnv1a(seed) : seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** A fresh seed for a run that was given none (printed, so it can be replayed). */
export function newSeed(): string {
  return Math.floor(Math.random() * 2 ** 32).toString(16);
}

export function randomInt(random: Random, below: number): number {
  return Math.floor(random.next() * below);
}

/** Fisher-Yates in place. */
export function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const ch of text) {
    hash ^= ch.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
