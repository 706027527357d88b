// Transport over a real UDP socket (node:dgram). Send errors (an unreachable
// address, a closed socket) are reported to a callback, never thrown.
import { createSocket, type Socket } from 'node:dgram';
import { parseAddress } from '../../protocol/gossip-codec.ts';
import type { PacketHandler, Transport } from './transport.ts';

export interface UdpTransportOptions {
  bindAddress: string;
  port: number;
  /** Address to report as ours; defaults to the bound one. */
  advertiseAddress?: string;
  /** Socket receive buffer, for bursts of state sync (best effort). */
  receiveBufferBytes?: number;
  onError?: (error: Error) => void;
}

export class UdpTransport implements Transport {
  readonly address: string;
  private readonly socket: Socket;
  private handler: PacketHandler = () => {};
  private closed = false;
  /** Parsed "ip:port" strings (a peer sends to the same few hundred addresses). */
  private readonly targets = new Map<string, { host: string; port: number }>();
  private readonly onError: (error: Error) => void;

  private constructor(socket: Socket, address: string, onError: (error: Error) => void) {
    this.socket = socket;
    this.address = address;
    this.onError = onError;
    socket.on('message', (msg, rinfo) => {
      if (!this.closed) this.handler(msg, `${rinfo.address}:${rinfo.port}`);
    });
    socket.on('error', (error) => this.onError(error));
  }

  static async open(options: UdpTransportOptions): Promise<UdpTransport> {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port, options.bindAddress, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (options.receiveBufferBytes) {
      try {
        socket.setRecvBufferSize(options.receiveBufferBytes);
      } catch {
        // the kernel caps it (net.core.rmem_max); the default still works
      }
    }
    const bound = socket.address();
    const host = options.advertiseAddress ?? bound.address;
    return new UdpTransport(socket, `${host}:${bound.port}`, options.onError ?? (() => {}));
  }

  send(bytes: Uint8Array, to: string): void {
    if (this.closed) return;
    let target = this.targets.get(to);
    if (!target) {
      const parsed = parseAddress(to);
      if (!parsed) {
        this.onError(new Error(`not an ipv4:port address: ${to}`));
        return;
      }
      target = { host: parsed.ip.join('.'), port: parsed.port };
      if (this.targets.size > 10_000) this.targets.clear();
      this.targets.set(to, target);
    }
    // No callback per datagram: send errors arrive as the socket's 'error' event.
    this.socket.send(bytes, target.port, target.host);
  }

  onPacket(handler: PacketHandler): void {
    this.handler = handler;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
