// `cluster chaos --swarm STACK`: the options a swarm run takes (and the ones
// it refuses), the run itself (src/chaos/swarm-chaos.ts), the report files.
// The shared output helpers come from cli.ts as arguments, so the two files do
// not import each other.
import { newChaosSeed, writeReport } from '../../../../chaos/chaos-session.ts';
import { buildReport, type ChaosReport } from '../../../../chaos/report.ts';
import { type FaultKind, generateSchedule } from '../../../../chaos/schedule.ts';
import { progressLine } from '../../../../chaos/summary-text.ts';
import { checkSwarmKinds, runSwarmChaos, SWARM_CHAOS_KINDS } from '../../../../chaos/swarm-chaos.ts';
import { EnclaveElectError, UsageError } from '../../../../errors.ts';
import type { SelectorOptions, StatusViaOption, SwarmOption } from '../cluster-options.ts';
import {
  dockerClient,
  durationOption,
  extraLabels,
  interruptSignal,
  printJson,
  progress,
  stackFrom,
} from '../cluster-options.ts';

/** The options of `cluster chaos` a swarm run reads (cli.ts's ChaosOptions has them all). */
export interface SwarmChaosArgs extends SelectorOptions, StatusViaOption, SwarmOption {
  json: boolean;
  duration: string;
  interval: string;
  faults?: string;
  'nemesis-profile'?: string;
  seed?: string;
  peers?: number;
  report?: string;
  'lease-ms'?: number;
  keep: boolean;
  label?: string[];
  'dry-run': boolean;
}

export interface ProgressWriter {
  update: (line: string) => void;
  done: () => void;
  /** A line that stays (a skipped fault, a gap in the history), printed clear of the live line. */
  note: (line: string) => void;
}

export interface ChaosOutput {
  faultKinds: (
    raw: string | undefined,
    profile: string | undefined,
    fallback?: readonly FaultKind[],
  ) => FaultKind[];
  progressWriter: () => ProgressWriter;
  printOutcome: (report: ChaosReport, args: SwarmChaosArgs, seed: string) => void;
}

/** What a swarm run cannot do: start its own cluster, or read status another way. */
function refuseOptions(args: SwarmChaosArgs): void {
  if (args.peers !== undefined) throw new UsageError('--swarm runs against a deployed stack; drop --peers');
  if (args['status-via'] !== 'auto') {
    throw new UsageError("--swarm reads peers through the stack's network; --status-via does not apply");
  }
  if (args.keep) throw new UsageError('--keep is for --peers; a swarm stack is never removed');
}

export async function chaosOnSwarm(args: SwarmChaosArgs, output: ChaosOutput): Promise<void> {
  const stack = stackFrom(args);
  refuseOptions(args);
  const faults = output.faultKinds(args.faults, args['nemesis-profile'], SWARM_CHAOS_KINDS);
  checkSwarmKinds(faults);
  const durationMs = durationOption(args.duration, '--duration', 120_000);
  const intervalMs = durationOption(args.interval, '--interval', 5000);
  if (durationMs < 1000) throw new UsageError('--duration must be at least 1s');
  const seed = args.seed ?? newChaosSeed();
  if (args['dry-run']) {
    // The stack's members are named only once it runs: five placeholders, as without --swarm.
    const peers = Array.from({ length: 5 }, (_, i) => `peer-${i + 1}`);
    printJson(generateSchedule({ seed, durationMs, intervalMs, faults, peers }));
    return;
  }
  const labels = extraLabels(args.label);
  const docker = await dockerClient();
  progress(`chaos seed ${seed} on swarm stack '${stack}' (replay with --seed ${seed})`);
  const live = output.progressWriter();
  const note = live.note;
  const { signal, dispose } = interruptSignal();
  try {
    const run = await runSwarmChaos(
      {
        seed,
        durationMs,
        intervalMs,
        faults,
        stack,
        leaseMs: args['lease-ms'] ?? 2000,
        extraLabels: labels,
      },
      { docker, progress: (state) => live.update(progressLine(state)), note, signal },
    );
    const report = buildReport(run, {
      cluster: `swarm:${stack}`,
      image: null,
      durationMs,
      intervalMs,
      faults,
    });
    if (args.report !== undefined) await writeReport(args.report, report);
    live.done();
    output.printOutcome(report, args, seed);
  } catch (error) {
    live.done();
    if (error instanceof EnclaveElectError) throw error;
    throw new EnclaveElectError(
      'E_CHAOS',
      `chaos run on '${stack}' failed (seed ${seed}): ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  } finally {
    dispose();
  }
}
