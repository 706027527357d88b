// Join and discovery: turn `--join` entries (host[:port], DNS names that may
// resolve to many replicas) into addresses, never our own, and ask the
// membership to join those it does not know yet. While no seed answers it
// retries with doubling backoff and says so; once joined it re-resolves on a
// fixed interval, so scaled-up and restarted replicas are found.
import { lookup } from 'node:dns/promises';
import { ConfigError } from '../../errors.ts';
import type { Clock, TimerHandle } from '../../time/clock.ts';

export interface SeedTarget {
  host: string;
  port: number;
}

/** Resolve a host name to IPv4 addresses (all of them). */
export type Lookup = (host: string) => Promise<string[]>;

const dnsLookup: Lookup = async (host) =>
  (await lookup(host, { all: true, family: 4 })).map((a) => a.address);

const SEED = /^([A-Za-z0-9.-]{1,253})(?::(\d{1,5}))?$/;

export function parseSeeds(
  entries: readonly string[],
  defaultPort: number,
  option = '--join (JOIN)',
): SeedTarget[] {
  return entries.map((entry) => {
    const match = SEED.exec(entry);
    const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
    if (!match || port < 1 || port > 65535) {
      throw new ConfigError(option, `'${entry}' is not host[:port] (example: peer or 192.0.2.10:7946)`);
    }
    return { host: match[1]!, port };
  });
}

export interface JoinTarget {
  readonly joined: boolean;
  knowsAddress(address: string): boolean;
  join(addresses: readonly string[]): void;
}

export interface DiscoveryReport {
  event: 'join.waiting' | 'join.resolve-failed' | 'join.contacting';
  [field: string]: unknown;
}

export interface SeedDiscoveryOptions {
  seeds: SeedTarget[];
  target: JoinTarget;
  isSelf: (address: string) => boolean;
  clock: Clock;
  lookup?: Lookup;
  resolveIntervalMs: number;
  /** At most this many unknown addresses are contacted per round (default 3), so a
   * name resolving to 1000 replicas does not start 1000 state exchanges. */
  joinFanout?: number;
  random?: () => number;
  retryMinMs?: number;
  retryMaxMs: number;
  report?: (report: DiscoveryReport) => void;
}

export class SeedDiscovery {
  private readonly options: SeedDiscoveryOptions;
  private readonly lookup: Lookup;
  private timer: TimerHandle | undefined;
  private retryMs: number;
  private stopped = false;
  private attempts = 0;
  /** Resolution found nothing but ourselves: we are the cluster, so far. */
  alone = false;

  constructor(options: SeedDiscoveryOptions) {
    this.options = options;
    this.lookup = options.lookup ?? dnsLookup;
    this.retryMs = options.retryMinMs ?? 1000;
  }

  /** Resolve and join now; later rounds run on their own. */
  async start(): Promise<void> {
    await this.round();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** Every seed address other than our own, resolved now. */
  async resolve(): Promise<string[]> {
    const found = new Set<string>();
    for (const seed of this.options.seeds) {
      try {
        for (const ip of await this.lookup(seed.host)) found.add(`${ip}:${seed.port}`);
      } catch (error) {
        this.options.report?.({
          event: 'join.resolve-failed',
          seed: seed.host,
          error: (error as NodeJS.ErrnoException).code ?? String(error),
        });
      }
    }
    return [...found].filter((address) => !this.options.isSelf(address));
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    const { target, seeds } = this.options;
    const addresses = seeds.length > 0 ? await this.resolve() : [];
    if (this.stopped) return;
    this.alone = addresses.length === 0 && (seeds.length === 0 || !target.joined);
    const fresh = this.sample(addresses.filter((address) => !target.knowsAddress(address)));
    if (fresh.length > 0) {
      this.attempts++;
      if (!target.joined)
        this.options.report?.({ event: 'join.contacting', addresses: fresh, attempt: this.attempts });
      target.join(fresh);
    }
    // Wait for answers before judging this round.
    this.schedule(Math.min(this.retryMs, this.options.resolveIntervalMs), () => this.judge(addresses.length));
  }

  private judge(resolved: number): void {
    const { target, seeds } = this.options;
    if (target.joined || seeds.length === 0 || this.alone) {
      this.retryMs = this.options.retryMinMs ?? 1000;
      this.schedule(this.options.resolveIntervalMs, () => void this.round());
      return;
    }
    this.options.report?.({
      event: 'join.waiting',
      seeds: seeds.map((s) => `${s.host}:${s.port}`),
      resolved,
      attempt: this.attempts,
      retryInMs: this.retryMs,
      hint: resolved === 0 ? 'no seed address resolved' : 'no seed answered; check --join and the gossip key',
    });
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.options.retryMaxMs);
    this.schedule(wait, () => void this.round());
  }

  private sample(addresses: string[]): string[] {
    const k = this.options.joinFanout ?? 3;
    const random = this.options.random ?? Math.random;
    for (let i = addresses.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [addresses[i], addresses[j]] = [addresses[j]!, addresses[i]!];
    }
    return addresses.slice(0, k);
  }

  private schedule(ms: number, fn: () => void): void {
    this.timer?.cancel();
    if (!this.stopped) this.timer = this.options.clock.setTimer(ms, fn);
  }
}
