// Every setting of `enclave-elect peer`: one table with the default and the
// reason for it, the flag and the environment variable that override it, and
// its bounds. ./settings.ts resolves it (flag, then environment, then default;
// a bad value is a ConfigError naming the option, exit 2).
import { hostname } from 'node:os';
import { ConfigError } from '../errors.ts';
import {
  HTTP_LIMIT_BOUNDS,
  HTTP_LIMIT_DEFAULTS,
  type HttpLimits,
  httpLimitsProblem,
} from '../http/http-limits.ts';
import { parseAddress } from '../protocol/gossip-codec.ts';
import { parseGossipKey } from '../protocol/gossip-keyring.ts';
import { isMemberName, MEMBER_NAME_RULE, memberNameFrom } from '../protocol/member-name.ts';
import { DEFAULT_REPLAY_WINDOW_MS } from '../protocol/replay-window.ts';
import type { MembershipConfig } from './membership/types.ts';
import { integer, list, optionName, resolveSettings, type Setting, type SettingValues } from './settings.ts';

function ipv4OrEmpty(raw: string, option: string): string {
  if (raw === '') return raw;
  const parsed = parseAddress(`${raw}:1`);
  // Only the canonical form: peers compare addresses as text, and '010.0.0.1' would
  // be announced as written but decoded by others as '10.0.0.1'.
  if (parsed && parsed.ip.join('.') === raw) return raw;
  throw new ConfigError(
    option,
    parsed
      ? `'${raw}' must be written without leading zeros: ${parsed.ip.join('.')}`
      : `'${raw}' is not an IPv4 address (example: 192.0.2.10)`,
  );
}

function peerName(raw: string, option: string): string {
  if (isMemberName(raw)) return raw;
  throw new ConfigError(option, `'${raw}' must be ${MEMBER_NAME_RULE}`);
}

function gossipKeys(raw: string, option: string): Buffer[] {
  return list(raw).map((entry, i) => {
    const key = parseGossipKey(entry);
    if (typeof key === 'string') throw new ConfigError(option, `key ${i + 1}: ${key}`);
    return key;
  });
}

export const PEER_SETTINGS = {
  name: {
    flag: 'name',
    env: 'PEER_NAME',
    default: '',
    parse: peerName,
    reason:
      'the hostname (it survives restarts of the same container), made to fit the name rule; where that is a container id, as in a scaled compose service, the container name from Docker DNS',
    describe: `Member name (identity, with the key), unique in the cluster: ${MEMBER_NAME_RULE}`,
  },
  bindAddress: {
    flag: 'bind-address',
    env: 'BIND_ADDRESS',
    default: '0.0.0.0',
    parse: ipv4OrEmpty,
    reason: 'all interfaces: a container has one per network and peers reach it on any',
    describe: 'IPv4 address the gossip socket binds',
  },
  gossipPort: {
    flag: 'gossip-port',
    env: 'GOSSIP_PORT',
    default: 7946,
    parse: integer(0, 65535),
    reason: "memberlist's and Serf's port, so firewall rules read familiarly; 0 picks a free port (tests)",
    describe: 'UDP port for gossip',
  },
  advertiseAddress: {
    flag: 'advertise-address',
    env: 'ADVERTISE_ADDRESS',
    default: '',
    parse: ipv4OrEmpty,
    reason:
      "empty: the bind address if specific, else the host's first non-loopback IPv4 (a container's network address), re-checked every second and re-announced if it changes",
    describe: 'IPv4 address other peers use to reach this one',
  },
  adminAddress: {
    flag: 'admin-address',
    env: 'ADMIN_ADDRESS',
    default: '0.0.0.0',
    parse: ipv4OrEmpty,
    reason: 'all interfaces, so the orchestrator and healthchecks reach it; it exposes no secrets',
    describe: 'IPv4 address the admin HTTP server binds',
  },
  adminPort: {
    flag: 'admin-port',
    env: 'ADMIN_PORT',
    default: 7947,
    parse: integer(0, 65535),
    reason: 'next to the gossip port; the image HEALTHCHECK asks 127.0.0.1:7947/healthz',
    describe: 'TCP port for /status, /metrics, /healthz, /readyz',
  },
  adminHeadersTimeoutMs: {
    flag: 'admin-headers-timeout-ms',
    env: 'ADMIN_HEADERS_TIMEOUT_MS',
    default: HTTP_LIMIT_DEFAULTS.headersTimeoutMs.value,
    parse: integer(HTTP_LIMIT_BOUNDS.timeoutMs.min, HTTP_LIMIT_BOUNDS.timeoutMs.max),
    reason: HTTP_LIMIT_DEFAULTS.headersTimeoutMs.reason,
    describe: 'Admin HTTP: a request line and headers must arrive within this (then 408, closed)',
  },
  adminRequestTimeoutMs: {
    flag: 'admin-request-timeout-ms',
    env: 'ADMIN_REQUEST_TIMEOUT_MS',
    default: HTTP_LIMIT_DEFAULTS.requestTimeoutMs.value,
    parse: integer(HTTP_LIMIT_BOUNDS.timeoutMs.min, HTTP_LIMIT_BOUNDS.timeoutMs.max),
    reason: HTTP_LIMIT_DEFAULTS.requestTimeoutMs.reason,
    describe: 'Admin HTTP: a whole request, headers and body, must arrive within this',
  },
  adminIdleTimeoutMs: {
    flag: 'admin-idle-timeout-ms',
    env: 'ADMIN_IDLE_TIMEOUT_MS',
    default: HTTP_LIMIT_DEFAULTS.idleTimeoutMs.value,
    parse: integer(HTTP_LIMIT_BOUNDS.timeoutMs.min, HTTP_LIMIT_BOUNDS.timeoutMs.max),
    reason: HTTP_LIMIT_DEFAULTS.idleTimeoutMs.reason,
    describe: 'Admin HTTP: a kept-alive connection with no request is closed after this',
  },
  adminMaxConnections: {
    flag: 'admin-max-connections',
    env: 'ADMIN_MAX_CONNECTIONS',
    default: 64,
    parse: integer(HTTP_LIMIT_BOUNDS.maxConnections.min, HTTP_LIMIT_BOUNDS.maxConnections.max),
    reason:
      'the orchestrator, a healthcheck and a few scrapers or watchers need a handful; more is an attack',
    describe: 'Admin HTTP: connections open at once; one more is closed when accepted',
  },
  join: {
    flag: 'join',
    env: 'JOIN',
    default: [] as string[],
    parse: (raw: string) => list(raw),
    reason: 'none: a lone peer forms its own cluster; compose passes the service name `peer`',
    describe: 'Seeds: host[:port] entries or DNS names resolving to many addresses (comma separated)',
  },
  gossipKeys: {
    flag: 'gossip-key',
    env: 'GOSSIP_KEY',
    default: [] as Buffer[],
    parse: gossipKeys,
    reason:
      'none: plaintext, as on a private Docker network; set one to keep outsiders from injecting rumours',
    describe: 'AES-256-GCM keys (base64 or hex, comma separated); the first encrypts, all decrypt',
  },
  gossipReplayWindowMs: {
    flag: 'gossip-replay-window-ms',
    env: 'GOSSIP_REPLAY_WINDOW_MS',
    default: DEFAULT_REPLAY_WINDOW_MS,
    parse: integer(1000, 3_600_000),
    reason:
      "wide enough for hosts whose clocks differ by tens of seconds; a sealed datagram's nonce is remembered this long, so a replay is refused",
    describe:
      'With --gossip-key: a sealed datagram is accepted only this close to our clock, once, and only at one of our addresses',
  },
  probeIntervalMs: {
    flag: 'probe-interval-ms',
    env: 'PROBE_INTERVAL_MS',
    default: 500,
    parse: integer(10, 60_000),
    reason: 'DESIGN.md §4: half of memberlist LAN 1 s, to detect failures within 3 s (p50)',
    describe: 'Time between probes of a random member',
  },
  probeTimeoutMs: {
    flag: 'probe-timeout-ms',
    env: 'PROBE_TIMEOUT_MS',
    default: 200,
    parse: integer(1, 60_000),
    reason: 'DESIGN.md §4: far above a LAN round trip, short enough to leave time for indirect probes',
    describe: 'Wait for a direct ack before asking others to probe',
  },
  indirectChecks: {
    flag: 'indirect-checks',
    env: 'INDIRECT_CHECKS',
    default: 3,
    parse: integer(0, 16),
    reason: 'DESIGN.md §4 and memberlist: three paths make a false suspicion from one lossy link unlikely',
    describe: 'Members asked to probe indirectly after a missed ack',
  },
  suspicionMult: {
    flag: 'suspicion-mult',
    env: 'SUSPICION_MULT',
    default: 4,
    parse: integer(1, 100),
    reason:
      'DESIGN.md §4 and memberlist: min suspicion = mult x log10(n) x gossip interval; mult-2 confirmations expected',
    describe: 'Suspicion timeout multiplier',
  },
  suspicionMaxMult: {
    flag: 'suspicion-max-mult',
    env: 'SUSPICION_MAX_MULT',
    default: 6,
    parse: integer(1, 100),
    reason:
      'memberlist: unconfirmed, a suspicion lasts 6x the minimum x log10(n), time for a slow suspect to refute',
    describe: 'Upper bound of the suspicion timeout, as a multiple of its minimum',
  },
  gossipIntervalMs: {
    flag: 'gossip-interval-ms',
    env: 'GOSSIP_INTERVAL_MS',
    default: 200,
    parse: integer(10, 60_000),
    reason: 'DESIGN.md §4 and memberlist LAN: rumours reach 1000 peers in about 8 rounds, under 2.5 s',
    describe: 'Time between gossip rounds (only sent when rumours are queued)',
  },
  gossipFanout: {
    flag: 'gossip-fanout',
    env: 'GOSSIP_FANOUT',
    default: 3,
    parse: integer(1, 64),
    reason: 'DESIGN.md §4 and memberlist LAN: three targets per round',
    describe: 'Members each gossip round sends to',
  },
  retransmitMult: {
    flag: 'retransmit-mult',
    env: 'RETRANSMIT_MULT',
    default: 4,
    parse: integer(1, 100),
    reason: 'DESIGN.md §4 and memberlist: each rumour is sent mult x ceil(log10(n+1)) times',
    describe: 'Retransmit limit multiplier',
  },
  pushPullIntervalMs: {
    flag: 'push-pull-interval-ms',
    env: 'PUSH_PULL_INTERVAL_MS',
    default: 10_000,
    parse: integer(100, 3_600_000),
    reason:
      'DESIGN.md §4; the pull grows with n above 256 members (the full push to a dead member above 32) so bytes per peer stay flat',
    describe:
      'Anti-entropy: pull what differs from a random member (and push the table to one dead member, scaled)',
  },
  pushPullAfterJoinMs: {
    flag: 'push-pull-after-join-ms',
    env: 'PUSH_PULL_AFTER_JOIN_MS',
    default: 500,
    parse: integer(10, 3_600_000),
    reason:
      'a seed answering a join knows only who joined before; pulls soon after pick up the rest (N = 1,000 simulated: 6.0 s to converge with 0.5 s, 8.4 s with 1 s)',
    describe:
      'Unit of the pulls of what this peer lacks after joining: five one unit apart (the first 1-2 units after), up to 8 more while its table still changes, then 2, 4, 8, ... units apart up to the regular interval',
  },
  gossipToDeadMs: {
    flag: 'gossip-to-dead-ms',
    env: 'GOSSIP_TO_DEAD_MS',
    default: 30_000,
    parse: integer(0, 3_600_000),
    reason: 'memberlist: keep gossiping to a dead member for 30 s so a paused one learns it must refute',
    describe: 'How long dead members stay gossip targets',
  },
  deadRetentionMs: {
    flag: 'dead-retention-ms',
    env: 'DEAD_RETENTION_MS',
    default: 60_000,
    parse: integer(1000, 86_400_000),
    reason:
      'long after the dead/left rumour has spread (seconds), short enough that churn does not grow the table',
    describe: 'How long dead and left members stay in the table',
  },
  awarenessMax: {
    flag: 'awareness-max',
    env: 'AWARENESS_MAX',
    default: 8,
    parse: integer(1, 64),
    reason: 'memberlist: a struggling peer slows its probing by at most 8x',
    describe: 'Local health awareness ceiling (Lifeguard)',
  },
  maxDatagramBytes: {
    flag: 'max-datagram-bytes',
    env: 'MAX_DATAGRAM_BYTES',
    default: 1400,
    parse: integer(576, 65_507),
    reason: 'DESIGN.md §4: below a 1500-byte Ethernet MTU with IP/UDP headers and tunnels (overlay networks)',
    describe: 'Largest datagram sent; state sync is split to fit',
  },
  maxMembers: {
    flag: 'max-members',
    env: 'MAX_MEMBERS',
    default: 1024,
    parse: integer(2, 1_000_000),
    reason:
      "the enclave's limit for one elect request; past it new members are refused (counted as table-full) after dead and left ones make room",
    describe: 'Most members the table holds, this peer included',
  },
  joinRetryMaxMs: {
    flag: 'join-retry-max-ms',
    env: 'JOIN_RETRY_MAX_MS',
    default: 30_000,
    parse: integer(100, 3_600_000),
    reason: 'retries start at 1 s and double; 30 s keeps a seedless peer quiet yet quick to find late seeds',
    describe: 'Longest wait between join attempts while no seed answers',
  },
  resolveIntervalMs: {
    flag: 'resolve-interval-ms',
    env: 'RESOLVE_INTERVAL_MS',
    default: 10_000,
    parse: integer(100, 3_600_000),
    reason:
      'DNS names are re-resolved this often so scaled-up and restarted replicas are found within seconds',
    describe: 'Re-resolve seed names and join addresses not yet members',
  },
  addressCheckMs: {
    flag: 'address-check-ms',
    env: 'ADDRESS_CHECK_MS',
    default: 1000,
    parse: integer(0, 3_600_000),
    reason:
      'a container Docker reconnects gets a new IP; a one-second check (a cheap syscall) re-announces it within a probe or two; 0: never',
    describe:
      'How often a peer that chose its own address (no --advertise-address, bind 0.0.0.0) checks it is still on an interface',
  },
  exec: {
    flag: 'exec',
    env: 'EXEC_COMMAND',
    default: '',
    parse: (raw: string) => raw.trim(),
    reason: 'none: run nothing; a sidecar-style job that must run on the leader only sets it',
    describe:
      'Command (run by /bin/sh -c) while this peer acts as leader; env ENCLAVE_ELECT_TOKEN, ENCLAVE_ELECT_EPOCH, ENCLAVE_ELECT_TOKEN_URL; stopped >= 200 ms before its acting window ends',
  },
  execGraceMs: {
    flag: 'exec-grace-ms',
    env: 'EXEC_GRACE_MS',
    default: 300,
    parse: integer(0, 10_000),
    reason:
      'time for the command to stop cleanly between SIGTERM and SIGKILL; with the 450 ms stop lead (250 ms + the leader margin) the command is signalled after about two missed renewals (lease 2 s)',
    describe: 'Between SIGTERM and SIGKILL of the --exec command',
  },
} satisfies Record<string, Setting<unknown>>;

export type PeerConfig = SettingValues<typeof PEER_SETTINGS>;

export const PEER_DEFAULTS: PeerConfig = Object.fromEntries(
  Object.entries(PEER_SETTINGS).map(([key, s]) => [key, s.default]),
) as PeerConfig;

/** Resolve and validate every setting from flags (raw strings) and the environment. */
export function resolvePeerConfig(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): PeerConfig {
  const resolved = resolveSettings(PEER_SETTINGS, flags, env);
  // A hostname need not fit the name rule (64 characters, a leading '_'): derive one that does.
  if (resolved.name === '') resolved.name = memberNameFrom(hostname().split('.')[0] ?? '');
  const httpProblem = httpLimitsProblem(adminHttpLimits(resolved));
  if (httpProblem) throw new ConfigError(optionName(PEER_SETTINGS.adminHeadersTimeoutMs), httpProblem);
  if (resolved.probeTimeoutMs >= resolved.probeIntervalMs) {
    throw new ConfigError(
      optionName(PEER_SETTINGS.probeTimeoutMs),
      `${resolved.probeTimeoutMs} must be below --probe-interval-ms (${resolved.probeIntervalMs})`,
    );
  }
  return resolved;
}

const MEMBERSHIP_KEYS = [
  'probeIntervalMs',
  'probeTimeoutMs',
  'indirectChecks',
  'suspicionMult',
  'suspicionMaxMult',
  'gossipIntervalMs',
  'gossipFanout',
  'retransmitMult',
  'pushPullIntervalMs',
  'pushPullAfterJoinMs',
  'gossipToDeadMs',
  'deadRetentionMs',
  'awarenessMax',
  'maxDatagramBytes',
  'maxMembers',
] as const satisfies readonly (keyof MembershipConfig & keyof PeerConfig)[];

/** The part of the peer's settings the SWIM core reads. */
export function membershipConfig(config: PeerConfig): MembershipConfig {
  return Object.fromEntries(MEMBERSHIP_KEYS.map((key) => [key, config[key]])) as unknown as MembershipConfig;
}

/** The admin HTTP server's timeouts and connection cap. */
export function adminHttpLimits(config: PeerConfig): HttpLimits {
  return {
    headersTimeoutMs: config.adminHeadersTimeoutMs,
    requestTimeoutMs: config.adminRequestTimeoutMs,
    idleTimeoutMs: config.adminIdleTimeoutMs,
    maxConnections: config.adminMaxConnections,
  };
}
