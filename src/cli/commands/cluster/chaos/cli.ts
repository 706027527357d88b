// `enclave-elect cluster chaos`: a seeded fault schedule against a cluster
// (its own with --peers N, or --name / --project), with the invariants of
// DESIGN.md §5 checked on the recorded history; `--check FILE` re-checks a
// saved report. Exit 1 when any invariant fails. With `--swarm STACK`, the
// schedule runs against a stack across a swarm (swarm.ts).
import type { CommandModule } from 'yargs';
import { newChaosSeed, runChaosSession } from '../../../../chaos/chaos-session.ts';
import { type ChaosReport, checkSavedHistory, summarize } from '../../../../chaos/report.ts';
import {
  CLASSIC_KINDS,
  FAULT_KINDS,
  type FaultKind,
  generateSchedule,
  HOST_KINDS,
  NEMESIS_PROFILES,
  NETWORK_KINDS,
  parseFaultKinds,
} from '../../../../chaos/schedule.ts';
import { progressLine, summaryText } from '../../../../chaos/summary-text.ts';
import { EnclaveElectError, UsageError } from '../../../../errors.ts';
import { connectDocker, ensureDockerReachable } from '../../../../orchestrator/docker-client.ts';
import { DEFAULT_IMAGE } from '../../../../orchestrator/project-image.ts';
import { statusReaderFor } from '../../../../orchestrator/status-reader.ts';
import {
  durationOption,
  extraLabels,
  interruptSignal,
  type JsonOption,
  print,
  printJson,
  progress,
  type SelectorOptions,
  type StatusViaOption,
  type SwarmOption,
  selectorFrom,
  withJson,
  withSelector,
  withStatusVia,
} from '../cluster-options.ts';
import { checkPeerCount } from '../up/cli.ts';
import { chaosOnSwarm, type ProgressWriter } from './swarm.ts';

export interface ChaosOptions extends SelectorOptions, JsonOption, StatusViaOption, SwarmOption {
  duration: string;
  interval: string;
  faults?: string;
  'nemesis-profile'?: string;
  seed?: string;
  peers?: number;
  report?: string;
  check?: string;
  image: string;
  'lease-ms'?: number;
  keep: boolean;
  demo: boolean;
  label?: string[];
  'dry-run': boolean;
}

/** `--faults` or `--nemesis-profile` (not both); `fallback` (the classic kinds) when neither is given. */
function faultKinds(
  raw: string | undefined,
  profile: string | undefined,
  fallback: readonly FaultKind[] = CLASSIC_KINDS,
): FaultKind[] {
  if (raw !== undefined && profile !== undefined) {
    throw new UsageError('--faults and --nemesis-profile both choose the kinds; give one of them');
  }
  if (profile !== undefined) {
    const kinds = NEMESIS_PROFILES[profile];
    if (kinds === undefined) {
      throw new UsageError(
        `--nemesis-profile '${profile}' is not one of ${Object.keys(NEMESIS_PROFILES).join(', ')}`,
      );
    }
    return [...kinds];
  }
  try {
    return parseFaultKinds(raw ?? fallback.join(','));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The report as JSON or the summary; exit 1 when an invariant failed. */
function printOutcome(report: ChaosReport, args: { json: boolean; report?: string }, seed: string): void {
  if (args.json) printJson(report);
  else
    print(
      summaryText({
        seed,
        faultsByKind: report.summary.faultsByKind,
        skipped: report.summary.skipped,
        failovers: report.summary.failovers,
        verdicts: report.verdicts,
        ...(args.report === undefined ? {} : { reportDir: args.report }),
      }),
    );
  if (!report.ok) process.exitCode = 1;
}

/** A live one-line progress on a terminal, plain lines (at most every 5 s) otherwise. */
function progressWriter(): ProgressWriter {
  const tty = process.stderr.isTTY === true;
  let lastPlain = 0;
  let shown = false;
  const done = () => {
    if (tty && shown) process.stderr.write('\r\x1b[2K');
    shown = false;
  };
  return {
    update: (line) => {
      if (tty) {
        const width = process.stderr.columns ?? 120;
        process.stderr.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
        shown = true;
      } else if (Date.now() - lastPlain >= 5000) {
        lastPlain = Date.now();
        process.stderr.write(`${line}\n`);
      }
    },
    done,
    note: (line) => {
      done();
      progress(line);
    },
  };
}

export const chaosCommand: CommandModule<object, ChaosOptions> = {
  command: 'chaos',
  describe: 'Inject seeded faults, record every peer, check the election invariants, write a report',
  builder: (y) =>
    withStatusVia(withJson(withSelector(y), 'the report (report.json) instead of the summary'))
      .option('duration', { type: 'string', default: '2m', describe: 'How long to inject faults (30s, 10m)' })
      .option('interval', { type: 'string', default: '5s', describe: 'Mean quiet time between faults' })
      .option('faults', {
        type: 'string',
        describe: `Fault kinds to draw from (default: ${CLASSIC_KINDS.join(',')}; also ${[...NETWORK_KINDS, ...HOST_KINDS].join(',')})`,
      })
      .option('nemesis-profile', {
        type: 'string',
        describe: `A named mix of kinds instead of --faults: ${Object.entries(NEMESIS_PROFILES)
          .map(
            ([name, kinds]) =>
              `${name} (${kinds.length === FAULT_KINDS.length ? 'every kind' : kinds.join(',')})`,
          )
          .join('; ')}`,
      })
      .option('seed', {
        type: 'string',
        describe: 'Seed of the schedule (printed when not given, to replay)',
      })
      .option('peers', {
        alias: 'n',
        type: 'number',
        describe: 'Start a cluster of N peers for the run and remove it afterwards',
      })
      .option('report', { type: 'string', describe: 'Write report.json and report.html into this directory' })
      .option('check', {
        type: 'string',
        describe: 'Check the history saved in a report.json again; no faults',
      })
      .option('image', { type: 'string', default: DEFAULT_IMAGE, describe: 'Image for --peers' })
      .option('lease-ms', { type: 'number', describe: 'Lease for --peers (default 2000)' })
      .option('keep', { type: 'boolean', default: false, describe: 'Keep the cluster --peers started' })
      .option('demo', {
        type: 'boolean',
        default: false,
        describe:
          "With the demo's fenced ledger (as cluster up --demo; with --name/--project the cluster must have one): also check that it accepted no stale append",
      })
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'Print the schedule for the seed and stop',
      })
      .option('label', {
        type: 'string',
        array: true,
        describe: 'Extra label key=value on everything created',
      })
      .option('swarm', {
        type: 'string',
        describe:
          'A stack across a swarm instead (DOCKER_HOST names a manager): kill, stop, pause and partition (the default set there)',
      })
      .example(
        '$0 cluster chaos --peers 5 --duration 3m --seed 42 --report out',
        'own cluster, report in out/',
      )
      .example(
        '$0 cluster chaos --peers 5 --demo --duration 6m --interval 1s --report out',
        'own cluster with the ledger; faults on the writing leader too',
      )
      .example('$0 cluster chaos --check out/report.json', 're-check a saved run')
      .example('$0 cluster chaos --swarm ee --duration 90s --seed 7', 'a swarm stack, through its manager'),
  handler: async (args) => {
    if (args.check !== undefined) {
      const { verdicts, history, seed } = await checkSavedHistory(args.check);
      const summary = summarize(history, undefined);
      if (args.json) printJson({ file: args.check, ok: verdicts.every((v) => v.ok), verdicts, summary });
      else
        print(
          summaryText({
            seed: seed ?? '(unknown)',
            faultsByKind: summary.faultsByKind,
            skipped: 0,
            failovers: summary.failovers,
            verdicts,
          }),
        );
      if (!verdicts.every((v) => v.ok)) process.exitCode = 1;
      return;
    }
    if (args.swarm !== undefined) {
      await chaosOnSwarm(args, { faultKinds, progressWriter, printOutcome });
      return;
    }
    const faults = faultKinds(args.faults, args['nemesis-profile']);
    const durationMs = durationOption(args.duration, '--duration', 120_000);
    const intervalMs = durationOption(args.interval, '--interval', 5000);
    if (durationMs < 1000) throw new UsageError('--duration must be at least 1s');
    if (args.peers !== undefined) {
      checkPeerCount(args.peers, '--peers');
      if (args.peers < 3) throw new UsageError('--peers must be at least 3, so a minority can be cut off');
      if (args.project !== undefined) throw new UsageError('--peers starts its own cluster; drop --project');
    }
    const seed = args.seed ?? newChaosSeed();
    const selector = selectorFrom(
      args.peers !== undefined && args.name === undefined ? { name: `chaos-${seed}`.slice(0, 40) } : args,
    );
    if (args['dry-run']) {
      const peers = Array.from({ length: args.peers ?? 5 }, (_, i) => `peer-${i + 1}`);
      printJson(generateSchedule({ seed, durationMs, intervalMs, faults, peers }));
      return;
    }
    const labels = extraLabels(args.label);
    const docker = connectDocker();
    await ensureDockerReachable(docker);
    progress(`chaos seed ${seed} (replay with --seed ${seed})`);
    const live = progressWriter();
    const note = live.note;
    const { signal, dispose } = interruptSignal();
    try {
      const report = await runChaosSession(
        {
          seed,
          durationMs,
          intervalMs,
          faults,
          ...(args.peers === undefined ? {} : { peers: args.peers }),
          selector,
          image: args.image,
          ...(args['lease-ms'] === undefined ? {} : { leaseMs: args['lease-ms'] }),
          extraLabels: labels,
          ...(args.report === undefined ? {} : { reportDir: args.report }),
          keep: args.keep,
          ...(args.demo ? { demo: true } : {}),
        },
        {
          docker,
          reader: statusReaderFor(docker, args['status-via'], { note }),
          progress: (state) => live.update(progressLine(state)),
          note,
          signal,
        },
      );
      live.done();
      printOutcome(report, args, seed);
    } catch (error) {
      live.done();
      if (error instanceof EnclaveElectError) throw error;
      throw new EnclaveElectError('E_CHAOS', `chaos run failed (seed ${seed}): ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      dispose();
    }
  },
};
