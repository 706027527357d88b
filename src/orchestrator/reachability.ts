// Kernel-level reachability between containers, measured from inside them: a
// TCP connect to each address with a short timeout. An accepted connection or
// a refusal (RST) proves packets went both ways; a timeout or "host
// unreachable" means they were dropped. No listener is needed on the target,
// so this works on any container of the project image.
import type { ClusterContainer } from './cluster-inventory.ts';
import { execInContainer } from './container-exec.ts';
import type { DockerClient } from './docker-client.ts';

export type ProbeOutcome = 'open' | 'refused' | 'timeout' | 'unreachable' | string;

export interface ProbeTarget {
  name: string;
  address: string;
}

export interface ProbeResult {
  from: string;
  to: string;
  address: string;
  outcome: ProbeOutcome;
  reachable: boolean;
}

export const PROBE_PORT = 7947;

export function isReachable(outcome: ProbeOutcome): boolean {
  return outcome === 'open' || outcome === 'refused';
}

export function probeScript(addresses: string[], port: number, timeoutMs: number): string {
  return [
    "const net=require('node:net');",
    `const targets=${JSON.stringify(addresses)};`,
    'Promise.all(targets.map((host)=>new Promise((done)=>{',
    `const s=net.connect({host,port:${port}});`,
    `const t=setTimeout(()=>{s.destroy();done('timeout')},${timeoutMs});`,
    "s.on('connect',()=>{clearTimeout(t);s.destroy();done('open')});",
    "s.on('error',(e)=>{clearTimeout(t);done(e.code==='ECONNREFUSED'?'refused':e.code==='EHOSTUNREACH'||e.code==='ENETUNREACH'?'unreachable':String(e.code))});",
    '}))).then((r)=>process.stdout.write(JSON.stringify(r)));',
  ].join('');
}

/** Probe every target from inside one container. */
export async function probeFrom(
  docker: Pick<DockerClient, 'getContainer'>,
  from: ClusterContainer,
  targets: ProbeTarget[],
  options: { port?: number; timeoutMs?: number } = {},
): Promise<ProbeResult[]> {
  if (targets.length === 0) return [];
  const timeoutMs = options.timeoutMs ?? 1500;
  const script = probeScript(
    targets.map((t) => t.address),
    options.port ?? PROBE_PORT,
    timeoutMs,
  );
  const result = await execInContainer(docker, from.id, ['node', '-e', script], timeoutMs + 5000);
  let outcomes: string[];
  try {
    outcomes = JSON.parse(result.stdout) as string[];
  } catch {
    throw new Error(`probe from ${from.name} failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
  }
  return targets.map((target, i) => {
    const outcome = outcomes[i] ?? 'no result';
    return {
      from: from.name,
      to: target.name,
      address: target.address,
      outcome,
      reachable: isReachable(outcome),
    };
  });
}

/** IPv4 address of a container on each of its networks, from inspect. */
export async function addressesOf(
  docker: Pick<DockerClient, 'getContainer'>,
  id: string,
): Promise<Record<string, string>> {
  const info = await docker.getContainer(id).inspect();
  const addresses: Record<string, string> = {};
  for (const [network, endpoint] of Object.entries(info.NetworkSettings.Networks ?? {})) {
    if (endpoint?.IPAddress) addresses[network] = endpoint.IPAddress;
  }
  return addresses;
}
