// A readable default name for a peer in a scaled compose service. Docker sets
// such a container's hostname to its short id (e.g. 9a16be562b12), while its
// embedded DNS maps the container's address back to the container name
// (enclave-elect-peer-3.enclave-elect_cluster). Only when the hostname looks
// like a container id do we ask; anywhere else the hostname stays the name.
import { promises as dns } from 'node:dns';
import { memberNameFrom } from '../protocol/member-name.ts';

const CONTAINER_ID = /^[0-9a-f]{12}$/;
const CONTAINER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Docker's default hostname: the container's short id. */
export const looksLikeContainerId = (hostname: string): boolean => CONTAINER_ID.test(hostname);

export type Reverse = (ip: string) => Promise<string[]>;

/**
 * PTR lookup of an IPv4 address. Not dns.reverse(): it drops answers whose
 * names are not valid hostnames, and Docker's (project_network) have an underscore.
 */
function reversePtr(ip: string): Promise<string[]> {
  return dns.resolvePtr(`${ip.split('.').reverse().join('.')}.in-addr.arpa`);
}

/**
 * The container name behind `ip`, when `hostname` is a container id. Docker's
 * DNS can be slow to answer on a busy host just as many containers start, so
 * it asks up to `attempts` times (each waiting `timeoutMs`, then twice that);
 * undefined when the hostname should stay the name or no usable answer came.
 */
export async function containerName(
  hostname: string,
  ip: string,
  reverse: Reverse = reversePtr,
  timeoutMs = 1000,
  attempts = 3,
): Promise<string | undefined> {
  if (!CONTAINER_ID.test(hostname) || ip.startsWith('127.')) return undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    let names: string[];
    try {
      const wait = attempt === 0 ? timeoutMs : 2 * timeoutMs;
      names = await Promise.race([
        reverse(ip),
        new Promise<string[]>((_, reject) => setTimeout(() => reject(new Error('timeout')), wait).unref()),
      ]);
    } catch {
      continue;
    }
    for (const fqdn of names) {
      const label = fqdn.split('.')[0] ?? '';
      // Docker's names use the name rule's characters, but a long compose project
      // makes one longer than 63: fit it to the rule rather than lose it.
      if (label !== hostname && CONTAINER_NAME.test(label)) return memberNameFrom(label);
    }
    return undefined;
  }
  return undefined;
}
