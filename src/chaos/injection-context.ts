// What applying one fault needs and returns, shared by the container and
// clean-partition faults (injection.ts) and the network kinds
// (network-injection.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterContainer } from '../orchestrator/cluster-inventory.ts';
import type { DockerClient } from '../orchestrator/docker-client.ts';
import type { ClusterSelector } from '../orchestrator/labels.ts';
import type { StatusReader } from '../orchestrator/peer-status.ts';

type Docker = Pick<
  DockerClient,
  | 'listContainers'
  | 'getContainer'
  | 'listNetworks'
  | 'getNetwork'
  | 'createNetwork'
  | 'getImage'
  | 'createContainer'
  | 'listVolumes'
  | 'createVolume'
>;

export interface InjectionContext {
  docker: Docker;
  selector: ClusterSelector;
  reader: StatusReader;
  extraLabels: Record<string, string>;
  now: () => number;
  /** Ends a hold early (Ctrl-C); the fault is healed anyway. */
  signal?: AbortSignal;
}

export interface AppliedFault {
  /** Peers the fault acts on (the enclave for enclave-restart). */
  targets: ClusterContainer[];
  start: number;
  heal: number;
  note: string;
}

/** Wait out a fault's hold; Ctrl-C ends it early (the fault is healed anyway). */
export async function hold(ms: number, signal?: AbortSignal) {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}
