// Notice when this peer's own IP changes under it. A container that Docker
// disconnects and reconnects (a chaos partition on a compose network, which
// has no fixed subnet) comes back with another address; peers that keep
// sending to the old one would call it dead although it is up. Only an
// address the peer chose itself is watched: one given by flag stays.
import type { Clock, TimerHandle } from '../time/clock.ts';

/** One interface address as os.networkInterfaces() lists it. */
export interface InterfaceAddress {
  address: string;
  family: string;
  internal: boolean;
}

export type ListInterfaces = () => Record<string, InterfaceAddress[] | undefined>;

/** The first non-loopback IPv4 address, else undefined (no network at all). */
export function firstExternalIpv4(list: ListInterfaces): string | undefined {
  return firstExternal(list());
}

function firstExternal(interfaces: ReturnType<ListInterfaces>): string | undefined {
  for (const entries of Object.values(interfaces)) {
    for (const entry of entries ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return undefined;
}

/**
 * Whether "ip:port" reaches this peer: its gossip port (from `own`, the
 * transport's "ip:port") on any of its interfaces. A peer on several networks
 * is sent to at any of them.
 */
export function isInterfaceAddress(address: string, own: string, list: ListInterfaces): boolean {
  const colon = address.lastIndexOf(':');
  if (address.slice(colon) !== own.slice(own.lastIndexOf(':'))) return false;
  const ip = address.slice(0, colon);
  return Object.values(list()).some((entries) =>
    (entries ?? []).some((entry) => entry.family === 'IPv4' && entry.address === ip),
  );
}

/**
 * The address to advertise instead of `current`, or undefined to keep it:
 * keep it while an external interface still holds it, and while no other one
 * exists (a container between networks has none for a moment). A peer that
 * started with no network advertises loopback; it moves once one appears.
 */
export function changedAddress(current: string, list: ListInterfaces): string | undefined {
  const interfaces = list();
  for (const entries of Object.values(interfaces)) {
    for (const entry of entries ?? []) if (entry.address === current && !entry.internal) return undefined;
  }
  const next = firstExternal(interfaces);
  return next === current ? undefined : next;
}

export interface AddressWatchOptions {
  /** The IP advertised now. */
  current: string;
  clock: Clock;
  everyMs: number;
  list: ListInterfaces;
  onChange: (ip: string) => void;
  onError?: (error: unknown) => void;
}

/** Checks the interfaces every `everyMs` and reports a new IP once per change. */
export class AddressWatch {
  private current: string;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly options: AddressWatchOptions;

  constructor(options: AddressWatchOptions) {
    this.options = options;
    this.current = options.current;
  }

  get address(): string {
    return this.current;
  }

  start(): void {
    if (!this.timer) this.arm();
  }

  /** Check now (also what each timer does). */
  check(): void {
    const next = changedAddress(this.current, this.options.list);
    if (next === undefined) return;
    this.current = next;
    this.options.onChange(next);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimer(this.options.everyMs, () => {
      try {
        this.check();
      } catch (error) {
        // os.networkInterfaces can throw: report it, and keep watching.
        this.options.onError?.(error);
      }
      this.arm();
    });
  }
}
