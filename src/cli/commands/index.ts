// Every top-level command, one folder each (cli.ts: options + handler; logic in
// a sibling module). Add a command by adding one line here.
import type { CommandModule } from 'yargs';
import { clusterCommand } from './cluster/cli.ts';
import { enclaveCommand } from './enclave/cli.ts';
import { healthcheckCommand } from './healthcheck/cli.ts';
import { localCommand } from './local/cli.ts';
import { peerCommand } from './peer/cli.ts';
import { pkiCommand } from './pki/cli.ts';
import { tokenCommand } from './token/cli.ts';

// biome-ignore lint/suspicious/noExplicitAny: yargs command modules differ in their option types
export const commands: CommandModule<any, any>[] = [
  healthcheckCommand,
  peerCommand,
  enclaveCommand,
  pkiCommand,
  clusterCommand,
  localCommand,
  tokenCommand,
];
