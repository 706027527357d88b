// What a network fault does, as the command line says it and as the fault
// helper (deploy/fault-helper/net-fault.sh) takes it: parsed and validated
// once, each bad value named with an example of a good one.
import { UsageError } from '../errors.ts';
import { formatDuration, parseDuration } from './duration.ts';

export interface NetFaultSpec {
  /** Random (Bernoulli) loss, percent: iptables `statistic`. */
  lossPercent?: number;
  /** Bursty loss, Gilbert-Elliott in percent as netem's gemodel: p (good->bad), r (bad->good), 1-h (loss when bad), 1-k (loss when good). */
  lossBurst?: { p: number; r: number; lossBad: number; lossGood: number };
  delayMs?: number;
  /** Uniform in [delay - jitter, delay + jitter] on this kernel (netem's own distribution where netem runs). */
  jitterMs?: number;
  duplicatePercent?: number;
  corruptPercent?: number;
  /** Share of packets sent at once while the rest wait `delay` (netem's reorder); needs a delay. */
  reorderPercent?: number;
  /** A tc rate (`1mbit`, `500kbit`): TBF. */
  rate?: string;
  /** One-way cuts: this container hears nothing from these addresses... */
  dropFrom?: string[];
  /** ...and sends nothing to these. */
  dropTo?: string[];
  /** Seeds the shaper's random choices, so a run can be replayed. */
  seed?: string;
}

export interface NetFaultFlags {
  loss?: string;
  'loss-burst'?: string;
  delay?: string;
  jitter?: string;
  duplicate?: string;
  corrupt?: string;
  reorder?: string;
  rate?: string;
  seed?: string;
}

export function parsePercent(raw: string | number, option: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(String(raw));
  const value = match ? Number(match[1]) : Number.NaN;
  if (!(value >= 0 && value <= 100)) {
    throw new UsageError(`${option} '${raw}' must be a percentage from 0 to 100 (example: ${option} 5%)`);
  }
  return value;
}

/** `p[,r[,1-h[,1-k]]]` in percent; r defaults to 100 - p, 1-h to 100, 1-k to 0 (netem's defaults). */
export function parseLossBurst(raw: string): NonNullable<NetFaultSpec['lossBurst']> {
  const parts = raw.split(',').map((part) => part.trim());
  if (parts.length > 4 || parts.some((part) => part === '')) {
    throw new UsageError(
      `--loss-burst '${raw}' must be p[,r[,1-h[,1-k]]] in percent (example: --loss-burst 2%,20%: bursts begin with probability 2% and end with 20%, mean length 5)`,
    );
  }
  const [p, r, lossBad, lossGood] = parts.map((part, i) =>
    parsePercent(part, `--loss-burst (value ${i + 1})`),
  ) as [number, ...number[]];
  return { p, r: r ?? 100 - p, lossBad: lossBad ?? 100, lossGood: lossGood ?? 0 };
}

const RATE = /^\d+(\.\d+)?(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/i;

export function parseRate(raw: string): string {
  const rate = raw.trim();
  if (!RATE.test(rate)) {
    throw new UsageError(
      `--rate '${raw}' must be a number and a unit: bit, kbit, mbit, gbit (example: --rate 1mbit)`,
    );
  }
  return rate.toLowerCase();
}

/** The flags of `cluster net`, validated; at least one fault must be asked for. */
export function netFaultSpecFrom(flags: NetFaultFlags): NetFaultSpec {
  const spec: NetFaultSpec = {};
  if (flags.loss !== undefined) spec.lossPercent = parsePercent(flags.loss, '--loss');
  if (flags['loss-burst'] !== undefined) spec.lossBurst = parseLossBurst(flags['loss-burst']);
  if (flags.delay !== undefined) spec.delayMs = parseDuration(flags.delay, '--delay');
  if (flags.jitter !== undefined) spec.jitterMs = parseDuration(flags.jitter, '--jitter');
  if (flags.duplicate !== undefined) spec.duplicatePercent = parsePercent(flags.duplicate, '--duplicate');
  if (flags.corrupt !== undefined) spec.corruptPercent = parsePercent(flags.corrupt, '--corrupt');
  if (flags.reorder !== undefined) spec.reorderPercent = parsePercent(flags.reorder, '--reorder');
  if (flags.rate !== undefined) spec.rate = parseRate(flags.rate);
  if (flags.seed !== undefined) spec.seed = flags.seed;
  validateNetFault(spec);
  return spec;
}

const MAX_DELAY_MS = 60_000;

export function validateNetFault(spec: NetFaultSpec): void {
  const faults = Object.keys(spec).filter((key) => key !== 'seed');
  if (faults.length === 0) {
    throw new UsageError(
      'name at least one fault: --loss, --loss-burst, --delay, --jitter, --duplicate, --corrupt, --reorder, --rate (or --clear to remove them)',
    );
  }
  if ((spec.delayMs ?? 0) > MAX_DELAY_MS || (spec.jitterMs ?? 0) > MAX_DELAY_MS) {
    throw new UsageError(`--delay and --jitter must be at most ${formatDuration(MAX_DELAY_MS)}`);
  }
  if (spec.jitterMs !== undefined && !(spec.delayMs && spec.delayMs > 0)) {
    throw new UsageError('--jitter varies a delay: give --delay too (example: --delay 100ms --jitter 20ms)');
  }
  if (spec.reorderPercent !== undefined && !(spec.delayMs && spec.delayMs > 0)) {
    throw new UsageError(
      '--reorder sends that share at once while the rest wait --delay: give --delay too (example: --delay 50ms --reorder 25%)',
    );
  }
  const address = /^\d{1,3}(\.\d{1,3}){3}$/;
  for (const ip of [...(spec.dropFrom ?? []), ...(spec.dropTo ?? [])]) {
    if (!address.test(ip)) throw new UsageError(`'${ip}' is not an IPv4 address`);
  }
}

/** The helper's `apply` arguments (percent as plain numbers, durations in ms). */
export function helperArgs(spec: NetFaultSpec): string[] {
  const args: string[] = [];
  const add = (flag: string, value: number | string | undefined) => {
    if (value !== undefined) args.push(flag, String(value));
  };
  add('--loss', spec.lossPercent);
  if (spec.lossBurst) {
    const { p, r, lossBad, lossGood } = spec.lossBurst;
    add('--loss-burst', [p, r, lossBad, lossGood].join(','));
  }
  add('--delay', spec.delayMs);
  add('--jitter', spec.jitterMs);
  add('--duplicate', spec.duplicatePercent);
  add('--corrupt', spec.corruptPercent);
  add('--reorder', spec.reorderPercent);
  add('--rate', spec.rate);
  if (spec.dropFrom?.length) add('--drop-from', spec.dropFrom.join(','));
  if (spec.dropTo?.length) add('--drop-to', spec.dropTo.join(','));
  add('--seed', spec.seed);
  return args;
}

/** One line for people (progress, the report's hover text): `delay 100ms±20ms, loss 5%`. */
export function describeNetFault(spec: NetFaultSpec): string {
  const parts: string[] = [];
  if (spec.delayMs !== undefined) {
    parts.push(
      `delay ${formatDuration(spec.delayMs)}${spec.jitterMs ? `±${formatDuration(spec.jitterMs)}` : ''}`,
    );
  }
  if (spec.lossPercent !== undefined) parts.push(`loss ${spec.lossPercent}%`);
  if (spec.lossBurst) {
    const { p, r, lossBad, lossGood } = spec.lossBurst;
    parts.push(`burst loss p=${p}% r=${r}% 1-h=${lossBad}% 1-k=${lossGood}%`);
  }
  if (spec.duplicatePercent !== undefined) parts.push(`duplicate ${spec.duplicatePercent}%`);
  if (spec.corruptPercent !== undefined) parts.push(`corrupt ${spec.corruptPercent}%`);
  if (spec.reorderPercent !== undefined) parts.push(`reorder ${spec.reorderPercent}%`);
  if (spec.rate !== undefined) parts.push(`rate ${spec.rate}`);
  if (spec.dropFrom?.length) parts.push(`deaf to ${spec.dropFrom.join(', ')}`);
  if (spec.dropTo?.length) parts.push(`mute to ${spec.dropTo.join(', ')}`);
  return parts.join(', ');
}
