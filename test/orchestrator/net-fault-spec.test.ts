import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { helperContainerOptions } from '../../src/orchestrator/fault-helper.ts';
import {
  describeNetFault,
  helperArgs,
  netFaultSpecFrom,
  parseLossBurst,
} from '../../src/orchestrator/net-fault-spec.ts';
import { runBinary } from '../support/run-cli.ts';

describe('net fault flags', () => {
  it('reads percentages with or without %, durations with units, and a tc rate', () => {
    assert.deepEqual(
      netFaultSpecFrom({
        loss: '5%',
        delay: '100ms',
        jitter: '0.02s',
        duplicate: '1',
        corrupt: '0.5%',
        reorder: '25%',
        rate: '1Mbit',
        seed: 's',
      }),
      {
        lossPercent: 5,
        delayMs: 100,
        jitterMs: 20,
        duplicatePercent: 1,
        corruptPercent: 0.5,
        reorderPercent: 25,
        rate: '1mbit',
        seed: 's',
      },
    );
  });

  it("fills Gilbert-Elliott's missing values as netem's gemodel does", () => {
    assert.deepEqual(parseLossBurst('2%'), { p: 2, r: 98, lossBad: 100, lossGood: 0 });
    assert.deepEqual(parseLossBurst('2%,20%'), { p: 2, r: 20, lossBad: 100, lossGood: 0 });
    assert.deepEqual(parseLossBurst('1,30,90,0.1'), { p: 1, r: 30, lossBad: 90, lossGood: 0.1 });
  });

  it('refuses values that cannot be applied, naming a good one', () => {
    const cases: [Parameters<typeof netFaultSpecFrom>[0], RegExp][] = [
      [{ loss: '150%' }, /--loss '150%' must be a percentage from 0 to 100 \(example: --loss 5%\)/],
      [{ loss: 'some' }, /--loss 'some' must be a percentage/],
      [{ 'loss-burst': '1,2,3,4,5' }, /--loss-burst '1,2,3,4,5' must be p\[,r\[,1-h\[,1-k\]\]\]/],
      [{ 'loss-burst': '2,x' }, /--loss-burst \(value 2\) 'x' must be a percentage/],
      [{ delay: 'soon' }, /--delay: 'soon' is not a duration/],
      [{ delay: '2m' }, /--delay and --jitter must be at most 1m00s/],
      [{ jitter: '20ms' }, /--jitter varies a delay: give --delay too/],
      [{ reorder: '25%' }, /--reorder .* give --delay too/],
      [{ rate: 'fast' }, /--rate 'fast' must be a number and a unit/],
      [{}, /name at least one fault: --loss, --loss-burst, --delay/],
      [{ seed: 'only' }, /name at least one fault/],
    ];
    for (const [flags, message] of cases) {
      assert.throws(() => netFaultSpecFrom(flags), { code: 'E_USAGE', message }, JSON.stringify(flags));
    }
  });

  it('hands the helper plain numbers: percent and milliseconds', () => {
    const spec = netFaultSpecFrom({
      loss: '5%',
      'loss-burst': '2,20',
      delay: '1s',
      jitter: '50ms',
      rate: '500kbit',
    });
    assert.deepEqual(helperArgs({ ...spec, dropFrom: ['10.0.0.2', '10.0.0.3'] }), [
      '--loss',
      '5',
      '--loss-burst',
      '2,20,100,0',
      '--delay',
      '1000',
      '--jitter',
      '50',
      '--rate',
      '500kbit',
      '--drop-from',
      '10.0.0.2,10.0.0.3',
    ]);
  });

  it('describes a fault in one line for progress and hover text', () => {
    assert.equal(
      describeNetFault(netFaultSpecFrom({ delay: '100ms', jitter: '20ms', loss: '5%', duplicate: '1%' })),
      'delay 100ms±20ms, loss 5%, duplicate 1%',
    );
  });
});

describe('the fault helper container', () => {
  it("joins the target's network namespace with NET_ADMIN and NET_RAW only, labelled as ours", () => {
    const options = helperContainerOptions({
      image: 'enclave-elect-fault-helper:abc',
      target: 'c0ffee',
      cmd: ['apply', '--loss', '5'],
      kind: 'net',
      describe: 'loss 5%',
      labels: { 'io.enclave-elect.test': 'run1' },
      autoRemove: false,
    });
    assert.deepEqual(options.Env, ['NET_FAULT_CHAIN=EE_NETFAULT']);
    assert.deepEqual(options.HostConfig, {
      NetworkMode: 'container:c0ffee',
      CapDrop: ['ALL'],
      CapAdd: ['NET_ADMIN', 'NET_RAW'],
      AutoRemove: false,
    });
    assert.deepEqual(options.Labels, {
      'io.enclave-elect.test': 'run1',
      'io.enclave-elect.managed': 'true',
      'io.enclave-elect.role': 'fault-helper',
      'io.enclave-elect.fault-target': 'c0ffee',
      'io.enclave-elect.fault-kind': 'net',
      'io.enclave-elect.fault': 'loss 5%',
    });
  });
});

describe('enclave-elect cluster net (usage errors, before any engine is asked)', () => {
  const cases: [string[], RegExp][] = [
    [['--loss', '150%'], /--loss '150%' must be a percentage from 0 to 100/],
    [['--clear', '--delay', '10ms'], /--clear removes faults; drop --delay or --clear/],
    [[], /name at least one fault/],
  ];
  for (const [flags, message] of cases) {
    it(`exits 2 on \`net peer-1 ${flags.join(' ')}\``, async () => {
      const result = await runBinary(['cluster', 'net', 'peer-1', ...flags], {
        DOCKER_HOST: 'tcp://127.0.0.1:1',
      });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
    });
  }
  it('exits 2 when `all` is the target of anything but --clear', async () => {
    const result = await runBinary(['cluster', 'net', 'all', '--loss', '5%']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /`all` is a target for --clear only/);
  });
});
