// A peer whose container comes back with another IP says so: the watch
// notices the change, the core announces it with a higher incarnation, and
// nobody marks the peer dead for it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AddressWatch,
  changedAddress,
  firstExternalIpv4,
  type InterfaceAddress,
} from '../../src/peer/address-watch.ts';
import { ManualClock } from '../../src/time/clock.ts';
import { SimulatedCluster, simulationSeed } from './support/simulated-cluster.ts';

const lo: InterfaceAddress = { address: '127.0.0.1', family: 'IPv4', internal: true };
const v4 = (address: string): InterfaceAddress => ({ address, family: 'IPv4', internal: false });
const v6: InterfaceAddress = { address: 'fe80::1', family: 'IPv6', internal: false };

describe('address watch', () => {
  it('keeps an address some interface still holds, even when another comes first', () => {
    const list = () => ({ lo: [lo], eth0: [v4('172.20.0.9')], eth1: [v4('172.18.0.3')] });
    assert.equal(changedAddress('172.18.0.3', list), undefined);
  });

  it('moves to the first external IPv4 when the old address is gone', () => {
    const list = () => ({ lo: [lo], eth0: [v6, v4('172.18.0.7')] });
    assert.equal(changedAddress('172.18.0.3', list), '172.18.0.7');
    assert.equal(firstExternalIpv4(list), '172.18.0.7');
  });

  it('keeps the old address while there is no other (a container between networks)', () => {
    assert.equal(
      changedAddress('172.18.0.3', () => ({ lo: [lo] })),
      undefined,
    );
  });

  it('moves off loopback (a peer that started with no network) once an interface appears', () => {
    assert.equal(
      changedAddress('127.0.0.1', () => ({ lo: [lo] })),
      undefined,
    );
    assert.equal(
      changedAddress('127.0.0.1', () => ({ lo: [lo], eth0: [v4('10.1.0.9')] })),
      '10.1.0.9',
    );
  });

  it('reports a failing check and keeps watching', () => {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    const seen: string[] = [];
    let calls = 0;
    const watch = new AddressWatch({
      current: '10.1.0.2',
      clock,
      everyMs: 1000,
      list: () => {
        calls++;
        if (calls === 1) throw new Error('uv_interface_addresses failed');
        return { eth0: [v4('10.1.0.3')] };
      },
      onChange: (ip) => seen.push(ip),
      onError: (error) => errors.push(error),
    });
    watch.start();
    watch.start();
    clock.advance(2000);
    assert.equal(errors.length, 1);
    assert.deepEqual(seen, ['10.1.0.3']);
    assert.equal(calls, 2, 'one timer, however often start is called');
    watch.stop();
  });

  it('checks on its timer and reports each change once, until stopped', () => {
    const clock = new ManualClock(0);
    let interfaces: Record<string, InterfaceAddress[]> = { lo: [lo], eth0: [v4('10.1.0.2')] };
    const seen: string[] = [];
    const watch = new AddressWatch({
      current: '10.1.0.2',
      clock,
      everyMs: 1000,
      list: () => interfaces,
      onChange: (ip) => seen.push(ip),
    });
    watch.start();
    clock.advance(2500);
    assert.deepEqual(seen, []);
    interfaces = { lo: [lo], eth0: [v4('10.1.0.5')] };
    clock.advance(1000);
    assert.deepEqual(seen, ['10.1.0.5']);
    assert.equal(watch.address, '10.1.0.5');
    clock.advance(5000);
    assert.deepEqual(seen, ['10.1.0.5']);
    interfaces = { lo: [lo], eth0: [v4('10.1.0.6')] };
    watch.stop();
    clock.advance(5000);
    assert.deepEqual(seen, ['10.1.0.5']);
  });
});

describe('readdress (simulated)', () => {
  const moved = '10.9.9.9:7946';

  /** 6 peers converge, then peer-3's endpoint moves to another address. */
  function moveOne(seed: number) {
    const c = new SimulatedCluster(simulationSeed(seed));
    c.startMany(6);
    c.runUntil(() => c.converged(), 10_000, 'convergence');
    c.network.move(SimulatedCluster.addressOf(3), moved);
    return c;
  }

  it('announces a new address with a higher incarnation; every peer takes it, none marks it dead', () => {
    const c = moveOne(131);
    const node = c.peer('peer-3').node;
    const before = node.self.incarnation;
    node.readdress(moved);
    assert.equal(node.address, moved);
    assert.ok(node.self.incarnation > before);
    assert.ok(c.peer('peer-3').events.some((e) => e.event === 'self.readdressed' && e.address === moved));
    c.runUntil(
      () => c.live().every((p) => p.node.name === 'peer-3' || p.node.member('peer-3')?.address === moved),
      3000,
      'new address everywhere',
    );
    c.run(20_000);
    assert.ok(c.converged(), `seed ${c.seed}`);
    assert.equal(c.falseDeaths(), 0, `seed ${c.seed}`);
  });

  it('without the announcement the others call the moved peer dead (what the watch prevents)', () => {
    const c = moveOne(131);
    c.runUntil(() => c.allSee('peer-3', 'dead'), 20_000, 'the moved peer declared dead');
  });

  it('ignores a readdress to the address it already has', () => {
    const c = new SimulatedCluster(simulationSeed(132));
    c.startMany(2);
    const node = c.peer('peer-1').node;
    const before = node.self.incarnation;
    node.readdress(node.address);
    assert.equal(node.self.incarnation, before);
  });
});
