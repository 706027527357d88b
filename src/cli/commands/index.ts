// Every top-level command, one folder each (cli.ts: options + handler; logic in
// a sibling module). Add a command by adding one entry here.
//
// Entries load their module on demand: a process runs one command, so a peer
// must not pay for dockerode, the orchestrator and chaos (about 60 MB of RSS).
// The name and description live here, so `--help` and suggestions need no module.
import type { CommandModule } from 'yargs';

// biome-ignore lint/suspicious/noExplicitAny: yargs command modules differ in their option types
export type AnyCommand = CommandModule<any, any>;

export interface CommandEntry {
  /** The yargs command string, e.g. `cluster <command>`; its first word is the name. */
  command: string;
  describe: string;
  load: () => Promise<AnyCommand>;
}

export const commands: CommandEntry[] = [
  {
    command: 'healthcheck',
    describe:
      'Exit 0 when a local HTTP health endpoint answers 2xx (the image HEALTHCHECK runs the same check)',
    load: async () => (await import('./healthcheck/cli.ts')).healthcheckCommand,
  },
  {
    command: 'peer',
    describe:
      'Run a cluster member: SWIM gossip over UDP, leader election through the enclave, admin HTTP on :7947',
    load: async () => (await import('./peer/cli.ts')).peerCommand,
  },
  {
    command: 'enclave',
    describe: 'Run the mock enclave: attestation, leader election, leases (HTTP)',
    load: async () => (await import('./enclave/cli.ts')).enclaveCommand,
  },
  {
    command: 'pki',
    describe: 'Mock attestation PKI (the vendor root peers pin)',
    load: async () => (await import('./pki/cli.ts')).pkiCommand,
  },
  {
    command: 'cluster <command>',
    describe:
      'Run and break a cluster of containers: up, scale, status, faults, partition, heal, net, clock, cpu, logs, down',
    load: async () => (await import('./cluster/cli.ts')).clusterCommand,
  },
  {
    command: 'local',
    describe: 'Run a mock PKI, an enclave and N peers as local processes, with a live status table',
    load: async () => (await import('./local/cli.ts')).localCommand,
  },
  {
    command: 'token',
    describe: 'Fencing tokens: verify one offline with the pinned root and function checksum',
    load: async () => (await import('./token/cli.ts')).tokenCommand,
  },
  {
    command: 'ledger',
    describe: 'Demo fenced resource: serve an append-only ledger that refuses stale tokens, or write to it',
    load: async () => (await import('./ledger/cli.ts')).ledgerCommand,
  },
];

export function commandName(entry: CommandEntry): string {
  return entry.command.split(' ')[0]!;
}
