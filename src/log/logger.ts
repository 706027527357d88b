// One root pino logger per process. JSON lines on stdout by default; human
// output only when asked (LOG_PRETTY=1 / --log-pretty) or when stdout is a TTY.
// Components take `logger.child({ component, peer })`; events are fields
// (`event: 'member.dead'`), not sentences.
import { createRequire } from 'node:module';
import { type DestinationStream, type Level, type Logger, pino } from 'pino';
import type PinoPretty from 'pino-pretty';
import { isoTime } from '../time/iso-time.ts';

// Loaded only when wanted: containers log JSON, and pino-pretty with its
// dependencies is about 30 modules every peer would otherwise hold.
const loadPretty = () => createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;

export type { Logger };

export interface LoggerOptions {
  level?: Level | 'silent';
  /** true: human-readable; false: JSON; undefined: decide from env and TTY. */
  pretty?: boolean;
  /** Where lines go (default stdout). Tests pass a sink to capture them. */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
  /** Fields added to every line (e.g. the peer's current epoch); explicit fields win. */
  mixin?: () => Record<string, unknown>;
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function resolveLevel(value: string | undefined, fallback: Level = 'info'): Level | 'silent' {
  if (value === undefined || value === '') return fallback;
  const lower = value.toLowerCase();
  return LEVELS.has(lower) ? (lower as Level | 'silent') : fallback;
}

export function wantsPretty(
  env: NodeJS.ProcessEnv = process.env,
  isTTY = process.stdout.isTTY === true,
): boolean {
  const flag = env.LOG_PRETTY;
  if (flag === '1' || flag === 'true') return true;
  if (flag === '0' || flag === 'false') return false;
  return isTTY;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? resolveLevel(process.env.LOG_LEVEL);
  const usePretty = options.pretty ?? wantsPretty();
  // Synchronous writes, as Node writes stdout to a pipe or a file: an async
  // destination hands every line to libuv's thread pool, whose threads then
  // hold memory (a malloc arena each) in a process that logs a few lines a second.
  const destination =
    options.destination ??
    (usePretty
      ? loadPretty()({ colorize: process.stdout.isTTY === true, sync: true })
      : pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level,
      base: options.base ?? { pid: process.pid },
      // pino.stdTimeFunctions.isoTime's output, without Date#toISOString (src/time/iso-time.ts).
      timestamp: () => `,"time":"${isoTime(Date.now())}"`,
      formatters: { level: (label) => ({ level: label }) },
      ...(options.mixin ? { mixin: options.mixin } : {}),
    },
    destination,
  );
}
