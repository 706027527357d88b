// A real election cluster for the container tests, laid out like the compose
// file: a one-shot `pki init` into labelled volumes, the enclave (alias
// `enclave`, state on its own volume) and N peers joining by the alias `peer`,
// all from the project image on a private labelled network. The test process
// reads each peer's /status at the container's address on that network, and
// rebuilds leader intervals from the containers' logs. `close()` removes
// everything; `sweep(runId)` is the last resort.
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import type { History, HistoryEvent } from '../../src/chaos/history.ts';
import { eventFromLogLine } from '../../src/chaos/history.ts';
import {
  ENCLAVE_ALIAS,
  ENCLAVE_PORT,
  enclaveCommand,
  JOIN_DIR,
  PEER_ALIAS,
  PKI_DIR,
  peerCommand,
  pkiInitCommand,
  STATE_DIR,
  TRUST_DIR,
} from '../../src/orchestrator/cluster-commands.ts';
import type { PeerStatus } from '../../src/orchestrator/peer-status.ts';
import { containerOutput, createTestNetwork, docker, sweep, type TestNetwork, testLabels } from './docker.ts';
import { buildProjectImage, TEST_IMAGE } from './image.ts';

export const LEASE_MS = 2000;
/** DESIGN.md §5, invariant 3: agreement within lease + 2 s. */
export const AGREEMENT_MS = LEASE_MS + 2000;
const ADMIN_PORT = 7947;

export interface ElectionClusterOptions {
  runId: string;
  /** Distinguishes several clusters of one run (network and volume names). */
  suffix: string;
  peers: number;
  /** A function bundle to copy into the enclave container and load with --function. */
  enclaveFunction?: { path: string; content: string };
}

export interface Agreement {
  leader: string;
  epoch: number;
  statuses: Map<string, PeerStatus>;
}

/** The claims and header of a compact JWS, unverified (the peers verified it). */
export function decodeJws(compact: string): {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
} {
  const [header, payload] = compact.split('.');
  const json = (part: string | undefined) =>
    JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
  return { header: json(header), claims: json(payload) };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `probe` until it returns a value (not undefined) or the deadline passes. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  describeLast: () => string = () => '',
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${describeLast()}`);
    await sleep(everyMs);
  }
}

interface Layout {
  runId: string;
  clusterId: string;
  network: string;
  volumes: { pki: string; trust: string; state: string; join: string };
}

/** A container of the project image on the cluster network, with compose's hardening where testcontainers offers it. */
function hardened(layout: Layout, command: string[]): GenericContainer {
  return new GenericContainer(TEST_IMAGE)
    .withCommand(command)
    .withLabels(testLabels(layout.runId))
    .withNetworkMode(layout.network)
    .withDroppedCapabilities('ALL')
    .withSecurityOpt('no-new-privileges:true')
    .withTmpFs({ '/tmp': 'rw,size=16m' })
    .withEnvironment({ CLUSTER_ID: layout.clusterId, LOG_LEVEL: 'info', LOG_PRETTY: '0' })
    .withStartupTimeout(120_000);
}

/** The enclave with alias `enclave`, its state on the cluster's volume; optionally another function bundle. */
function startEnclaveContainer(
  layout: Layout,
  fn?: { path: string; content: string },
): Promise<StartedTestContainer> {
  const settings = { cluster: layout.clusterId, policy: 'vrf' as const, leaseMs: LEASE_MS };
  const definition = hardened(layout, [...enclaveCommand(settings), ...(fn ? ['--function', fn.path] : [])])
    .withNetworkAliases(ENCLAVE_ALIAS)
    .withEnvironment({ HEALTHCHECK_URL: `http://127.0.0.1:${ENCLAVE_PORT}/healthz` })
    .withBindMounts([
      { source: layout.volumes.pki, target: PKI_DIR, mode: 'ro' },
      { source: layout.volumes.state, target: STATE_DIR },
      { source: layout.volumes.join, target: JOIN_DIR, mode: 'ro' },
    ])
    .withWaitStrategy(Wait.forLogMessage(/"event":"enclave\.listening"/));
  return (
    fn ? definition.withCopyContentToContainer([{ content: fn.content, target: fn.path }]) : definition
  ).start();
}

export class ElectionCluster {
  readonly runId: string;
  readonly clusterId: string;
  readonly network: TestNetwork;
  /** The current enclave container (replaceEnclave starts another). */
  enclave: StartedTestContainer;
  readonly #layout: Layout;
  /** Peer name -> container. */
  readonly peers: Map<string, StartedTestContainer>;
  /** Peers a test has taken out (killed, stopped, paused): not expected to answer. */
  readonly down = new Set<string>();
  /** Kills and stops, for leader intervals of processes that ended without a release. */
  readonly ended: { peer: string; t: number }[] = [];
  readonly startedAt = Date.now();
  #lastViews: [string, PeerStatus | string][] = [];
  readonly #addresses = new Map<string, string>();
  /** Containers started by startOutsider, removed with the cluster. */
  readonly outsiders: StartedTestContainer[] = [];

  private constructor(
    layout: Layout,
    network: TestNetwork,
    enclave: StartedTestContainer,
    peers: Map<string, StartedTestContainer>,
  ) {
    this.#layout = layout;
    this.runId = layout.runId;
    this.clusterId = layout.clusterId;
    this.network = network;
    this.enclave = enclave;
    this.peers = peers;
  }

  static async start(options: ElectionClusterOptions): Promise<ElectionCluster> {
    const { runId, suffix } = options;
    const clusterId = `itest-${suffix}`;
    const labels = testLabels(runId);
    await buildProjectImage();
    const network = await createTestNetwork(runId, suffix);
    const volume = async (kind: string) => {
      const name = `enclave-elect-${runId}-${suffix}-${kind}`;
      await docker.createVolume({ Name: name, Labels: labels });
      return name;
    };
    const [pki, trust, state, join] = (await Promise.all(
      ['pki', 'trust', 'state', 'join'].map((kind) => volume(kind)),
    )) as [string, string, string, string];
    const layout: Layout = { runId, clusterId, network: network.name, volumes: { pki, trust, state, join } };
    await hardened(layout, pkiInitCommand())
      .withBindMounts([
        { source: pki, target: PKI_DIR },
        { source: trust, target: TRUST_DIR },
        { source: join, target: JOIN_DIR },
      ])
      .withWaitStrategy(Wait.forOneShotStartup())
      .start();
    const enclave = await startEnclaveContainer(layout, options.enclaveFunction);
    const settings = { cluster: clusterId };

    const peers = new Map<string, StartedTestContainer>();
    await Promise.all(
      Array.from({ length: options.peers }, async (_, i) => {
        const name = `peer-${i + 1}`;
        const { cmd, env } = peerCommand(name, settings);
        const container = await hardened(layout, cmd)
          .withEnvironment(Object.fromEntries(env.map((e) => e.split('=', 2) as [string, string])))
          .withNetworkAliases(PEER_ALIAS, name)
          .withBindMounts([
            { source: trust, target: TRUST_DIR, mode: 'ro' },
            { source: join, target: JOIN_DIR, mode: 'ro' },
          ])
          .withWaitStrategy(Wait.forLogMessage(/"event":"peer\.started"/))
          .start();
        peers.set(name, container);
      }),
    );
    return new ElectionCluster(layout, network, enclave, peers);
  }

  /**
   * An outsider on the cluster network: this project's own `peer`, joining by
   * the alias `peer`, holding only the published root certificate (no join
   * secret). Not counted among the cluster's peers.
   */
  async startOutsider(name: string): Promise<StartedTestContainer> {
    const { cmd, env } = peerCommand(name, { cluster: this.clusterId });
    // No join secret: it holds nothing but what is public.
    const publicEnv = env.filter((e) => !e.startsWith('JOIN_SECRET='));
    const container = await hardened(this.#layout, cmd)
      .withEnvironment(Object.fromEntries(publicEnv.map((e) => e.split('=', 2) as [string, string])))
      .withNetworkAliases(name)
      .withBindMounts([{ source: this.#layout.volumes.trust, target: TRUST_DIR, mode: 'ro' }])
      .withWaitStrategy(Wait.forLogMessage(/"event":"peer\.started"/))
      .start();
    this.outsiders.push(container);
    return container;
  }

  /** Remove this cluster's containers, network and volumes (by the run's label). */
  async close(): Promise<void> {
    for (const container of [...this.peers.values(), ...this.outsiders, this.enclave]) {
      await docker
        .getContainer(container.getId())
        .remove({ force: true, v: true })
        .catch(() => undefined);
    }
    await sweep(this.runId);
  }

  /**
   * Stop the enclave and start another in its place (same alias, keys and state
   * volume), e.g. running a tampered function: peers keep the URL they attested.
   */
  async replaceEnclave(fn?: { path: string; content: string }): Promise<void> {
    await docker.getContainer(this.enclave.getId()).stop({ t: 2 });
    this.enclave = await startEnclaveContainer(this.#layout, fn);
  }

  /** The cluster's volumes (e.g. to mount the published root or, for an admitted attacker, the join secret). */
  get volumes(): Readonly<Layout['volumes']> {
    return this.#layout.volumes;
  }

  live(): string[] {
    return [...this.peers.keys()].filter((name) => !this.down.has(name)).sort();
  }

  containerId(name: string): string {
    const container = name === 'enclave' ? this.enclave : this.peers.get(name);
    if (!container) throw new Error(`no container ${name} in this cluster`);
    return container.getId();
  }

  /**
   * The container's address on the cluster network, cached (polling must not load
   * the engine); a container may get another one when it starts again.
   */
  async address(name: string): Promise<string> {
    const cached = this.#addresses.get(name);
    if (cached) return cached;
    const info = await docker.getContainer(this.containerId(name)).inspect();
    const ip = info.NetworkSettings.Networks[this.network.name]?.IPAddress;
    if (!ip) throw new Error(`${name} has no address on ${this.network.name} (${info.State.Status})`);
    this.#addresses.set(name, ip);
    return ip;
  }

  async status(name: string, timeoutMs = 2000): Promise<PeerStatus> {
    const url = `http://${await this.address(name)}:${ADMIN_PORT}/status`;
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return (await response.json()) as PeerStatus;
  }

  /** Every named peer's /status (an error message where it did not answer). */
  async views(names: string[] = this.live()): Promise<Map<string, PeerStatus | string>> {
    const views = await Promise.all(
      names.map(async (name): Promise<[string, PeerStatus | string]> => {
        try {
          return [name, await this.status(name)];
        } catch (error) {
          return [name, `no status: ${(error as Error).message}`];
        }
      }),
    );
    this.#lastViews = views;
    return new Map(views);
  }

  /** One line per peer of the last views read, for failure messages. */
  describeViews(): string {
    return this.#lastViews
      .map(([name, v]) =>
        typeof v === 'string'
          ? `  ${name}: ${v}`
          : `  ${name}: leader=${v.leader?.name ?? null} epoch=${v.leader?.epoch ?? null} verified=${v.leader?.verified ?? null} isLeader=${v.isLeader} enclave.trusted=${v.enclave?.trusted} members=${(v.members ?? []).filter((m) => m.state === 'alive').length} error=${v.enclave?.error ?? null}`,
      )
      .join('\n');
  }

  /** The named peers all hold the same verified certificate's leader and epoch (or undefined). */
  async agreement(names: string[] = this.live()): Promise<Agreement | undefined> {
    const views = await this.views(names);
    const statuses = new Map<string, PeerStatus>();
    for (const [name, v] of views) if (typeof v !== 'string') statuses.set(name, v);
    if (statuses.size !== names.length) return undefined;
    const first = statuses.values().next().value?.leader;
    if (!first) return undefined;
    for (const s of statuses.values()) {
      if (s.leader?.verified !== true) return undefined;
      if (s.leader.name !== first.name || s.leader.epoch !== first.epoch) return undefined;
    }
    return { leader: first.name, epoch: first.epoch, statuses };
  }

  /** Poll until the live peers agree and `accept` holds; returns the agreement. */
  agreed(
    what: string,
    timeoutMs: number,
    accept: (a: Agreement) => boolean = () => true,
    names?: () => string[],
  ): Promise<Agreement> {
    return until(
      what,
      async () => {
        const a = await this.agreement(names?.() ?? this.live());
        return a && accept(a) ? a : undefined;
      },
      timeoutMs,
      () => this.describeViews(),
    );
  }

  /**
   * Converged: the agreed leader acts as leader (isLeader) and no other live peer
   * does, and every live peer sees every live peer alive.
   */
  async actingLeader(timeoutMs: number): Promise<Agreement> {
    const live = this.live();
    return this.agreed('one acting leader, full membership', timeoutMs, (a) =>
      [...a.statuses].every(
        ([name, s]) =>
          s.isLeader === (name === a.leader) &&
          live.every((peer) => s.members?.some((m) => m.name === peer && m.state === 'alive')),
      ),
    );
  }

  async kill(name: string): Promise<void> {
    await docker.getContainer(this.containerId(name)).kill();
    this.ended.push({ peer: name, t: Date.now() });
    this.down.add(name);
  }

  /** `docker stop` (SIGTERM, then SIGKILL after `graceS`). */
  async stop(name: string, graceS = 10): Promise<void> {
    this.down.add(name);
    await docker.getContainer(this.containerId(name)).stop({ t: graceS });
    this.ended.push({ peer: name, t: Date.now() });
  }

  async start(name: string): Promise<void> {
    this.#addresses.delete(name);
    await docker.getContainer(this.containerId(name)).start();
    this.down.delete(name);
  }

  async pause(name: string): Promise<void> {
    // The engine's cgroup freezer can fail under load ("unable to freeze"), leaving
    // the container running: that is the engine, not the peer, so try again.
    for (let attempt = 1; ; attempt++) {
      try {
        await docker.getContainer(this.containerId(name)).pause();
        break;
      } catch (error) {
        if (attempt >= 5 || !/unable to freeze/.test(String((error as Error).message))) throw error;
        await sleep(200);
      }
    }
    this.down.add(name);
  }

  async unpause(name: string): Promise<void> {
    await docker.getContainer(this.containerId(name)).unpause();
    this.down.delete(name);
  }

  /** A container's JSON log lines, parsed (every run of the container). */
  async logLines(name: string): Promise<Record<string, unknown>[]> {
    const { stdout } = await containerOutput(this.containerId(name));
    const lines: Record<string, unknown>[] = [];
    for (const line of stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line cut by a kill: not an event
      }
    }
    return lines;
  }

  /**
   * A container's log lines once `accept` holds for them (pino writes
   * asynchronously and Docker copies the output: a line can trail /status).
   */
  logLinesUntil(
    name: string,
    what: string,
    accept: (lines: Record<string, unknown>[]) => boolean,
    timeoutMs = 10_000,
  ): Promise<Record<string, unknown>[]> {
    let last: Record<string, unknown>[] = [];
    return until(
      `${name}: ${what}`,
      async () => {
        last = await this.logLines(name);
        return accept(last) ? last : undefined;
      },
      timeoutMs,
      () =>
        `last events: ${last
          .slice(-10)
          .map((l) => JSON.stringify(l))
          .join('\n')}`,
      200,
    );
  }

  async events(name: string): Promise<HistoryEvent[]> {
    const { stdout } = await containerOutput(this.containerId(name));
    return stdout
      .split('\n')
      .map((line) => eventFromLogLine(line, name, 0))
      .filter((e): e is HistoryEvent => e !== null);
  }

  /** Every peer's events as a chaos History: kills and stops end a process's open interval. */
  async history(): Promise<History> {
    const events = (await Promise.all([...this.peers.keys()].map((name) => this.events(name)))).flat();
    return {
      leaseMs: LEASE_MS,
      startedAt: this.startedAt,
      endedAt: Date.now(),
      events: events.sort((a, b) => a.t - b.t),
      faults: this.ended.map((e) => ({
        kind: 'ended',
        target: e.peer,
        start: e.t,
        heal: null,
        endsProcess: true,
      })),
      observations: [],
    };
  }

  /** The enclave's `enclave.request` lines: method and path of every HTTP request it served. */
  async enclaveRequests(): Promise<{ t: number; method: string; path: string; status: number }[]> {
    return (await this.logLines('enclave'))
      .filter((l) => l.event === 'enclave.request')
      .map((l) => ({
        t: Date.parse(String(l.time)),
        method: String(l.method),
        path: String(l.path),
        status: Number(l.status),
      }));
  }
}
