// `enclave-elect cluster clock PEER --offset +2s | --strobe 200ms,1s [--for 30s]`
// and `--clear`: move or strobe one peer's wall clock (libfaketime in its
// process; src/orchestrator/clock-fault.ts).
import type { CommandModule } from 'yargs';
import { UsageError } from '../../../../errors.ts';
import { skewClock } from '../../../../orchestrator/clock-fault.ts';
import { parseOffset } from '../../../../orchestrator/clock-skew.ts';
import { type ClockFault, parseStrobe } from '../../../../orchestrator/clock-strobe.ts';
import { statusReaderFor } from '../../../../orchestrator/status-reader.ts';
import {
  dockerClient,
  durationOption,
  extraLabels,
  interruptSignal,
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
  strobe?: string;
  for?: string;
  clear: boolean;
  label?: string[];
}

/** Exactly one of --offset, --strobe, --clear; --for only with a fault. */
export function clockFaultFrom(args: Pick<ClockOptions, 'offset' | 'strobe' | 'clear' | 'for'>): ClockFault {
  const given = [args.offset !== undefined, args.strobe !== undefined, args.clear].filter(Boolean).length;
  if (given !== 1) {
    throw new UsageError(
      'give one of --offset (+2s, -500ms) to move the clock, --strobe (200ms,1s) to flip it, or --clear to put it back',
    );
  }
  if (args.clear && args.for !== undefined)
    throw new UsageError('--for goes with --offset or --strobe, not --clear');
  if (args.strobe !== undefined) return parseStrobe(args.strobe);
  return { offsetMs: args.clear ? 0 : parseOffset(args.offset!) };
}

export const clockCommand: CommandModule<object, ClockOptions> = {
  command: 'clock <target>',
  describe:
    "Move or strobe a peer's wall clock ahead or behind (libfaketime in its process); the enclave's stays true",
  builder: (y) =>
    withJson(withSelector(y), 'the result')
      .positional('target', { type: 'string', demandOption: true, describe: 'peer name, leader, or random' })
      .option('offset', {
        type: 'string',
        describe: 'How far to move it: +2s; behind as --offset=-500ms (with =, so it is not read as a flag)',
      })
      .option('strobe', {
        type: 'string',
        describe:
          'OFFSET,PERIOD: flip between +OFFSET and -OFFSET every PERIOD (200ms,1s), until --clear or --for',
      })
      .option('for', { type: 'string', describe: 'Put the true time back after this long (30s)' })
      .option('clear', { type: 'boolean', default: false, describe: 'Put it back to the true time' })
      .option('label', { type: 'string', array: true, describe: 'Extra label key=value on the clock volume' })
      .example('$0 cluster clock leader --offset +1500ms', "the leader's wall clock runs 1.5 s ahead")
      .example(
        '$0 cluster clock peer-3 --strobe 200ms,1s --for 30s',
        'peer-3 flips between +200 ms and -200 ms each second',
      )
      .example('$0 cluster clock peer-2 --clear', 'true time again (no restart)'),
  handler: async (args) => {
    const selector = selectorFrom(args);
    const fault = clockFaultFrom(args);
    const forMs = args.for === undefined ? undefined : durationOption(args.for, '--for', 0);
    const labels = extraLabels(args.label);
    const docker = await dockerClient();
    const { signal, dispose } = interruptSignal();
    try {
      const result = await skewClock(
        docker,
        selector,
        { target: args.target, ...fault, ...(forMs === undefined ? {} : { forMs }) },
        { reader: statusReaderFor(docker), progress, extraLabels: labels, signal },
      );
      if (args.json) printJson(result);
      else {
        const what =
          result.strobePeriodMs !== undefined
            ? `strobing ±${result.offsetMs} ms every ${result.strobePeriodMs} ms (swing seen inside it: ${result.swingMs} ms)`
            : result.offsetMs === 0
              ? 'true again'
              : `${result.offsetMs > 0 ? '+' : ''}${result.offsetMs} ms`;
        print(
          `${result.target}: wall clock ${what}${result.restarted ? ' (restarted once to preload libfaketime)' : ''}; measured inside it: ${Math.round(result.measured.low)}..${Math.round(result.measured.high)} ms from this host${result.restored ? '; true time put back' : ''}`,
        );
      }
    } finally {
      dispose();
    }
  },
};
