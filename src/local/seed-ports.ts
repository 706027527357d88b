// Which gossip ports a new local peer joins through. The first peers' ports are
// reserved before any starts, so early peers name seeds that are about to
// start; later peers name peers that are still running, so a peer added after
// the first ones were killed still finds the cluster.

/** Running peers named as seeds: enough for a join to survive a few more deaths. */
export const MAX_RUNNING_SEEDS = 3;

export interface SeedCandidate {
  gossipPort?: number | undefined;
  exited: unknown;
}

/**
 * Seeds for a peer with `ownPort`: every reserved port no peer has taken yet
 * (its peer is about to start), then up to MAX_RUNNING_SEEDS running peers.
 * Ports of exited peers are never named: nothing answers there.
 */
export function seedPorts(
  reserved: readonly number[],
  peers: readonly SeedCandidate[],
  ownPort: number,
): number[] {
  const taken = new Set(peers.map((p) => p.gossipPort));
  const upcoming = reserved.filter((port) => !taken.has(port));
  const running = peers
    .filter((p) => !p.exited && p.gossipPort !== undefined)
    .map((p) => p.gossipPort as number)
    .slice(0, MAX_RUNNING_SEEDS);
  return [...new Set([...upcoming, ...running])].filter((port) => port !== ownPort);
}
