// A peer's GET /status read from the host with node's fetch at the container's
// own address: no process started anywhere, unlike the exec reader. Only for a
// local engine, and only at addresses on a subnet one of the host's interfaces
// is on, so a request never leaves the host for some other machine. Addresses
// come from the container listing (fresh every round) or inspect; the one that
// answered is tried first next time, and a failure inspects again, since
// partitions move containers between networks and heal can readdress them.
import { networkInterfaces } from 'node:os';
import type { ClusterContainer } from './cluster-inventory.ts';
import { type DockerClient, dockerMessage } from './docker-client.ts';
import { ADMIN_PORT, type PeerStatus, parseStatus, type StatusReader } from './peer-status.ts';

export type HostInterfaces = () => ReturnType<typeof networkInterfaces>;

export interface DirectReaderOptions {
  port?: number;
  timeoutMs?: number;
  /** Where to read when the host has no way to the container (auto mode); without it, such a read fails. */
  fallback?: StatusReader;
  /** Told once per container when its reads go to the fallback, and why. */
  note?: (line: string) => void;
  /** An address that never answered is not tried again for this long (only with a fallback). */
  coolOffMs?: number;
  interfaces?: HostInterfaces;
  now?: () => number;
}

function ipv4Number(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

/** Whether `address` lies on the subnet of one of the host's IPv4 interfaces (loopback included). */
export function onHostSubnet(address: string, interfaces: ReturnType<typeof networkInterfaces>): boolean {
  const target = ipv4Number(address);
  if (target === undefined) return false;
  for (const entries of Object.values(interfaces)) {
    for (const entry of entries ?? []) {
      if (entry.family !== 'IPv4' || entry.cidr === null) continue;
      const [base, bits] = entry.cidr.split('/');
      const network = ipv4Number(base ?? '');
      const prefix = Number(bits);
      if (network === undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 32) continue;
      const size = 2 ** (32 - prefix);
      if (Math.floor(target / size) === Math.floor(network / size)) return true;
    }
  }
  return false;
}

/** One attempt at one address. `reached`: something at the address answered, even if only to refuse. */
type Attempt = { status: PeerStatus } | { error: Error; reached: boolean };

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN']);

async function fetchStatus(address: string, port: number, timeoutMs: number): Promise<Attempt> {
  const where = `${address}:${port}`;
  try {
    const response = await fetch(`http://${where}/status`, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    if (!response.ok) {
      return {
        reached: true,
        error: new Error(`HTTP ${response.status}: ${text.replace(/\s+/g, ' ').slice(0, 200)}`),
      };
    }
    return { status: parseStatus(text) };
  } catch (error) {
    const e = error as Error & { cause?: { code?: unknown } };
    if (e.name === 'TimeoutError') {
      return { reached: false, error: new Error(`no answer from ${where} within ${timeoutMs} ms`) };
    }
    const code = typeof e.cause?.code === 'string' ? e.cause.code : undefined;
    if (code === 'ECONNREFUSED') {
      return { reached: true, error: new Error(`nothing listens on ${where} (ECONNREFUSED)`) };
    }
    if (code !== undefined) return { reached: !UNREACHABLE.has(code), error: new Error(`${where}: ${code}`) };
    // parseStatus: the answer came, it was not a status.
    return { reached: true, error: new Error(e.message.split('\n')[0]) };
  }
}

interface Memo {
  /** The address that last answered. */
  answered?: string;
  /** Addresses that never answered -> when they may be tried again. */
  coolingUntil: Map<string, number>;
  /** Addresses from the last inspect, for containers the caller lists without them. */
  inspected?: string[];
  fellBack?: boolean;
}

/** Reads /status over HTTP from the host; rejects with a one-line reason a table can show. */
export function directStatusReader(
  docker: Pick<DockerClient, 'getContainer'>,
  options: DirectReaderOptions = {},
): StatusReader {
  const port = options.port ?? ADMIN_PORT;
  const timeoutMs = options.timeoutMs ?? 3000;
  const coolOffMs = options.coolOffMs ?? 60_000;
  const interfaces = options.interfaces ?? networkInterfaces;
  const now = options.now ?? Date.now;
  const memos = new Map<string, Memo>();

  const inspect = async (id: string): Promise<string[]> => {
    try {
      const info = await docker.getContainer(id).inspect();
      return Object.values(info.NetworkSettings.Networks ?? {})
        .map((endpoint) => endpoint?.IPAddress)
        .filter((ip): ip is string => typeof ip === 'string' && ip !== '');
    } catch (error) {
      throw new Error(dockerMessage(error).split('\n')[0], { cause: error });
    }
  };

  const fallBack = (container: ClusterContainer, memo: Memo, why: string) => {
    if (!options.fallback) throw new Error(why);
    if (!memo.fellBack) options.note?.(`${container.name}: /status read by docker exec (${why})`);
    memo.fellBack = true;
    return options.fallback(container);
  };

  return async (container) => {
    const memo: Memo = memos.get(container.id) ?? { coolingUntil: new Map() };
    memos.set(container.id, memo);
    const listed = Object.values(container.addresses ?? {});
    if (listed.length === 0 && memo.inspected === undefined) memo.inspected = await inspect(container.id);
    let current = listed.length > 0 ? listed : (memo.inspected ?? []);
    const host = interfaces();
    const tried = new Set<string>();
    const failures = new Map<string, Error>();
    for (let pass = 0; pass < 2; pass++) {
      if (pass === 1) {
        if (tried.size === 0) break;
        current = memo.inspected = await inspect(container.id);
      }
      const usable = current
        .filter((ip) => !tried.has(ip) && onHostSubnet(ip, host))
        .filter((ip) => !options.fallback || (memo.coolingUntil.get(ip) ?? 0) <= now())
        .sort((a, b) => Number(b === memo.answered) - Number(a === memo.answered));
      for (const ip of usable) {
        tried.add(ip);
        const attempt = await fetchStatus(ip, port, timeoutMs);
        if ('status' in attempt || attempt.reached) {
          memo.answered = ip;
          memo.coolingUntil.delete(ip);
          memo.fellBack = false;
          if ('status' in attempt) return attempt.status;
          throw attempt.error;
        }
        failures.set(ip, attempt.error);
        if (ip !== memo.answered) memo.coolingUntil.set(ip, now() + coolOffMs);
      }
    }
    // An address that answered before and still is the container's: the host reaches it, the peer is silent.
    const silent = memo.answered !== undefined ? failures.get(memo.answered) : undefined;
    if (silent && current.includes(memo.answered!)) throw silent;
    const last = [...failures.values()].at(-1);
    if (last) return fallBack(container, memo, `no answer at its addresses: ${last.message}`);
    if (current.some((ip) => onHostSubnet(ip, host))) {
      return fallBack(container, memo, `its addresses did not answer in the last ${coolOffMs / 1000} s`);
    }
    const shown = current.length > 0 ? current.join(', ') : 'none';
    return fallBack(container, memo, `no address on a subnet of this host (addresses: ${shown})`);
  };
}
