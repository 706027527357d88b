// `enclave-elect cluster <command>`: the orchestrator. Each subcommand is a
// folder here; the logic lives in src/orchestrator/ and takes a dockerode client.
import type { CommandModule } from 'yargs';
import { UsageError } from '../../../errors.ts';
import { FAULTS } from '../../../orchestrator/faults.ts';
import { chaosCommand } from './chaos/cli.ts';
import { clockCommand } from './clock/cli.ts';
import { cpuCommand } from './cpu/cli.ts';
import { downCommand } from './down/cli.ts';
import { faultCommand } from './faults/cli.ts';
import { healCommand } from './heal/cli.ts';
import { logsCommand } from './logs/cli.ts';
import { netCommand } from './net/cli.ts';
import { partitionCommand } from './partition/cli.ts';
import { scaleCommand } from './scale/cli.ts';
import { statusCommand } from './status/cli.ts';
import { upCommand } from './up/cli.ts';

export const clusterCommand: CommandModule<object, object> = {
  command: 'cluster <command>',
  // describe: in ../index.ts, so help lists every command without loading it.
  builder: (y) => {
    let parser = y
      .command(upCommand)
      .command(scaleCommand)
      .command(statusCommand)
      .command(partitionCommand)
      .command(healCommand)
      .command(netCommand)
      .command(clockCommand)
      .command(cpuCommand)
      .command(logsCommand)
      .command(downCommand)
      .command(chaosCommand);
    for (const fault of FAULTS) parser = parser.command(faultCommand(fault));
    return parser.epilog(
      'Select a cluster with --name NAME (made by `cluster up`, default: default) or --project NAME (a docker compose project).',
    );
  },
  handler: () => {
    throw new UsageError('Name a cluster command.');
  },
};
