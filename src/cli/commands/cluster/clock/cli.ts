// `enclave-elect cluster clock PEER --offset +2s` and `--clear`: move one
// peer's wall clock (libfaketime in its process; src/orchestrator/clock-skew.ts).
import type { CommandModule } from 'yargs';
import { UsageError } from '../../../../errors.ts';
import { parseOffset, skewClock } from '../../../../orchestrator/clock-skew.ts';
import { statusReaderFor } from '../../../../orchestrator/status-reader.ts';
import {
  dockerClient,
  extraLabels,
  type JsonOption,
  print,
  printJson,
  progress,
  type SelectorOptions,
  selectorFrom,
  withJson,
  withSelector,
} from '../cluster-options.ts';

export interface ClockOptions extends SelectorOptions, JsonOption {
  target: string;
  offset?: string;
  clear: boolean;
  label?: string[];
}

export const clockCommand: CommandModule<object, ClockOptions> = {
  command: 'clock <target>',
  describe: "Move a peer's wall clock ahead or behind (libfaketime in its process); the enclave's stays true",
  builder: (y) =>
    withJson(withSelector(y), 'the result')
      .positional('target', { type: 'string', demandOption: true, describe: 'peer name, leader, or random' })
      .option('offset', {
        type: 'string',
        describe: 'How far to move it: +2s; behind as --offset=-500ms (with =, so it is not read as a flag)',
      })
      .option('clear', { type: 'boolean', default: false, describe: 'Put it back to the true time' })
      .option('label', { type: 'string', array: true, describe: 'Extra label key=value on the clock volume' })
      .example('$0 cluster clock leader --offset +1500ms', "the leader's wall clock runs 1.5 s ahead")
      .example('$0 cluster clock peer-2 --clear', 'true time again (no restart)'),
  handler: async (args) => {
    const selector = selectorFrom(args);
    if (args.clear === (args.offset !== undefined)) {
      throw new UsageError('give --offset (+2s, -500ms) to move the clock, or --clear to put it back');
    }
    const offsetMs = args.clear ? 0 : parseOffset(args.offset!);
    const labels = extraLabels(args.label);
    const docker = await dockerClient();
    const result = await skewClock(
      docker,
      selector,
      { target: args.target, offsetMs },
      { reader: statusReaderFor(docker), progress, extraLabels: labels },
    );
    if (args.json) printJson(result);
    else {
      print(
        `${result.target}: wall clock ${offsetMs === 0 ? 'true again' : `${offsetMs > 0 ? '+' : ''}${offsetMs} ms`}${result.restarted ? ' (restarted once to preload libfaketime)' : ''}; measured inside it: ${Math.round(result.measured.low)}..${Math.round(result.measured.high)} ms from this host`,
      );
    }
  },
};
