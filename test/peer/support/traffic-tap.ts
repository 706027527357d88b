// Bytes on the in-memory network per (from, to) pair, seen from the wire
// rather than from a peer's own counters: what an attacker sent and what it
// drew, for the amplification checks.
import type { MemoryNetwork } from '../../../src/peer/transport/memory-network.ts';

export interface TrafficTap {
  /** Bytes sent from `from` to `to` since the tap was installed. */
  bytes(from: string, to: string): number;
  /** Datagrams sent from `from` to `to` since the tap was installed. */
  datagrams(from: string, to: string): number;
  /** Bytes sent to `to` by anyone except `except`. */
  bytesTo(to: string, except?: string): number;
}

export function tapNetwork(network: MemoryNetwork): TrafficTap {
  const bytes = new Map<string, number>();
  const datagrams = new Map<string, number>();
  const send = network.send.bind(network);
  network.send = (from, to, payload) => {
    const key = `${from}>${to}`;
    bytes.set(key, (bytes.get(key) ?? 0) + payload.length);
    datagrams.set(key, (datagrams.get(key) ?? 0) + 1);
    send(from, to, payload);
  };
  return {
    bytes: (from, to) => bytes.get(`${from}>${to}`) ?? 0,
    datagrams: (from, to) => datagrams.get(`${from}>${to}`) ?? 0,
    bytesTo(to, except) {
      let total = 0;
      for (const [key, n] of bytes) {
        const [from, dest] = key.split('>');
        if (dest === to && from !== except) total += n;
      }
      return total;
    },
  };
}
