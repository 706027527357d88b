// No amplification, no reflection: to an address that has not proven it is a
// member, a peer sends at most as many bytes as it received from it. This
// ledger keeps, per address, the bytes received and sent; a send that would
// overdraw it is refused. It remembers a bounded number of addresses (least
// recently heard from forgotten first), and forgetting only lowers what may be
// sent, so the bound never loosens the rule.
//
// What does not fit may be held for a moment (`hold`): a joiner's state-sync
// answer waits here the one round trip its address takes to prove itself,
// then goes (`release`). Held bytes are bounded per address and in all, and
// expire.

/** How long a held datagram waits for its address to prove itself. */
const HOLD_MS = 2000;
const HOLD_BYTES_PER_ADDRESS = 64 * 1024;
const HOLD_BYTES_TOTAL = 512 * 1024;

interface Held {
  datagrams: Uint8Array[];
  bytes: number;
  until: number;
}

export class AmplificationLimit {
  private readonly maxAddresses: number;
  /** Per address: bytes that may still be sent (received minus sent, plus grants). */
  private readonly credit = new Map<string, number>();
  private readonly held = new Map<string, Held>();
  private heldBytes = 0;

  constructor(maxAddresses = 4096) {
    this.maxAddresses = maxAddresses;
  }

  get addresses(): number {
    return this.credit.size;
  }

  /** `bytes` arrived from `address`. */
  received(address: string, bytes: number): void {
    this.add(address, bytes);
  }

  /**
   * Let `bytes` go to `address` before it sent anything: for addresses this
   * peer chose itself (seeds from its configuration or DNS), never for ones a
   * datagram named.
   */
  grant(address: string, bytes: number): void {
    this.add(address, bytes);
  }

  /** Whether `bytes` may go to `address` now; if so they are charged. */
  spend(address: string, bytes: number): boolean {
    const available = this.credit.get(address) ?? 0;
    if (available < bytes) return false;
    this.credit.set(address, available - bytes);
    return true;
  }

  /** Keep `datagram` for `address` until it proves itself or HOLD_MS pass; false when over the bounds. */
  hold(address: string, datagram: Uint8Array, now: number): boolean {
    this.expire(now);
    const entry = this.held.get(address) ?? { datagrams: [], bytes: 0, until: now + HOLD_MS };
    if (entry.bytes + datagram.length > HOLD_BYTES_PER_ADDRESS) return false;
    if (this.heldBytes + datagram.length > HOLD_BYTES_TOTAL) return false;
    entry.datagrams.push(datagram);
    entry.bytes += datagram.length;
    this.heldBytes += datagram.length;
    this.held.set(address, entry);
    return true;
  }

  /** Whether anything is held for `address`. */
  holds(address: string): boolean {
    return this.held.has(address);
  }

  /** What is held for `address` (it proved itself), in order; forgotten here. */
  release(address: string, now: number): Uint8Array[] {
    this.expire(now);
    const entry = this.held.get(address);
    if (!entry) return [];
    this.held.delete(address);
    this.heldBytes -= entry.bytes;
    return entry.datagrams;
  }

  private expire(now: number): void {
    for (const [address, entry] of this.held) {
      if (entry.until > now) continue;
      this.held.delete(address);
      this.heldBytes -= entry.bytes;
    }
  }

  private add(address: string, bytes: number): void {
    const current = this.credit.get(address) ?? 0;
    // Re-insert so the Map's order is least recently credited first.
    this.credit.delete(address);
    this.credit.set(address, current + bytes);
    if (this.credit.size > this.maxAddresses) {
      const oldest = this.credit.keys().next().value as string;
      this.credit.delete(oldest);
    }
  }
}
