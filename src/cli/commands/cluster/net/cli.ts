// `enclave-elect cluster net TARGET --delay 100ms --jitter 20ms --loss 5% ...`
// and `cluster net TARGET --clear`: network faults in TARGET's own network
// namespace, applied by a fault helper container (src/orchestrator/net-faults.ts).
import type { CommandModule } from 'yargs';
import { UsageError } from '../../../../errors.ts';
import { type NetFaultFlags, netFaultSpecFrom } from '../../../../orchestrator/net-fault-spec.ts';
import { applyNetFault, clearNetFaults } from '../../../../orchestrator/net-faults.ts';
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

export interface NetOptions extends SelectorOptions, JsonOption, NetFaultFlags {
  target: string;
  clear: boolean;
  label?: string[];
}

const FAULT_FLAGS = [
  'loss',
  'loss-burst',
  'delay',
  'jitter',
  'duplicate',
  'corrupt',
  'reorder',
  'rate',
] as const;

export const netCommand: CommandModule<object, NetOptions> = {
  command: 'net <target>',
  describe:
    "Break a peer's network in the kernel: delay, jitter, loss, bursty loss, duplication, corruption, reordering, rate",
  builder: (y) =>
    withJson(withSelector(y), 'the result')
      .positional('target', {
        type: 'string',
        demandOption: true,
        describe: 'peer name, container name, enclave, leader, random; with --clear also all',
      })
      .option('loss', { type: 'string', describe: 'Drop this share of outgoing packets at random (5%)' })
      .option('loss-burst', {
        type: 'string',
        describe: 'Bursty loss, Gilbert-Elliott as netem gemodel: p[,r[,1-h[,1-k]]] in percent (2%,20%)',
      })
      .option('delay', { type: 'string', describe: 'Delay outgoing packets (100ms)' })
      .option('jitter', { type: 'string', describe: 'Vary the delay by up to this much either way (20ms)' })
      .option('duplicate', { type: 'string', describe: 'Send this share of packets twice (1%)' })
      .option('corrupt', { type: 'string', describe: 'Flip a bit in this share of packets (1%)' })
      .option('reorder', {
        type: 'string',
        describe: 'Send this share at once while the rest wait --delay, so they overtake (25%)',
      })
      .option('rate', { type: 'string', describe: 'Limit the outgoing rate (1mbit, 500kbit)' })
      .option('seed', { type: 'string', describe: 'Seed for the random choices (and for a `random` target)' })
      .option('clear', {
        type: 'boolean',
        default: false,
        describe: 'Remove the net faults (and prove none is left)',
      })
      .option('label', {
        type: 'string',
        array: true,
        describe: 'Extra label key=value on the helper container',
      })
      .example('$0 cluster net leader --delay 100ms --jitter 20ms --loss 5%', 'a slow, lossy leader')
      .example('$0 cluster net peer-2 --loss-burst 2%,20%', 'bursts of loss, 5 packets long on average')
      .example('$0 cluster net all --clear', 'remove every net fault of the cluster'),
  handler: async (args) => {
    const selector = selectorFrom(args);
    const labels = extraLabels(args.label);
    const given = FAULT_FLAGS.filter((flag) => args[flag] !== undefined);
    if (args.clear && given.length > 0) {
      throw new UsageError(
        `--clear removes faults; drop ${given.map((f) => `--${f}`).join(', ')} or --clear`,
      );
    }
    if (!args.clear && args.target === 'all') {
      throw new UsageError('`all` is a target for --clear only; name one peer to break (or leader, random)');
    }
    const spec = args.clear ? undefined : netFaultSpecFrom(args);
    const docker = await dockerClient();
    const context = { reader: statusReaderFor(docker), progress, extraLabels: labels };
    if (spec === undefined) {
      const result = await clearNetFaults(docker, selector, args.target, context);
      if (args.json) printJson(result);
      else print(`cleared ${result.targets.join(', ')}: no qdisc, iptables rule or helper of ours left`);
      return;
    }
    const result = await applyNetFault(
      docker,
      selector,
      { target: args.target, spec, ...(args.seed === undefined ? {} : { seed: args.seed }) },
      context,
    );
    if (args.json) printJson(result);
    else {
      print(
        `${result.target} (container ${result.container}; target: ${result.how}): ${result.fault}, shaping by ${result.shaping}. \`enclave-elect cluster net ${result.target} --clear\` removes it`,
      );
    }
  },
};
