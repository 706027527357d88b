// Network partitions made by the kernel, not by the application: each side of
// a partition is its own network. One side (the enclave's, else the largest)
// stays on the cluster's main network, with its addresses and connections; each
// other side moves onto a new project network (an internal bridge), keeping its
// DNS aliases (`peer`, `enclave`, ...); the enclave joins the side(s) chosen.
// Docker isolates bridges from each other, so datagrams between sides are
// dropped. `heal` moves everyone back to the main network at the address it
// had, removes the side networks, and proves every container reaches every other.
import { EnclaveElectError } from '../errors.ts';
import { EXEC_CONCURRENCY, mapBounded } from './bounded-map.ts';
import { type ClusterContainer, requireCluster } from './cluster-inventory.ts';
import { type DockerClient, dockerMessage } from './docker-client.ts';
import {
  type ClusterSelector,
  COMPOSE_LABEL,
  describeSelector,
  LABEL,
  partitionNetworkFilter,
  partitionNetworkLabels,
  resourcePrefix,
} from './labels.ts';
import type { PartitionPlan } from './partition-plan.ts';
import { addressesOf, type ProbeResult, probeFrom } from './reachability.ts';

type Docker = Pick<
  DockerClient,
  'listContainers' | 'getContainer' | 'listNetworks' | 'getNetwork' | 'createNetwork'
>;

export interface NetworkRef {
  id: string;
  name: string;
}

export interface ReachabilityProof {
  /** Pairs probed (from, to). */
  checked: number;
  /** Pairs whose outcome differed from what the partition should give. */
  unexpected: (ProbeResult & { expected: boolean })[];
  /** Containers not probed (not running, or paused). */
  skipped: string[];
}

export interface PartitionResult {
  cluster: string;
  mainNetwork: string;
  sides: { side: string; network: string; peers: string[]; enclave: boolean }[];
  proof: ReachabilityProof;
}

export interface HealResult {
  cluster: string;
  mainNetwork: string;
  moved: string[];
  /** Moved containers that came back at another address (networks without a user-set subnet). */
  readdressed: { name: string; was: string; now: string }[];
  removedNetworks: string[];
  proof: ReachabilityProof;
}

export function partitionNetworkName(selector: ClusterSelector, side: string): string {
  const base = selector.kind === 'name' ? resourcePrefix(selector.name) : `${selector.project}-enclave-elect`;
  return `${base}-side-${side.toLowerCase()}`;
}

/** The network the cluster lives on when healed. */
export async function findMainNetwork(
  docker: Pick<DockerClient, 'listNetworks'>,
  selector: ClusterSelector,
  containers: ClusterContainer[],
): Promise<NetworkRef> {
  const label =
    selector.kind === 'name'
      ? [`${LABEL.cluster}=${selector.name}`, `${LABEL.role}=network`]
      : [`${COMPOSE_LABEL.project}=${selector.project}`];
  const networks = await docker.listNetworks({ filters: JSON.stringify({ label }) });
  let candidates = networks;
  if (candidates.length > 1) {
    const used = new Set(containers.flatMap((c) => c.networks));
    candidates = candidates.filter((n) => used.has(n.Name));
  }
  if (candidates.length === 1) return { id: candidates[0]!.Id, name: candidates[0]!.Name };
  throw new EnclaveElectError(
    'E_NOT_FOUND',
    candidates.length === 0
      ? `${describeSelector(selector)} has no network to partition or heal (looked for labels ${label.join(', ')})`
      : `${describeSelector(selector)} has several networks (${candidates.map((n) => n.Name).join(', ')}); partitions need one main network`,
  );
}

async function partitionNetworks(docker: Pick<DockerClient, 'listNetworks'>, selector: ClusterSelector) {
  return docker.listNetworks({ filters: JSON.stringify({ label: partitionNetworkFilter(selector) }) });
}

/** DNS aliases a container has on a network, without the id Docker adds itself. */
async function endpointAliases(docker: Pick<DockerClient, 'getContainer'>, id: string, network: string) {
  const info = await docker.getContainer(id).inspect();
  const aliases: string[] = info.NetworkSettings.Networks?.[network]?.Aliases ?? [];
  return aliases.filter((alias) => !id.startsWith(alias));
}

interface Move {
  container: ClusterContainer;
  /** Network names it must end on. */
  to: NetworkRef[];
  /** The address it had on the main network, asked for again there so peers' advertised addresses hold. */
  address?: { network: string; ip: string };
}

/** Label on side networks recording a container's main-network address (`...main-address.<container>`). */
const ADDRESS_LABEL = 'io.enclave-elect.main-address.';

function recordedAddresses(networks: { Labels?: Record<string, string> }[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const network of networks) {
    for (const [key, value] of Object.entries(network.Labels ?? {})) {
      if (key.startsWith(ADDRESS_LABEL)) found.set(key.slice(ADDRESS_LABEL.length), value);
    }
  }
  return found;
}

/** Connect, asking for `address` when given; networks without a user-set subnet refuse that, so then without. */
async function connectTo(
  docker: Docker,
  network: NetworkRef,
  id: string,
  aliases: string[],
  address?: string,
) {
  const endpoint = { Aliases: aliases };
  if (address !== undefined) {
    try {
      await docker
        .getNetwork(network.id)
        .connect({ Container: id, EndpointConfig: { ...endpoint, IPAMConfig: { IPv4Address: address } } });
      return;
    } catch {
      // Not a user-configured subnet, or the address was taken meanwhile: any address will do.
    }
  }
  await docker.getNetwork(network.id).connect({ Container: id, EndpointConfig: endpoint });
}

/** Attach to each wanted network (same aliases as before), then leave every other one of the cluster's. */
async function applyMoves(
  docker: Docker,
  moves: Move[],
  managed: Set<string>,
  progress: (line: string) => void,
): Promise<void> {
  for (const { container, to, address } of moves) {
    const info = await docker.getContainer(container.id).inspect();
    const attached = Object.keys(info.NetworkSettings.Networks ?? {});
    const from = attached.find((n) => managed.has(n));
    const aliases = from === undefined ? [] : await endpointAliases(docker, container.id, from);
    const wanted = new Set(to.map((n) => n.name));
    try {
      for (const network of to) {
        if (attached.includes(network.name)) continue;
        const ip = address?.network === network.name ? address.ip : undefined;
        await connectTo(docker, network, container.id, aliases, ip);
      }
      for (const name of attached) {
        if (!managed.has(name) || wanted.has(name)) continue;
        await docker.getNetwork(name).disconnect({ Container: container.id, Force: true });
      }
    } catch (error) {
      throw new EnclaveElectError(
        'E_DOCKER',
        `moving ${container.name} to ${[...wanted].join(' + ')} failed: ${dockerMessage(error)}`,
        { cause: error },
      );
    }
    progress(`${container.name}: ${[...wanted].join(' + ')}`);
  }
}

/**
 * Probe from every running container to every other and compare with
 * `expected(a, b)`. Targets are addressed on a network both share, else on
 * one of the target's own networks (where the source cannot route).
 */
export async function proveReachability(
  docker: Pick<DockerClient, 'getContainer'>,
  members: ClusterContainer[],
  expected: (from: ClusterContainer, to: ClusterContainer) => boolean,
): Promise<ReachabilityProof> {
  const skipped = members.filter((m) => m.state !== 'running').map((m) => `${m.name} (${m.state})`);
  const running = members.filter((m) => m.state === 'running');
  const addresses = new Map<string, Record<string, string>>();
  for (const m of running) addresses.set(m.id, await addressesOf(docker, m.id));
  const results = await mapBounded(running, EXEC_CONCURRENCY, async (from) => {
    const own = addresses.get(from.id)!;
    const others = running.filter((to) => to.id !== from.id);
    const targets = others.map((to) => {
      const theirs = addresses.get(to.id)!;
      // A network both share if any; else one of the target's own, where the source cannot route.
      const network = Object.keys(theirs).find((n) => own[n] !== undefined) ?? Object.keys(theirs)[0];
      return { to, address: network === undefined ? undefined : theirs[network] };
    });
    const addressed = targets.filter((t) => t.address !== undefined);
    const probed = await probeFrom(
      docker,
      from,
      addressed.map((t) => ({ name: t.to.name, address: t.address! })),
    );
    return targets.map((t) => {
      const result: ProbeResult = probed[addressed.indexOf(t)] ?? {
        from: from.name,
        to: t.to.name,
        address: '',
        outcome: 'no address',
        reachable: false,
      };
      return { ...result, expected: expected(from, t.to) };
    });
  });
  const all = results.flat();
  return { checked: all.length, unexpected: all.filter((r) => r.reachable !== r.expected), skipped };
}

/** How a partition or heal is proved; tests without an engine pass their own. */
export type Prover = typeof proveReachability;

export function proofFailure(what: string, proof: ReachabilityProof): EnclaveElectError {
  const lines = proof.unexpected
    .slice(0, 10)
    .map(
      (u) =>
        `${u.from} -> ${u.to} (${u.address}): ${u.outcome}, expected ${u.expected ? 'reachable' : 'dropped'}`,
    );
  return new EnclaveElectError(
    'E_UNPROVEN',
    `${what}, but ${proof.unexpected.length} of ${proof.checked} probes disagree:\n  ${lines.join('\n  ')}`,
  );
}

/**
 * The side that stays on the main network, keeping its addresses and open
 * connections: the enclave's side when it is on one side only, else the
 * largest. Only the other sides move, and only they change address.
 */
export function stayingSide(plan: PartitionPlan): string {
  if (plan.enclaveSides.length === 1 && plan.enclaves.length > 0) return plan.enclaveSides[0]!;
  return [...plan.sides].sort((a, b) => b.peers.length - a.peers.length)[0]!.side;
}

export async function partitionCluster(
  docker: Docker,
  selector: ClusterSelector,
  plan: PartitionPlan,
  options: { progress: (line: string) => void; extraLabels?: Record<string, string>; prove?: Prover },
): Promise<PartitionResult> {
  const containers = await requireCluster(docker, selector);
  const main = await findMainNetwork(docker, selector, containers);
  const existing = await partitionNetworks(docker, selector);
  const addresses = recordedAddresses(existing);
  for (const c of containers.filter((c) => c.role === 'peer' || c.role === 'enclave')) {
    const info = await docker.getContainer(c.id).inspect();
    const ip = info.NetworkSettings.Networks?.[main.name]?.IPAddress;
    if (ip) addresses.set(c.container, ip);
  }
  const addressLabels = Object.fromEntries(
    [...addresses].map(([name, ip]) => [`${ADDRESS_LABEL}${name}`, ip]),
  );
  const staying = stayingSide(plan);
  const sideNetworks = new Map<string, NetworkRef>([[staying, main]]);
  for (const { side } of plan.sides) {
    if (side === staying) continue;
    const name = partitionNetworkName(selector, side);
    const found = existing.find((n) => n.Name === name);
    if (found) {
      sideNetworks.set(side, { id: found.Id, name });
      continue;
    }
    const created = await docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      Internal: true,
      CheckDuplicate: true,
      Labels: { ...options.extraLabels, ...addressLabels, ...partitionNetworkLabels(selector, side) },
    });
    sideNetworks.set(side, { id: created.id, name });
    options.progress(`created network ${name} for side ${side}`);
  }
  // Side networks for sides this plan no longer has (a 3-way partition before) are left empty and removed by heal.
  const managed = new Set([
    main.name,
    ...existing.map((n) => n.Name),
    ...[...sideNetworks.values()].map((n) => n.name),
  ]);
  const sideOf = new Map<string, string[]>();
  const moves: Move[] = [];
  const move = (container: ClusterContainer, sides: string[]) => {
    sideOf.set(container.id, sides);
    const ip = sides.includes(staying) ? addresses.get(container.container) : undefined;
    moves.push({
      container,
      to: sides.map((s) => sideNetworks.get(s)!),
      ...(ip ? { address: { network: main.name, ip } } : {}),
    });
  };
  for (const { side, peers } of plan.sides) for (const peer of peers) move(peer, [side]);
  for (const enclave of plan.enclaves) move(enclave, plan.enclaveSides);
  await applyMoves(docker, moves, managed, options.progress);
  const members = moves.map((m) => m.container);
  const proof = await (options.prove ?? proveReachability)(docker, members, (a, b) =>
    sideOf.get(a.id)!.some((side) => sideOf.get(b.id)!.includes(side)),
  );
  if (proof.unexpected.length > 0) throw proofFailure('the partition is in place', proof);
  return {
    cluster: selector.kind === 'name' ? selector.name : selector.project,
    mainNetwork: main.name,
    sides: plan.sides.map(({ side, peers }) => ({
      side,
      network: sideNetworks.get(side)!.name,
      peers: peers.map((p) => p.name),
      enclave: plan.enclaveSides.includes(side),
    })),
    proof,
  };
}

/** How long a heal's reachability proof may keep disagreeing before it fails. */
export const HEAL_SETTLE_MS = 8000;
const HEAL_REPROBE_MS = 500;

export async function healCluster(
  docker: Docker,
  selector: ClusterSelector,
  options: { progress: (line: string) => void; prove?: Prover; settleMs?: number },
): Promise<HealResult> {
  const containers = await requireCluster(docker, selector);
  const main = await findMainNetwork(docker, selector, containers);
  const sides = await partitionNetworks(docker, selector);
  const sideNames = new Set(sides.map((n) => n.Name));
  const managed = new Set([main.name, ...sideNames]);
  const members = containers.filter((c) => c.role === 'peer' || c.role === 'enclave');
  const displaced = members.filter(
    (c) => c.networks.some((n) => sideNames.has(n)) || !c.networks.includes(main.name),
  );
  const addresses = recordedAddresses(sides);
  await applyMoves(
    docker,
    displaced.map((container) => {
      const ip = addresses.get(container.container);
      return { container, to: [main], ...(ip === undefined ? {} : { address: { network: main.name, ip } }) };
    }),
    managed,
    options.progress,
  );
  const readdressed: HealResult['readdressed'] = [];
  for (const c of displaced) {
    const was = addresses.get(c.container);
    const now = (await addressesOf(docker, c.id))[main.name];
    if (was !== undefined && now !== undefined && was !== now) readdressed.push({ name: c.name, was, now });
  }
  const removedNetworks: string[] = [];
  for (const network of sides) {
    await docker.getNetwork(network.Id).remove();
    removedNetworks.push(network.Name);
    options.progress(`removed network ${network.Name}`);
  }
  const prove = options.prove ?? proveReachability;
  // A container that was away leaves FAILED neighbour (ARP) entries behind in
  // the others; until they expire a connect to it fails with EHOSTUNREACH.
  // Packets already flow again, so the proof gets a short settle window: it is
  // repeated while it disagrees, and fails only if it still does at the end.
  const settleMs = options.settleMs ?? HEAL_SETTLE_MS;
  const started = Date.now();
  let proof = await prove(docker, members, () => true);
  while (proof.unexpected.length > 0 && Date.now() - started < settleMs) {
    options.progress(
      `${proof.unexpected.length} of ${proof.checked} probes still fail; probing again while neighbour caches settle`,
    );
    await new Promise((resolve) => setTimeout(resolve, HEAL_REPROBE_MS));
    proof = await prove(docker, members, () => true);
  }
  if (proof.unexpected.length > 0) throw proofFailure('every container is back on the main network', proof);
  return {
    cluster: selector.kind === 'name' ? selector.name : selector.project,
    mainNetwork: main.name,
    moved: displaced.map((c) => c.name),
    readdressed,
    removedNetworks,
    proof,
  };
}
