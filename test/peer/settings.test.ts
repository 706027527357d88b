import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeSetting,
  integer,
  list,
  optionName,
  resolveSettings,
  type Setting,
} from '../../src/peer/settings.ts';
import { configError } from '../support/config-error.ts';

const TABLE = {
  intervalMs: {
    flag: 'interval-ms',
    env: 'INTERVAL_MS',
    default: 500,
    parse: integer(10, 1000),
    reason: 'a test default',
    describe: 'How often',
  },
  seeds: {
    flag: 'seeds',
    env: 'SEEDS',
    default: [] as string[],
    parse: (raw: string) => list(raw),
    reason: 'none by default',
    describe: 'Where to join',
  },
  label: {
    flag: 'label',
    env: 'LABEL',
    default: '',
    parse: (raw: string) => raw,
    reason: 'chosen at start',
    describe: 'A label',
  },
} satisfies Record<string, Setting<unknown>>;

describe('settings resolver', () => {
  it('takes the flag over the environment, the environment over the default', () => {
    const env = { INTERVAL_MS: '700', SEEDS: 'a,b', LABEL: 'from-env' };
    assert.deepEqual(resolveSettings(TABLE, { 'interval-ms': '900' }, env), {
      intervalMs: 900,
      seeds: ['a', 'b'],
      label: 'from-env',
    });
    assert.deepEqual(resolveSettings(TABLE, {}, {}), { intervalMs: 500, seeds: [], label: '' });
  });

  it('reads a repeated flag as its entries joined by commas', () => {
    assert.deepEqual(resolveSettings(TABLE, { seeds: ['a', 'b:1'] }, { SEEDS: 'ignored' }).seeds, [
      'a',
      'b:1',
    ]);
  });

  it('parses an empty environment variable rather than falling back to the default', () => {
    assert.equal(resolveSettings(TABLE, {}, { LABEL: '' }).label, '');
    assert.match(
      configError(() => resolveSettings(TABLE, {}, { INTERVAL_MS: '' })),
      /not a whole number/,
    );
  });

  it('names the flag and the variable of a bad value, from either source', () => {
    assert.match(
      configError(() => resolveSettings(TABLE, { 'interval-ms': 'soon' }, {})),
      /^invalid --interval-ms \(INTERVAL_MS\): 'soon' is not a whole number$/,
    );
    assert.match(
      configError(() => resolveSettings(TABLE, {}, { INTERVAL_MS: '5' })),
      /^invalid --interval-ms \(INTERVAL_MS\): 5 is outside 10\.\.1000$/,
    );
  });

  it('validates a flag even when the environment holds a good value, and never the overridden one', () => {
    assert.equal(resolveSettings(TABLE, { 'interval-ms': '20' }, { INTERVAL_MS: 'bad' }).intervalMs, 20);
    assert.match(
      configError(() => resolveSettings(TABLE, { 'interval-ms': '1e3' }, { INTERVAL_MS: '20' })),
      /1e3/,
    );
  });

  it('describes each setting for --help with its variable, default and reason', () => {
    assert.equal(optionName(TABLE.intervalMs), '--interval-ms (INTERVAL_MS)');
    assert.equal(
      describeSetting(TABLE.intervalMs),
      'How often [env INTERVAL_MS; default 500: a test default]',
    );
    assert.equal(describeSetting(TABLE.seeds), 'Where to join [env SEEDS; default none: none by default]');
    assert.equal(describeSetting(TABLE.label), 'A label [env LABEL; default auto: chosen at start]');
  });
});
