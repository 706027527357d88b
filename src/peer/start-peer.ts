// Start one cluster member (what `enclave-elect peer` runs): wires the membership
// runtime to a UDP socket, seed discovery, the election, the admin HTTP server
// and the logger, and leaves the cluster gracefully on stop.
import type { KeyObject } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { EnclaveClient } from '../enclave/client/enclave-client.ts';
import { EnclaveElectError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { generateKeyPairSync, randomInt } from '../platform/node-crypto.ts';
import { createKeyring } from '../protocol/gossip-keyring.ts';
import { seededRandom } from '../random/seeded-random.ts';
import { systemClock } from '../time/clock.ts';
import { AddressWatch, firstExternalIpv4, isInterfaceAddress } from './address-watch.ts';
import {
  evaluateReadiness,
  type ReadinessCheck,
  type StartedAdminServer,
  startAdminServer,
} from './admin/admin-server.ts';
import { leaderApiRoutes } from './admin/leader-api.ts';
import { PeerMetrics } from './admin/peer-metrics.ts';
import { PeerAdmission } from './admission/peer-admission.ts';
import { adminHttpLimits, membershipConfig, type PeerConfig } from './config.ts';
import { type Lookup, parseSeeds, SeedDiscovery } from './discovery/seed-discovery.ts';
import type { ElectionConfig } from './election/election-config.ts';
import { PeerElection } from './election/peer-election.ts';
import { PeerLeadership } from './leadership/peer-leadership.ts';
import type { MembershipEvent } from './membership/membership-events.ts';
import { MembershipNode } from './membership-node.ts';
import { UdpTransport } from './transport/udp-transport.ts';

export interface PeerIdentity {
  name: string;
  /** Raw 32-byte Ed25519 public key, carried in the membership entry. */
  publicKey: Uint8Array;
  /** Kept in memory only; signs renew/resign requests in the election layer. */
  privateKey: KeyObject;
}

export interface StartedPeer {
  readonly identity: PeerIdentity;
  readonly node: MembershipNode;
  readonly adminPort: number;
  /** The epoch of the leader certificate this peer holds (0: none, or no election). */
  epoch(): number;
  /** Add a readiness condition (e.g. "holds a verified leader certificate"). */
  addReadinessCheck(check: ReadinessCheck): void;
  /** Graceful: announce leave, then close everything. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export function createIdentity(name: string): PeerIdentity {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { name, publicKey: new Uint8Array(raw), privateKey };
}

/** The address to advertise: explicit, else the bind address, else the first non-loopback IPv4. */
export function chooseAdvertiseAddress(config: PeerConfig): string {
  if (config.advertiseAddress) return config.advertiseAddress;
  if (config.bindAddress !== '0.0.0.0') return config.bindAddress;
  return firstExternalIpv4(networkInterfaces) ?? '127.0.0.1';
}

/** Whether the advertised address was picked from the interfaces (and so may change). */
function advertiseIsChosen(config: PeerConfig): boolean {
  return !config.advertiseAddress && config.bindAddress === '0.0.0.0';
}

function localAddresses(): Set<string> {
  const ips = new Set(['127.0.0.1', '0.0.0.0']);
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) if (entry.family === 'IPv4') ips.add(entry.address);
  }
  return ips;
}

const DEBUG_EVENTS = new Set(['probe.failed', 'message.ignored', 'member.removed', 'broadcast.received']);
const WARN_EVENTS = new Set(['self.refuted', 'member.conflict', 'member.suspect']);

export function logMembershipEvent(log: Logger, event: MembershipEvent): void {
  if (event.event === 'broadcast.received') {
    const { payload, ...rest } = event;
    log.debug({ ...rest, bytes: payload.length });
  } else if (event.event === 'internal.error') log.error(event);
  else if (DEBUG_EVENTS.has(event.event)) log.debug(event);
  else if (WARN_EVENTS.has(event.event)) log.warn(event);
  else log.info(event);
}

export interface StartPeerOptions {
  lookup?: Lookup;
  identity?: PeerIdentity;
  /** Election settings; null or absent: membership only. */
  election?: ElectionConfig | null;
  /** How requests reach the enclave; the global fetch by default. */
  fetch?: typeof fetch;
}

/** How long a stopping leader waits for the enclave to accept its resignation. */
const RESIGN_TIMEOUT_MS = 400;
/** Time for the hand-over certificate to leave by gossip (one gossip round is 200 ms). */
const HANDOVER_LINGER_MS = 250;

export async function startPeer(
  config: PeerConfig,
  logger: Logger,
  options: StartPeerOptions = {},
): Promise<StartedPeer> {
  const identity = options.identity ?? createIdentity(config.name);
  const log = logger.child({ component: 'peer', peer: identity.name });
  const seeds = parseSeeds(config.join, config.gossipPort || 7946);
  const advertise = chooseAdvertiseAddress(config);
  const transport = await UdpTransport.open({
    bindAddress: config.bindAddress,
    port: config.gossipPort,
    advertiseAddress: advertise,
    receiveBufferBytes: 1 << 20,
    onError: (error) => log.debug({ event: 'gossip.send-error', error: error.message }),
  }).catch((error: NodeJS.ErrnoException) => {
    throw new EnclaveElectError(
      'E_BIND',
      `cannot bind gossip UDP ${config.bindAddress}:${config.gossipPort} (${error.code ?? error.message}); choose another --gossip-port or --bind-address`,
      { cause: error },
    );
  });
  // One attested enclave client for admission and election alike.
  const client = options.election
    ? new EnclaveClient({
        url: options.election.enclaveUrl,
        root: options.election.root,
        pinnedChecksum: options.election.pinnedChecksum,
        clusterId: options.election.clusterId,
        clock: systemClock,
        timeoutMs: options.election.requestTimeoutMs,
        // The peer's own fetch (node:http): the global one (undici) costs a peer about 15 MB of RSS.
        ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
        // The leadership observer (metrics) exists only further down: forward to it.
        observer: {
          enclaveRequest: (operation, outcome, seconds) =>
            leadership.observer.enclaveRequest(operation, outcome, seconds),
          certificateVerified: (result, cached) => leadership.observer.certificateVerified(result, cached),
        },
      })
    : undefined;
  const admission =
    options.election && client
      ? new PeerAdmission({
          name: identity.name,
          signer: identity.privateKey,
          clusterId: options.election.clusterId,
          client,
          joinSecret: options.election.joinSecret,
          clock: systemClock,
          logger: log,
        })
      : undefined;
  const node = new MembershipNode({
    ...(admission ? { authority: admission.authority } : {}),
    name: identity.name,
    publicKey: identity.publicKey,
    // Wall-clock ms: a restarted peer outranks every rumour about its former self.
    incarnation: Date.now(),
    config: membershipConfig(config),
    transport,
    clock: systemClock,
    random: seededRandom(randomInt(2 ** 32)),
    keyring: config.gossipKeys.length > 0 ? createKeyring(config.gossipKeys) : undefined,
    replayWindowMs: config.gossipReplayWindowMs,
    isLocalAddress: (address) => isInterfaceAddress(address, transport.address, networkInterfaces),
  });
  node.on((event) => {
    if (event.event === 'admission.refused') admission?.unknownKey();
    else logMembershipEvent(log, event);
  });

  const port = Number(transport.address.split(':')[1]);
  const addressWatch =
    advertiseIsChosen(config) && config.addressCheckMs > 0
      ? new AddressWatch({
          current: advertise,
          clock: systemClock,
          everyMs: config.addressCheckMs,
          list: networkInterfaces,
          onChange: (ip) => node.readdress(`${ip}:${port}`),
          onError: (error) =>
            log.warn({
              event: 'address.check-failed',
              error: error instanceof Error ? error.message : String(error),
            }),
        })
      : undefined;
  const discovery = new SeedDiscovery({
    seeds,
    target: node,
    isSelf: (address) => {
      const [ip, p] = address.split(':');
      // Interfaces come and go (a container moved between networks): ask each time (rare: discovery).
      return address === node.address || (Number(p) === port && localAddresses().has(ip!));
    },
    clock: systemClock,
    lookup: options.lookup,
    resolveIntervalMs: config.resolveIntervalMs,
    retryMaxMs: config.joinRetryMaxMs,
    report: (report) => (report.event === 'join.waiting' ? log.warn(report) : log.info(report)),
  });

  // Readiness checks are added below; the metrics read them when scraped.
  const readiness: ReadinessCheck[] = [];
  let election: PeerElection | undefined;
  let adminPort = config.adminPort;
  const metrics = new PeerMetrics({
    counters: node.counters,
    memberStates: () => node.members().map((m) => m.state),
    incarnation: () => node.self.incarnation,
    awarenessScore: () => node.awarenessScore,
    ready: () => evaluateReadiness(readiness).ready,
    leadership: () => {
      if (!election) return null;
      const { certificate, isLeader } = election.election.status();
      return {
        isLeader,
        epoch: certificate?.claims.epoch ?? 0,
        leaseEndsAt: certificate?.claims.lease_end ?? null,
      };
    },
  });
  const leadership = new PeerLeadership({
    clock: systemClock,
    metrics,
    logger: log,
    execCommand: config.exec,
    execGraceMs: config.execGraceMs,
    ...(options.election ? { execTimerSlackMs: options.election.timing.leaderMarginMs } : {}),
    tokenUrl: () => `http://127.0.0.1:${adminPort}/v1/token`,
  });
  election = options.election
    ? new PeerElection({
        node,
        signer: identity.privateKey,
        enclaveUrl: options.election.enclaveUrl,
        root: options.election.root,
        pinnedChecksum: options.election.pinnedChecksum,
        clusterId: options.election.clusterId,
        timing: options.election.timing,
        requestTimeoutMs: options.election.requestTimeoutMs,
        joined: () => node.joined || discovery.alone,
        logger: log,
        observer: leadership.observer,
        ...(client ? { client } : {}),
        ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
        // With admission on, adopt only certificates whose leader holds the key its
        // admission names; one that arrives before that admission is held and
        // adopted when the book catches up (election/admission-hold.ts).
        ...(admission?.joinsLater
          ? {
              admission: (name: string, key: string, issuedAt: number) => {
                const held = admission.authority.book.admission(name);
                if (held?.key === key) return 'admitted';
                // Another key, admitted after the certificate was issued, contradicts it; an older one may be stale.
                return held !== undefined && held.iat > issuedAt ? 'other-key' : 'unknown';
              },
            }
          : {}),
      })
    : undefined;
  leadership.attach(election);
  if (admission && election) {
    const reporting = election;
    admission.reportThrough = (call) => reporting.reportEnclaveCall(call);
  }

  readiness.push({
    name: 'membership',
    check: () =>
      node.joined
        ? { ready: true }
        : discovery.alone
          ? { ready: true, detail: 'no other seed: a cluster of one so far' }
          : { ready: false, detail: 'joining: no seed has answered yet' },
  });
  let admin: StartedAdminServer;
  try {
    admin = await startAdminServer({
      host: config.adminAddress,
      port: config.adminPort,
      limits: adminHttpLimits(config),
      readiness,
      metrics,
      routes: leaderApiRoutes({ source: leadership, watch: leadership.watch }),
      status: () => ({
        name: node.name,
        incarnation: node.self.incarnation,
        address: node.address,
        joined: node.joined,
        awareness: node.awarenessScore,
        members: node.members().map(({ name, address, state, incarnation, publicKey }) => ({
          name,
          address,
          state,
          incarnation,
          publicKey: Buffer.from(publicKey).toString('base64url'),
        })),
        admission: admission ? admission.status() : null,
        counters: {
          ...node.counters.snapshot(),
          ...(election ? { certificatesDropped: election.droppedCertificates() } : {}),
        },
        ...(election ? election.status() : { leader: null, isLeader: false, enclave: null }),
      }),
    });
  } catch (error) {
    await node.close();
    throw new EnclaveElectError(
      'E_BIND',
      `cannot serve admin HTTP on ${config.adminAddress}:${config.adminPort} (${(error as NodeJS.ErrnoException).code ?? String(error)}); choose another --admin-port or --admin-address`,
      { cause: error },
    );
  }
  adminPort = admin.port;
  log.info({
    event: 'peer.started',
    address: node.address,
    adminPort: admin.port,
    incarnation: node.self.incarnation,
    // The public identity key: chaos checks that every accepted certificate names a member with its own key.
    key: Buffer.from(node.self.publicKey).toString('base64url'),
    seeds: config.join,
    encrypted: config.gossipKeys.length > 0,
    enclave: options.election?.enclaveUrl ?? null,
    pinnedChecksum: options.election?.pinnedChecksum ?? null,
    pinnedChecksumSource: options.election?.checksumSource ?? null,
    exec: config.exec || null,
  });
  if (admission) {
    readiness.push({
      name: 'admission',
      check: () =>
        admission.admitted
          ? { ready: true }
          : { ready: false, detail: 'not admitted (yet): no other member lists this peer' },
    });
  }
  let stopRequested = false;
  if (admission?.joinsLater) {
    // Join only once admitted (the join hands our admission to the seed); the
    // admin port answers meanwhile, and an enclave that is down only delays it.
    admission
      .start()
      .then(() => (stopRequested ? undefined : discovery.start()))
      .catch((error: Error) => log.info({ event: 'admission.abandoned', error: error.message }));
  } else {
    await admission?.start();
    await discovery.start();
  }
  addressWatch?.start();
  leadership.start();
  if (election) {
    readiness.push(election.readiness());
    election.start();
  } else {
    log.warn({ event: 'election.disabled', reason: 'no --enclave-url (ENCLAVE_URL): membership only' });
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      stopRequested = true;
      discovery.stop();
      addressWatch?.stop();
      // The --exec child stops before the leader resigns: it must not outlive the leadership.
      await leadership.stop();
      admission?.stop();
      if (election) {
        // A leader resigns first and gossips the hand-over certificate.
        const wasLeader = election.election.status().isLeader;
        await election.shutdown(RESIGN_TIMEOUT_MS);
        if (wasLeader) await new Promise((resolve) => setTimeout(resolve, HANDOVER_LINGER_MS));
      }
      await node.leave(50);
      await admin.close();
      log.info({ event: 'peer.stopped' });
    })();
    return stopping;
  };
  return {
    identity,
    node,
    adminPort: admin.port,
    epoch: () => election?.election.status().certificate?.claims.epoch ?? 0,
    addReadinessCheck: (check) => readiness.push(check),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
