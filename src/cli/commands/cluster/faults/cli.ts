// `enclave-elect cluster stop|kill|pause|unpause|restart|start TARGET`: one
// container fault. TARGET is a peer name, a container name, `enclave`,
// `leader`, or `random` (with --seed to replay a pick). kill, stop, pause and
// unpause also act on a swarm stack's task on any node (`--swarm STACK`).
import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandModule } from 'yargs';
import { UsageError } from '../../../../errors.ts';
import { applyFault, describeFault, type FaultName } from '../../../../orchestrator/faults.ts';
import { selectorFlag } from '../../../../orchestrator/labels.ts';
import { statusReaderFor } from '../../../../orchestrator/status-reader.ts';
import {
  applySwarmFault,
  SWARM_FAULTS,
  type SwarmFaultName,
  type SwarmFaultRequest,
} from '../../../../orchestrator/swarm-faults.ts';
import {
  dockerClient,
  durationOption,
  interruptSignal,
  type JsonOption,
  print,
  printJson,
  progress,
  type SelectorOptions,
  selectorFrom,
  stackFrom,
  withJson,
  withSelector,
} from '../cluster-options.ts';

export interface FaultOptions extends SelectorOptions, JsonOption {
  target: string;
  seed?: string;
  signal?: string;
  for?: string;
  grace?: number;
  swarm?: string;
}

const onSwarm = (fault: FaultName): fault is SwarmFaultName =>
  (SWARM_FAULTS as readonly string[]).includes(fault);

const PAST: Record<FaultName, string> = {
  stop: 'stopped',
  kill: 'killed',
  pause: 'paused',
  unpause: 'unpaused',
  restart: 'restarted',
  start: 'started',
};

export function faultCommand(fault: FaultName): CommandModule<object, FaultOptions> {
  return {
    command: `${fault} <target>`,
    describe: describeFault(fault),
    builder: (y) => {
      let built = withJson(withSelector(y), 'the result')
        .positional('target', {
          type: 'string',
          demandOption: true,
          describe: 'peer name, container name, enclave, leader, or random',
        })
        .option('seed', {
          type: 'string',
          describe: 'Seed for `random` (printed when not given, to replay)',
        });
      if (fault === 'kill') {
        built = built.option('signal', {
          alias: 's',
          type: 'string',
          default: 'SIGKILL',
          describe: 'Signal to send',
        });
      }
      if (fault === 'pause') {
        built = built.option('for', { type: 'string', describe: 'Unpause after this long (10s, 500ms, 2m)' });
      }
      if (onSwarm(fault)) {
        built = built.option('swarm', {
          type: 'string',
          describe:
            "A task of this swarm stack instead (DOCKER_HOST names a manager): a one-shot job on the task's node makes the engine call",
        });
      }
      if (fault === 'stop' || fault === 'restart') {
        built = built.option('grace', {
          type: 'number',
          describe: 'Seconds before Docker sends SIGKILL (default 10)',
        });
      }
      return built as typeof built & { argv: FaultOptions };
    },
    handler: async (args) => {
      const selector = selectorFrom(args);
      if (args.signal !== undefined && !/^(SIG)?[A-Z0-9]+$|^\d+$/.test(args.signal)) {
        throw new UsageError(`--signal '${args.signal}' is not a signal name (SIGTERM) or number`);
      }
      if (args.grace !== undefined && (!Number.isInteger(args.grace) || args.grace < 0)) {
        throw new UsageError('--grace must be a whole number of seconds');
      }
      const pauseForMs = args.for === undefined ? undefined : durationOption(args.for, '--for', 0);
      if (args.swarm !== undefined && onSwarm(fault)) {
        await swarmFault(fault, args, pauseForMs);
        return;
      }
      const docker = await dockerClient();
      const { signal, dispose } = interruptSignal();
      try {
        const result = await applyFault(
          docker,
          selector,
          selectorFlag(selector),
          {
            fault,
            target: args.target,
            ...(args.seed === undefined ? {} : { seed: args.seed }),
            ...(args.signal === undefined ? {} : { signal: args.signal }),
            ...(args.grace === undefined ? {} : { graceSeconds: args.grace }),
            ...(pauseForMs === undefined ? {} : { pauseForMs }),
          },
          { reader: statusReaderFor(docker), progress, signal },
        );
        if (args.json) printJson(result);
        else {
          const verb = fault === 'pause' && pauseForMs !== undefined ? 'paused and unpaused' : PAST[fault];
          print(
            `${verb} ${result.name} (container ${result.container}): ${result.before} -> ${result.after}`,
          );
        }
      } finally {
        dispose();
      }
    },
  };
}

async function swarmFault(
  fault: SwarmFaultName,
  args: FaultOptions,
  pauseForMs: number | undefined,
): Promise<void> {
  const stack = stackFrom(args);
  const docker = await dockerClient();
  const request: SwarmFaultRequest = {
    fault,
    target: args.target,
    ...(args.seed === undefined ? {} : { seed: args.seed }),
    ...(args.signal === undefined ? {} : { signal: args.signal }),
    ...(args.grace === undefined ? {} : { graceSeconds: args.grace }),
  };
  const result = await applySwarmFault(docker, stack, request, { progress });
  if (pauseForMs !== undefined) {
    // The same task, by its task name, even if the leader has changed meanwhile.
    const { signal, dispose } = interruptSignal();
    await sleep(pauseForMs, undefined, { signal }).catch(() => undefined);
    dispose();
    await applySwarmFault(
      docker,
      stack,
      { fault: 'unpause', target: result.task.split('@')[0]! },
      { progress },
    );
  }
  if (args.json) printJson(result);
  else {
    const verb = pauseForMs !== undefined ? 'paused and unpaused' : PAST[fault];
    print(`${verb} ${result.name} (task ${result.task}, ${result.how}) at ${result.at}`);
  }
}
