// The one seam between the membership runtime and the network: datagrams to
// and from "ip:port" addresses. UDP in production, an in-memory network in tests.

export type PacketHandler = (bytes: Uint8Array, from: string) => void;

export interface Transport {
  /** The "ip:port" this transport received on when opened (a peer may re-announce another; see AddressWatch). */
  readonly address: string;
  send(bytes: Uint8Array, to: string): void;
  onPacket(handler: PacketHandler): void;
  close(): Promise<void>;
}
