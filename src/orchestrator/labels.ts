// The labels that say what belongs to a cluster, and how a command selects a
// cluster: by our own labels (`--name`, clusters made by `cluster up`) or by
// docker compose's labels (`--project`). Every query the orchestrator makes is
// filtered by one of these, so it never touches anything else.

export const LABEL = {
  /** Present (value `true`) on everything `cluster up` creates. */
  managed: 'io.enclave-elect.managed',
  /** The cluster's name (`--name`). */
  cluster: 'io.enclave-elect.cluster',
  /** pki | enclave | peer | ledger | network | partition */
  role: 'io.enclave-elect.role',
  /** A peer container's member name (peer-1, ...). */
  peer: 'io.enclave-elect.peer',
  /** On partition networks: the side (A, B). */
  side: 'io.enclave-elect.side',
  /** On partition networks made for a compose project: the project's name. */
  composeProject: 'io.enclave-elect.compose-project',
  /** On a cluster's main network: the settings `scale` reuses for new peers. */
  image: 'io.enclave-elect.image',
  policy: 'io.enclave-elect.policy',
  leaseMs: 'io.enclave-elect.lease-ms',
  /** On a cluster's main network: `true` when it runs the demo (ledger, peers writing to it). */
  demo: 'io.enclave-elect.demo',
} as const;

export const COMPOSE_LABEL = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
} as const;

export type Role = 'pki' | 'enclave' | 'peer' | 'ledger';

export type ClusterSelector = { kind: 'name'; name: string } | { kind: 'project'; project: string };

export const DEFAULT_CLUSTER = 'default';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

export function isValidClusterName(name: string): boolean {
  return NAME.test(name);
}

/** How people read a selector in messages: `cluster 'default'` or `compose project 'demo'`. */
export function describeSelector(selector: ClusterSelector): string {
  return selector.kind === 'name' ? `cluster '${selector.name}'` : `compose project '${selector.project}'`;
}

/** The flag that selects this cluster, for hints in messages. */
export function selectorFlag(selector: ClusterSelector): string {
  return selector.kind === 'name' ? `--name ${selector.name}` : `--project ${selector.project}`;
}

/** Docker `label` filter values matching the containers of a cluster. */
export function containerLabelFilter(selector: ClusterSelector): string[] {
  return selector.kind === 'name'
    ? [`${LABEL.cluster}=${selector.name}`]
    : [`${COMPOSE_LABEL.project}=${selector.project}`];
}

/** Docker `label` filter values matching the partition networks the orchestrator made for a cluster. */
export function partitionNetworkFilter(selector: ClusterSelector): string[] {
  const owner =
    selector.kind === 'name'
      ? `${LABEL.cluster}=${selector.name}`
      : `${LABEL.composeProject}=${selector.project}`;
  return [owner, `${LABEL.role}=partition`];
}

/** Labels for a partition network of this cluster. */
export function partitionNetworkLabels(selector: ClusterSelector, side: string): Record<string, string> {
  const owner: Record<string, string> =
    selector.kind === 'name'
      ? { [LABEL.cluster]: selector.name }
      : { [LABEL.composeProject]: selector.project };
  return { ...owner, [LABEL.managed]: 'true', [LABEL.role]: 'partition', [LABEL.side]: side };
}

/**
 * The role of a container: our label, or the compose service name when it is
 * one of ours. The demo profile's `writer` service runs peers (that also write
 * to the ledger while they lead), so it is a peer to every command.
 */
export function roleOf(labels: Record<string, string>): Role | undefined {
  const role = labels[LABEL.role] ?? labels[COMPOSE_LABEL.service];
  if (role === 'writer') return 'peer';
  return role === 'pki' || role === 'enclave' || role === 'peer' || role === 'ledger' ? role : undefined;
}

/** Prefix of every resource name of a cluster made by `cluster up`. */
export function resourcePrefix(cluster: string): string {
  return `enclave-elect-${cluster}`;
}

/**
 * Labels for what `cluster up` creates. Extra labels (ENCLAVE_ELECT_EXTRA_LABELS,
 * `key=value,key=value`) let tests add `io.enclave-elect.test=<runId>` so their
 * sweep finds everything.
 */
export function managedLabels(
  cluster: string,
  extra: Record<string, string> = {},
  more: Record<string, string> = {},
): Record<string, string> {
  return { ...extra, [LABEL.managed]: 'true', [LABEL.cluster]: cluster, ...more };
}

export function parseExtraLabels(raw: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const entry of (raw ?? '').split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) continue;
    labels[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
  }
  return labels;
}
