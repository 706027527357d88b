// Hashes for anti-entropy by difference (see state-sync.ts): a pull lists the
// hash of each of the puller's encoded entries (state, name, address,
// incarnation, key), and the answer holds only entries whose hash is not
// listed. FNV-1a over the bytes, through murmur3's finaliser so that entries
// differing in one byte (an incarnation) spread over all 32 bits. Not a
// security measure: a collision only leaves that difference to a later pull.

export function entryHash(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a of a member name (ASCII by rule): which pull bucket it falls in. */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
