import assert from 'node:assert/strict';
import { test } from 'node:test';
import { httpDate, isoTime } from '../../src/time/iso-time.ts';

test('isoTime formats like Date#toISOString', () => {
  const samples = [
    0,
    1,
    999,
    -1,
    Date.now(),
    -62167219200000,
    253402300799999,
    951782400000,
    253402300800000,
    -62167219200001,
  ];
  for (let i = 0; i < 2000; i++) samples.push(Math.floor((Math.random() * 2 - 0.3) * 2.6e14));
  for (const t of samples) assert.equal(isoTime(t), new Date(t).toISOString(), String(t));
  assert.throws(() => isoTime(Number.NaN), RangeError);
});

test('httpDate formats like Date#toUTCString', () => {
  const samples = [0, Date.now(), -30610224000000, 253402300799999, -30610224000001, 253402300800000];
  for (let i = 0; i < 2000; i++) samples.push(Math.floor(Math.random() * 2.5e14));
  for (const t of samples) assert.equal(httpDate(t), new Date(t).toUTCString(), String(t));
});
