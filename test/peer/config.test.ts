import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { membershipConfig, PEER_DEFAULTS, PEER_SETTINGS, resolvePeerConfig } from '../../src/peer/config.ts';
import { parseSeeds } from '../../src/peer/discovery/seed-discovery.ts';
import { configError } from '../support/config-error.ts';

describe('peer config', () => {
  it('has the DESIGN.md §4 defaults, each with a reason', () => {
    const core = membershipConfig(PEER_DEFAULTS);
    assert.equal(core.probeIntervalMs, 500);
    assert.equal(core.probeTimeoutMs, 200);
    assert.equal(core.indirectChecks, 3);
    assert.equal(core.suspicionMult, 4);
    assert.equal(core.gossipIntervalMs, 200);
    assert.equal(core.gossipFanout, 3);
    assert.equal(core.retransmitMult, 4);
    assert.equal(core.pushPullIntervalMs, 10_000);
    assert.equal(core.maxDatagramBytes, 1400);
    for (const [key, setting] of Object.entries(PEER_SETTINGS)) {
      assert.ok(setting.reason.length > 20, `${key} needs a reason`);
      assert.match(setting.env, /^[A-Z_]+$/);
    }
  });

  it('takes a flag over the environment over the default', () => {
    const env = { PROBE_INTERVAL_MS: '800', GOSSIP_PORT: '8000', PEER_NAME: 'from-env' };
    const config = resolvePeerConfig({ 'probe-interval-ms': '900' }, env);
    assert.equal(config.probeIntervalMs, 900);
    assert.equal(config.gossipPort, 8000);
    assert.equal(config.name, 'from-env');
    assert.equal(config.gossipFanout, 3);
  });

  it('reads lists from commas or repeated flags', () => {
    assert.deepEqual(resolvePeerConfig({ join: ['peer', 'seed:7000'] }, {}).join, ['peer', 'seed:7000']);
    assert.deepEqual(resolvePeerConfig({}, { JOIN: 'a, b:1' }).join, ['a', 'b:1']);
    const key = Buffer.alloc(32, 1);
    const keys = resolvePeerConfig(
      {},
      { GOSSIP_KEY: `${key.toString('base64')},${key.toString('hex')}` },
    ).gossipKeys;
    assert.equal(keys.length, 2);
  });

  it('rejects invalid values naming the option', () => {
    assert.match(
      configError(() => resolvePeerConfig({ 'probe-interval-ms': 'fast' }, {})),
      /--probe-interval-ms \(PROBE_INTERVAL_MS\).*not a whole number/,
    );
    assert.match(
      configError(() => resolvePeerConfig({}, { GOSSIP_PORT: '70000' })),
      /--gossip-port \(GOSSIP_PORT\).*outside/,
    );
    assert.match(
      configError(() => resolvePeerConfig({ name: 'no spaces' }, {})),
      /--name \(PEER_NAME\)/,
    );
    assert.match(
      configError(() => resolvePeerConfig({ name: '_ghost' }, {})),
      /--name \(PEER_NAME\): '_ghost' must be 1-63 characters .* starting with a letter or digit/,
    );
    assert.match(
      configError(() => resolvePeerConfig({ 'admin-headers-timeout-ms': '20000' }, {})),
      /--admin-headers-timeout-ms .*must not exceed the request timeout/,
    );
    assert.match(
      configError(() => resolvePeerConfig({}, { ADMIN_MAX_CONNECTIONS: '0' })),
      /--admin-max-connections \(ADMIN_MAX_CONNECTIONS\).*outside/,
    );
    assert.match(
      configError(() => resolvePeerConfig({}, { GOSSIP_KEY: 'secret' })),
      /--gossip-key \(GOSSIP_KEY\).*key 1/,
    );
    assert.match(
      configError(() => resolvePeerConfig({ 'advertise-address': 'host.example' }, {})),
      /--advertise-address/,
    );
    assert.match(
      configError(() => resolvePeerConfig({ 'advertise-address': '010.0.0.1' }, {})),
      /--advertise-address.*without leading zeros: 10\.0\.0\.1/,
    );
    assert.match(
      configError(() => resolvePeerConfig({}, { ADDRESS_CHECK_MS: '-1' })),
      /--address-check-ms \(ADDRESS_CHECK_MS\)/,
    );
    assert.match(
      configError(() => resolvePeerConfig({ 'probe-timeout-ms': '600' }, {})),
      /--probe-timeout-ms.*below --probe-interval-ms/,
    );
  });

  it('parses seeds as host[:port] with the gossip port as default', () => {
    assert.deepEqual(parseSeeds(['peer', '192.0.2.7:7000', 'tasks.peer'], 7946), [
      { host: 'peer', port: 7946 },
      { host: '192.0.2.7', port: 7000 },
      { host: 'tasks.peer', port: 7946 },
    ]);
    assert.match(
      configError(() => parseSeeds(['peer:99999'], 7946)),
      /--join.*host\[:port\]/,
    );
    assert.match(
      configError(() => parseSeeds(['http://peer'], 7946)),
      /--join/,
    );
  });
});
