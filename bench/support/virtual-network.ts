// The network of the virtual-time simulation: transports at "ip:port"
// addresses, each datagram delayed by a one-way latency (a fixed part plus an
// exponential tail, so a few datagrams come late, as on a real LAN) and lost
// at a given rate, all drawn from one seeded Random and delivered by the
// ManualClock. Unlike the test suite's MemoryNetwork (one fixed delay), it
// models the latency spread that SWIM's timeouts must tolerate, and counts
// what it carries.
import type { PacketHandler, Transport } from '../../src/peer/transport/transport.ts';
import type { Random } from '../../src/random/seeded-random.ts';
import type { Clock } from '../../src/time/clock.ts';

export interface LinkModel {
  /** One-way latency every datagram has, ms. */
  baseLatencyMs: number;
  /** Mean of the exponential extra latency, ms (0: none). */
  jitterMeanMs: number;
  /** Share of datagrams lost, 0..1. */
  loss: number;
}

/** A datacenter-like link: 1 ms one way plus an exponential tail of mean 1 ms (p99 about 5.6 ms), 1% loss. */
export const DEFAULT_LINK: LinkModel = { baseLatencyMs: 1, jitterMeanMs: 1, loss: 0.01 };

export class VirtualNetwork {
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #model: LinkModel;
  readonly #endpoints = new Map<string, VirtualTransport>();
  delivered = 0;
  lost = 0;
  /** Datagrams sent to an address where nothing listens (a killed peer). */
  unreachable = 0;

  constructor(clock: Clock, random: Random, model: LinkModel) {
    if (!(model.loss >= 0 && model.loss < 1)) throw new Error(`loss must be in [0, 1), got ${model.loss}`);
    if (!(model.baseLatencyMs >= 0) || !(model.jitterMeanMs >= 0))
      throw new Error('latencies must be >= 0 ms');
    this.#clock = clock;
    this.#random = random;
    this.#model = model;
  }

  attach(address: string): VirtualTransport {
    if (this.#endpoints.has(address)) throw new Error(`address in use: ${address}`);
    const transport = new VirtualTransport(this, address);
    this.#endpoints.set(address, transport);
    return transport;
  }

  detach(address: string): void {
    this.#endpoints.delete(address);
  }

  send(from: string, to: string, bytes: Uint8Array): void {
    const { loss, baseLatencyMs, jitterMeanMs } = this.#model;
    // Both draws are made for every datagram, so one more loss does not shift the latencies after it.
    const lostDraw = this.#random.next();
    const tail = jitterMeanMs > 0 ? -jitterMeanMs * Math.log(1 - this.#random.next()) : 0;
    if (lostDraw < loss) {
      this.lost++;
      return;
    }
    // The shell encodes a fresh buffer per datagram and never reuses it: no copy needed.
    this.#clock.setTimer(baseLatencyMs + tail, () => {
      const target = this.#endpoints.get(to);
      if (!target) {
        this.unreachable++;
        return;
      }
      this.delivered++;
      target.deliver(bytes, from);
    });
  }
}

export class VirtualTransport implements Transport {
  readonly address: string;
  readonly #network: VirtualNetwork;
  #handler: PacketHandler = () => {};
  #closed = false;

  constructor(network: VirtualNetwork, address: string) {
    this.#network = network;
    this.address = address;
  }

  send(bytes: Uint8Array, to: string): void {
    if (!this.#closed) this.#network.send(this.address, to, bytes);
  }

  onPacket(handler: PacketHandler): void {
    this.#handler = handler;
  }

  deliver(bytes: Uint8Array, from: string): void {
    if (!this.#closed) this.#handler(bytes, from);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#network.detach(this.address);
  }
}
