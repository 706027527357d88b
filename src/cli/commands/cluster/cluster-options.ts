// What every `cluster` subcommand shares: selecting the cluster (--name or
// --project), --json, the Docker connection, progress on stderr, Ctrl-C as
// an AbortSignal (handlers never exit the process themselves).
import type { Argv } from 'yargs';
import { UsageError } from '../../../errors.ts';
import {
  connectDocker,
  type DockerClient,
  ensureDockerReachable,
} from '../../../orchestrator/docker-client.ts';
import { parseDuration } from '../../../orchestrator/duration.ts';
import {
  type ClusterSelector,
  DEFAULT_CLUSTER,
  isValidClusterName,
  parseExtraLabels,
} from '../../../orchestrator/labels.ts';
import { STATUS_VIA, type StatusVia } from '../../../orchestrator/status-reader.ts';
import { isValidStackName } from '../../../orchestrator/swarm-tasks.ts';

export interface SelectorOptions {
  name?: string;
  project?: string;
}

export interface JsonOption {
  json: boolean;
}

export function withSelector<T>(y: Argv<T>): Argv<T & SelectorOptions> {
  return y
    .option('name', {
      type: 'string',
      describe: `Cluster made by \`cluster up\` (default: ${DEFAULT_CLUSTER})`,
    })
    .option('project', {
      type: 'string',
      describe: 'A docker compose project instead (selected by compose labels)',
    }) as Argv<T & SelectorOptions>;
}

export function withJson<T>(y: Argv<T>, what: string): Argv<T & JsonOption> {
  return y.option('json', {
    type: 'boolean',
    default: false,
    describe: `Print ${what} as one JSON document`,
  }) as Argv<T & JsonOption>;
}

export interface StatusViaOption {
  'status-via': StatusVia;
}

export function withStatusVia<T>(y: Argv<T>): Argv<T & StatusViaOption> {
  return y.option('status-via', {
    choices: STATUS_VIA,
    default: 'auto' as StatusVia,
    describe:
      "How peers' /status is read: http from this host to the container's address, exec (node inside the container), auto (http on a local engine, else exec)",
  }) as Argv<T & StatusViaOption>;
}

export function selectorFrom(args: SelectorOptions): ClusterSelector {
  if (args.name !== undefined && args.project !== undefined) {
    throw new UsageError('--name and --project select different clusters; give one of them');
  }
  if (args.project !== undefined) {
    if (args.project.trim() === '') throw new UsageError('--project needs a compose project name');
    return { kind: 'project', project: args.project };
  }
  const name = args.name ?? DEFAULT_CLUSTER;
  if (!isValidClusterName(name)) {
    throw new UsageError(
      `--name '${name}' must be 1-63 characters of a-z A-Z 0-9 _ . - starting with a letter or digit`,
    );
  }
  return { kind: 'name', name };
}

export interface SwarmOption {
  swarm?: string;
}

/** `--swarm STACK`: a stack name, never combined with --name or --project. */
export function stackFrom(args: SelectorOptions & SwarmOption): string {
  const stack = args.swarm!;
  if (args.name !== undefined || args.project !== undefined) {
    throw new UsageError('--swarm selects a stack; it does not combine with --name or --project');
  }
  if (!isValidStackName(stack)) throw new UsageError(`--swarm '${stack}' is not a stack name`);
  return stack;
}

/** A dockerode client that has answered a ping (else E_DOCKER_UNAVAILABLE saying how to start Docker). */
export async function dockerClient(): Promise<DockerClient> {
  const docker = connectDocker();
  await ensureDockerReachable(docker);
  return docker;
}

export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function printJson(document: unknown): void {
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function durationOption(raw: string | number | undefined, option: string, fallbackMs: number): number {
  return raw === undefined ? fallbackMs : parseDuration(raw, option);
}

/** Labels added to everything created: `--label k=v` plus ENCLAVE_ELECT_EXTRA_LABELS (tests tag their runs). */
export function extraLabels(flags: string[] | undefined): Record<string, string> {
  const fromEnv = parseExtraLabels(process.env.ENCLAVE_ELECT_EXTRA_LABELS);
  const fromFlags = parseExtraLabels((flags ?? []).join(','));
  for (const flag of flags ?? []) {
    if (!flag.includes('=') || flag.startsWith('='))
      throw new UsageError(`--label '${flag}' must be key=value`);
    if (flag.startsWith('io.enclave-elect.') && !flag.startsWith('io.enclave-elect.test=')) {
      throw new UsageError(`--label '${flag}': io.enclave-elect.* labels are the orchestrator's own`);
    }
  }
  return { ...fromEnv, ...fromFlags };
}

/** An AbortSignal fired by Ctrl-C (SIGINT) or SIGTERM; `dispose` removes the listeners. */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', abort);
      process.off('SIGTERM', abort);
    },
  };
}
