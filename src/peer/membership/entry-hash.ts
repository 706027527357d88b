// Hashes for anti-entropy by difference (see state-sync.ts): a pull lists the
// hash of each of the puller's entries (state, name, address, incarnation,
// key), and the answer holds only entries whose hash is not listed. FNV-1a
// over the fields, through murmur3's finaliser so that entries differing in
// one bit (an incarnation) spread over all 32 bits, of which 30 are kept: a
// 30-bit number is a small integer to V8 on any build, held in the row itself,
// where a larger one is a boxed number of 16 bytes in every row of every
// table (and in every hash a pull decodes). Computed from the fields,
// not from encoded bytes: at a mass start every peer hashes every entry
// anew, and encoding each one first was a tenth of the CPU. Not a security
// measure: a collision only leaves that difference to a later pull.
import type { MemberRecord, MemberState } from '../../protocol/gossip-messages.ts';

const STATE_CODES = { alive: 1, suspect: 2, dead: 3, left: 4 } as const;

const fnv = (h: number, value: number) => Math.imul(h ^ value, 0x01000193);

/** Hash of one entry; `nameHashValue` is nameHash(entry.name), cached by the caller. */
export function entryHash(
  entry: MemberRecord,
  state: MemberState,
  nameHashValue = nameHash(entry.name),
): number {
  let h = fnv(nameHashValue, STATE_CODES[state]);
  // Incarnations go up to 2^53: both halves.
  h = fnv(h, entry.incarnation >>> 0);
  h = fnv(h, Math.floor(entry.incarnation / 2 ** 32));
  for (let i = 0; i < entry.address.length; i++) h = fnv(h, entry.address.charCodeAt(i));
  for (let i = 0; i < entry.publicKey.length; i++) h = fnv(h, entry.publicKey[i]!);
  return finalise(h);
}

function finalise(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 2;
}

/** FNV-1a of a member name (ASCII by rule), 30 bits: which pull bucket it falls in. */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 30)) & 0x3fffffff;
}
