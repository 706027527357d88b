// The Docker objects of a cluster made by `cluster up`: names, labels and
// create options for its network, volumes and containers. Pure functions, so
// tests read exactly what would be sent to the engine.
import type { ContainerCreateOptions, NetworkCreateOptions, VolumeCreateOptions } from 'dockerode';
import {
  type ElectionSettings,
  ENCLAVE_ALIAS,
  enclaveCommand,
  enclaveEnv,
  JOIN_DIR,
  LEDGER_ALIAS,
  ledgerCommand,
  ledgerEnv,
  PEER_ALIAS,
  PKI_DIR,
  peerCommand,
  pkiInitCommand,
  STATE_DIR,
  TRUST_DIR,
} from './cluster-commands.ts';
import { LABEL, managedLabels, type Role, resourcePrefix } from './labels.ts';

export interface ClusterSettings extends ElectionSettings {
  cluster: string;
  image: string;
  /** Extra labels on everything (tests add io.enclave-elect.test=<runId>). */
  extraLabels: Record<string, string>;
}

export type VolumeKind = 'pki' | 'trust' | 'state' | 'join';

export function networkName(cluster: string): string {
  return resourcePrefix(cluster);
}

export function volumeName(cluster: string, kind: VolumeKind): string {
  return `${resourcePrefix(cluster)}-${kind}`;
}

export function containerName(cluster: string, member: string): string {
  return `${resourcePrefix(cluster)}-${member}`;
}

export function peerName(index: number): string {
  return `peer-${index}`;
}

/** peer-7 -> 7; anything else -> undefined. */
export function peerIndex(name: string): number | undefined {
  const match = /^peer-(\d+)$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

export function networkSpec(settings: ClusterSettings): NetworkCreateOptions {
  return {
    Name: networkName(settings.cluster),
    Driver: 'bridge',
    // Nothing in a cluster talks to the outside world; internal keeps it so.
    Internal: true,
    CheckDuplicate: true,
    Labels: managedLabels(settings.cluster, settings.extraLabels, {
      [LABEL.role]: 'network',
      [LABEL.image]: settings.image,
      [LABEL.policy]: settings.policy,
      [LABEL.leaseMs]: String(settings.leaseMs),
      ...(settings.demo ? { [LABEL.demo]: 'true' } : {}),
    }),
  };
}

export function volumeSpec(settings: ClusterSettings, kind: VolumeKind): VolumeCreateOptions {
  return {
    Name: volumeName(settings.cluster, kind),
    Labels: managedLabels(settings.cluster, settings.extraLabels, { [LABEL.role]: kind }),
  };
}

/** The hardening compose applies too: init, read-only root, no capabilities, no privilege gain. */
function hostConfig(binds: string[]) {
  return {
    Init: true,
    ReadonlyRootfs: true,
    CapDrop: ['ALL'],
    SecurityOpt: ['no-new-privileges:true'],
    Tmpfs: { '/tmp': 'rw,size=16m' },
    Binds: binds,
    RestartPolicy: { Name: 'no' },
  };
}

function base(settings: ClusterSettings, role: Role, member: string, more: Record<string, string> = {}) {
  return {
    name: containerName(settings.cluster, member),
    Image: settings.image,
    Hostname: member,
    Labels: managedLabels(settings.cluster, settings.extraLabels, { [LABEL.role]: role, ...more }),
  };
}

function network(settings: ClusterSettings, aliases: string[]) {
  return {
    NetworkMode: networkName(settings.cluster),
    networking: { EndpointsConfig: { [networkName(settings.cluster)]: { Aliases: aliases } } },
  };
}

export function pkiContainerSpec(settings: ClusterSettings): ContainerCreateOptions {
  const net = network(settings, []);
  return {
    ...base(settings, 'pki', 'pki'),
    Cmd: pkiInitCommand(),
    HostConfig: {
      ...hostConfig([
        `${volumeName(settings.cluster, 'pki')}:${PKI_DIR}`,
        `${volumeName(settings.cluster, 'trust')}:${TRUST_DIR}`,
        `${volumeName(settings.cluster, 'join')}:${JOIN_DIR}`,
      ]),
      NetworkMode: net.NetworkMode,
    },
    NetworkingConfig: net.networking,
  };
}

export function enclaveContainerSpec(settings: ClusterSettings): ContainerCreateOptions {
  const net = network(settings, [ENCLAVE_ALIAS]);
  return {
    ...base(settings, 'enclave', 'enclave'),
    Cmd: enclaveCommand(settings),
    Env: enclaveEnv(),
    HostConfig: {
      ...hostConfig([
        `${volumeName(settings.cluster, 'pki')}:${PKI_DIR}:ro`,
        `${volumeName(settings.cluster, 'state')}:${STATE_DIR}`,
        `${volumeName(settings.cluster, 'join')}:${JOIN_DIR}:ro`,
      ]),
      NetworkMode: net.NetworkMode,
    },
    NetworkingConfig: net.networking,
  };
}

export function peerContainerSpec(settings: ClusterSettings, index: number): ContainerCreateOptions {
  const name = peerName(index);
  const net = network(settings, [PEER_ALIAS, name]);
  const { cmd, env } = peerCommand(name, settings);
  return {
    ...base(settings, 'peer', name, { [LABEL.peer]: name }),
    Cmd: cmd,
    Env: env,
    HostConfig: {
      ...hostConfig([
        `${volumeName(settings.cluster, 'trust')}:${TRUST_DIR}:ro`,
        `${volumeName(settings.cluster, 'join')}:${JOIN_DIR}:ro`,
      ]),
      NetworkMode: net.NetworkMode,
    },
    NetworkingConfig: net.networking,
  };
}

/** The demo's fenced ledger (`cluster up --demo`): reads only the published root certificate. */
export function ledgerContainerSpec(settings: ClusterSettings): ContainerCreateOptions {
  const net = network(settings, [LEDGER_ALIAS]);
  return {
    ...base(settings, 'ledger', 'ledger'),
    Cmd: ledgerCommand(settings),
    Env: ledgerEnv(),
    HostConfig: {
      ...hostConfig([`${volumeName(settings.cluster, 'trust')}:${TRUST_DIR}:ro`]),
      NetworkMode: net.NetworkMode,
    },
    NetworkingConfig: net.networking,
  };
}
