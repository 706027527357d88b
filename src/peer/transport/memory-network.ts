// An in-memory datagram network for simulations: transports attached at
// "ip:port" addresses, with seeded packet loss, delay, cut links, partitions
// and heal. Delivery runs on the injected Clock, so a ManualClock makes whole
// clusters deterministic.

import type { Random } from '../../random/seeded-random.ts';
import type { Clock } from '../../time/clock.ts';
import type { PacketHandler, Transport } from './transport.ts';

export class MemoryNetwork {
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly endpoints = new Map<string, MemoryTransport>();
  private readonly cutLinks = new Set<string>();
  private groups = new Map<string, number>();
  lossRate = 0;
  delayMs = 1;
  delivered = 0;
  dropped = 0;

  constructor(clock: Clock, random: Random) {
    this.clock = clock;
    this.random = random;
  }

  attach(address: string): MemoryTransport {
    if (this.endpoints.has(address)) throw new Error(`address in use: ${address}`);
    const transport = new MemoryTransport(this, address);
    this.endpoints.set(address, transport);
    return transport;
  }

  detach(address: string): void {
    this.endpoints.delete(address);
  }

  /** The endpoint at `from` is now at `to` (a container back on a network with a new IP). */
  move(from: string, to: string): void {
    const transport = this.endpoints.get(from);
    if (!transport) throw new Error(`no endpoint at ${from}`);
    if (this.endpoints.has(to)) throw new Error(`address in use: ${to}`);
    this.endpoints.delete(from);
    this.endpoints.set(to, transport);
    transport.address = to;
  }

  /** Drop everything between a and b, both ways. */
  cut(a: string, b: string): void {
    this.cutLinks.add(`${a}|${b}`).add(`${b}|${a}`);
  }

  /** Split the network: addresses in different groups cannot talk. */
  partition(...groups: string[][]): void {
    this.groups = new Map(groups.flatMap((group, i) => group.map((address) => [address, i] as const)));
  }

  heal(): void {
    this.cutLinks.clear();
    this.groups.clear();
  }

  private blocked(from: string, to: string): boolean {
    if (this.cutLinks.has(`${from}|${to}`)) return true;
    const a = this.groups.get(from);
    const b = this.groups.get(to);
    return a !== undefined && b !== undefined && a !== b;
  }

  send(from: string, to: string, bytes: Uint8Array): void {
    if (this.blocked(from, to) || (this.lossRate > 0 && this.random.next() < this.lossRate)) {
      this.dropped++;
      return;
    }
    const copy = bytes.slice();
    this.clock.setTimer(this.delayMs, () => {
      const target = this.endpoints.get(to);
      if (!target || this.blocked(from, to)) {
        this.dropped++;
        return;
      }
      this.delivered++;
      target.deliver(copy, from);
    });
  }
}

export class MemoryTransport implements Transport {
  /** Changes only through MemoryNetwork.move. */
  address: string;
  private readonly network: MemoryNetwork;
  private handler: PacketHandler = () => {};
  private closed = false;

  constructor(network: MemoryNetwork, address: string) {
    this.network = network;
    this.address = address;
  }

  send(bytes: Uint8Array, to: string): void {
    if (!this.closed) this.network.send(this.address, to, bytes);
  }

  onPacket(handler: PacketHandler): void {
    this.handler = handler;
  }

  deliver(bytes: Uint8Array, from: string): void {
    if (!this.closed) this.handler(bytes, from);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.network.detach(this.address);
  }
}
