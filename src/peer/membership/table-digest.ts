// An order-independent summary of a membership table, so a state exchange can
// be skipped when both sides already hold the same entries. Each entry's
// encoded bytes (state, name, address, incarnation, key) hash into two 32-bit
// lanes (FNV-1a, and FNV-1a with another basis through murmur3's finaliser);
// the table's digest is the lane-wise sum mod 2^32, plus the entry count, so it
// does not depend on order and costs O(n) additions over cached entry hashes.
// Not a security measure: a wrong "same" only postpones a sync to the next one.
// Pulls use the first lane of each entry's hash to ask for differences only.

export type Digest = readonly [number, number];

export function entryHash(bytes: Uint8Array): Digest {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i]!, 0x01000193);
    b = Math.imul(b ^ bytes[i]!, 0x01000193);
  }
  b ^= b >>> 16;
  b = Math.imul(b, 0x85ebca6b);
  b ^= b >>> 13;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 16;
  return [a >>> 0, b >>> 0];
}

export function tableDigest(hashes: Iterable<Digest>): Digest {
  let a = 0;
  let b = 0;
  let count = 0;
  for (const [x, y] of hashes) {
    a = (a + x) >>> 0;
    b = (b + y) >>> 0;
    count++;
  }
  return [(a ^ count) >>> 0, b];
}

/** FNV-1a of a member name (ASCII by rule): which pull bucket it falls in. */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export const sameDigest = (x: Digest | undefined, y: Digest): boolean =>
  x !== undefined && x[0] === y[0] && x[1] === y[1];
