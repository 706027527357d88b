// The one resolver for the settings tables of `enclave-elect peer` (membership
// in ./config.ts, election in ./election/election-config.ts): each setting is a
// flag, an environment variable and a default with its reason. Precedence:
// flag, then environment, then default; every value is parsed once, and a bad
// one is a ConfigError naming the flag and the variable (exit 2).
import { ConfigError } from '../errors.ts';

export interface Setting<T> {
  flag: string;
  env: string;
  default: T;
  /** Why this default. */
  reason: string;
  describe: string;
  parse: (raw: string, option: string) => T;
}

/** The values a settings table resolves to, each of its setting's type. */
export type SettingValues<S extends Record<string, Setting<unknown>>> = { [K in keyof S]: S[K]['default'] };

/** How messages name a setting: `--probe-interval-ms (PROBE_INTERVAL_MS)`. */
export function optionName(s: { flag: string; env: string }): string {
  return `--${s.flag} (${s.env})`;
}

export function integer(min: number, max: number) {
  return (raw: string, option: string): number => {
    const value = Number(raw);
    if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(value)) {
      throw new ConfigError(option, `'${raw}' is not a whole number`);
    }
    if (value < min || value > max) throw new ConfigError(option, `${value} is outside ${min}..${max}`);
    return value;
  };
}

/** Comma- or space-separated entries, empty ones dropped. */
export function list(raw: string): string[] {
  return raw
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Resolve every setting of `table` from parsed flags (raw strings; a repeated
 * flag arrives as an array and reads as its entries joined by commas) and the
 * environment.
 */
export function resolveSettings<S extends Record<string, Setting<unknown>>>(
  table: S,
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): SettingValues<S> {
  const values: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(table)) {
    const flag = flags[setting.flag];
    const raw = Array.isArray(flag)
      ? flag.map(String).join(',')
      : flag !== undefined
        ? String(flag)
        : env[setting.env];
    values[key] = raw === undefined ? setting.default : setting.parse(raw, optionName(setting));
  }
  return values as SettingValues<S>;
}

/** The --help text of a setting: what it does, its variable, its default and why. */
export function describeSetting(setting: Setting<unknown>): string {
  const shown = Array.isArray(setting.default)
    ? setting.default.length === 0
      ? 'none'
      : String(setting.default)
    : String(setting.default) || 'auto';
  return `${setting.describe} [env ${setting.env}; default ${shown}: ${setting.reason}]`;
}
