import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  datagramOverhead,
  decodeDatagram,
  ENVELOPE_OVERHEAD,
  encodeDatagram,
  encodeMemberSyncEntry,
  encodeMessage,
  encodePushPull,
  MESSAGE_OVERHEAD,
  type OpenChecks,
  WIRE_MAGIC,
  WIRE_VERSION,
} from '../../src/protocol/gossip-codec.ts';
import { createKeyring, type Keyring, parseGossipKey } from '../../src/protocol/gossip-keyring.ts';
import { type GossipMessage, type MemberSyncEntry, WIRE_LIMITS } from '../../src/protocol/gossip-messages.ts';
import { ReplayWindow } from '../../src/protocol/replay-window.ts';

const key32 = new Uint8Array(32).fill(7);
const record = { name: 'peer-1', incarnation: 1_764_000_000_123, address: '10.1.2.3:7946', publicKey: key32 };

const samples: GossipMessage[] = [
  { type: 'ping', seq: 4_000_000_000, target: 'peer-2', source: 'peer-1' },
  { type: 'indirect-ping', seq: 7, target: 'peer-3', targetAddress: '172.18.0.4:7946', source: 'peer-1' },
  { type: 'ack', seq: 0 },
  { type: 'nack', seq: 99 },
  { type: 'alive', member: record },
  { type: 'suspect', name: 'peer-2', incarnation: 5, from: 'peer-1' },
  { type: 'dead', name: 'peer-2', incarnation: WIRE_LIMITS.incarnationMax, from: 'peer-3' },
  { type: 'left', name: 'a.b_c-d', incarnation: 0 },
  {
    type: 'push-pull',
    syncId: 12,
    join: true,
    response: false,
    part: 0,
    parts: 1,
    entries: [{ ...record, state: 'suspect' }],
  },
  { type: 'pull', syncId: 14, bucket: 2, buckets: 6, hashes: [0, 1, 0xffff_ffff] },
  { type: 'pull', syncId: 15, bucket: 0, buckets: 1, hashes: [] },
  { type: 'broadcast', topic: 'leader-cert', key: 'epoch', payload: new Uint8Array([1, 2, 3]) },
  { type: 'alive', member: { ...record, signature: new Uint8Array(64).fill(9) } },
  { type: 'admission', token: Buffer.from('an admission of some bytes').toString('base64url') },
  { type: 'admission-request', source: 'peer-3', names: ['peer-1', 'peer-2'] },
];

function decodeOk(bytes: Uint8Array, keyring?: Keyring, checks?: OpenChecks): GossipMessage[] {
  const result = decodeDatagram(bytes, keyring, undefined, checks);
  assert.ok(result.ok, `expected ok, got ${JSON.stringify(result)}`);
  return result.messages;
}

const REASONS = new Set([
  'too-short',
  'too-long',
  'bad-magic',
  'bad-version',
  'bad-flags',
  'unencrypted',
  'encrypted-without-key',
  'decrypt-failed',
  'bad-count',
  'truncated',
  'trailing-bytes',
  'bad-name',
  'bad-address',
  'bad-key',
  'bad-number',
  'bad-state',
  'bad-signature',
  'bad-field',
]);

describe('gossip codec: admissions and signed records', () => {
  it('carries a record signature in 64 bytes, and no signature as 64 zero bytes', () => {
    const signed = encodeMessage({
      type: 'alive',
      member: { ...record, signature: new Uint8Array(64).fill(1) },
    });
    const unsigned = encodeMessage({ type: 'alive', member: record });
    assert.equal(signed.length, unsigned.length);
    assert.equal(
      Object.hasOwn((decodeOk(encodeDatagram([unsigned]))[0] as { member: object }).member, 'signature'),
      false,
    );
    assert.throws(() =>
      encodeMessage({ type: 'alive', member: { ...record, signature: new Uint8Array(63) } }),
    );
  });

  it('carries an admission as its bytes (one length byte), and refuses one that is not base64url, over its bound, or more than 8 names per request', () => {
    const token = Buffer.alloc(150, 7).toString('base64url');
    assert.equal(encodeMessage({ type: 'admission', token }).length, MESSAGE_OVERHEAD + 1 + 150);
    assert.throws(() => encodeMessage({ type: 'admission', token: 'not base64url!' }));
    assert.throws(() => encodeMessage({ type: 'admission', token: Buffer.alloc(256).toString('base64url') }));
    // Not canonical: the last character carries bits that no byte holds.
    assert.throws(() => encodeMessage({ type: 'admission', token: 'AB' }));
    assert.throws(() => encodeMessage({ type: 'admission-request', source: 's', names: [] }));
    const nine = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
    assert.throws(() => encodeMessage({ type: 'admission-request', source: 's', names: nine }));
    assert.ok(encodeMessage({ type: 'admission-request', source: 's', names: nine.slice(0, 8) }));
    const good = encodeDatagram([{ type: 'admission', token }]);
    const short = good.slice();
    short[ENVELOPE_OVERHEAD + MESSAGE_OVERHEAD] = 200; // a length past the message's end
    assert.equal(decodeDatagram(short).ok, false);
    const request = encodeDatagram([{ type: 'admission-request', source: 's', names: ['a'] }]);
    const many = request.slice();
    many[ENVELOPE_OVERHEAD + MESSAGE_OVERHEAD + 2] = 9; // the count, after the source name 's'
    assert.equal(decodeDatagram(many).ok, false);
  });
  it('decodes an admission it decoded before to its own text, also one whose hash collides', () => {
    const tokenOf = (bytes: Uint8Array) => {
      const [message] = decodeOk(
        encodeDatagram([{ type: 'admission', token: Buffer.from(bytes).toString('base64url') }]),
      );
      assert.ok(message?.type === 'admission');
      return message.token;
    };
    // The codec's hash: FNV-1a seeded with the length, its high 30 bits, xor the length.
    const hashOf = (bytes: Uint8Array) => {
      let h = 0x811c9dc5 ^ bytes.length;
      for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
      return (h >>> 2) ^ bytes.length;
    };
    const seen = new Map<number, Uint8Array>();
    let pair: [Uint8Array, Uint8Array] | undefined;
    while (!pair) {
      const bytes = new Uint8Array(randomBytes(150));
      const other = seen.get(hashOf(bytes));
      if (other) pair = [other, bytes];
      seen.set(hashOf(bytes), bytes);
    }
    for (const bytes of [...pair, ...pair, pair[0]])
      assert.equal(tokenOf(bytes), Buffer.from(bytes).toString('base64url'));
  });
});

describe('gossip codec', () => {
  it('round-trips every message kind, alone and compounded in one datagram', () => {
    for (const message of samples) assert.deepEqual(decodeOk(encodeDatagram([message])), [message]);
    assert.deepEqual(decodeOk(encodeDatagram(samples)), samples);
  });

  it('starts datagrams with magic and version and measures messages exactly', () => {
    const bytes = encodeDatagram([samples[0]!]);
    assert.equal(bytes[0], WIRE_MAGIC);
    assert.equal(bytes[1], WIRE_VERSION);
    assert.equal(bytes.length, ENVELOPE_OVERHEAD + encodeMessage(samples[0]!).length);
    assert.equal(encodeMessage({ type: 'ack', seq: 1 }).length, MESSAGE_OVERHEAD + 4);
  });

  it('splits a large state sync into datagrams of at most 1400 bytes that recover every entry', () => {
    const entries: MemberSyncEntry[] = Array.from({ length: 300 }, (_, i) => ({
      ...record,
      name: `peer-${i}`,
      incarnation: i,
      state: i % 7 === 0 ? 'dead' : 'alive',
    }));
    const parts = encodePushPull(
      { syncId: 1, join: false, response: true },
      entries.map(encodeMemberSyncEntry),
      1400 - ENVELOPE_OVERHEAD,
    );
    assert.ok(parts.length > 10);
    const seen: MemberSyncEntry[] = [];
    parts.forEach((part, i) => {
      const datagram = encodeDatagram([part]);
      assert.ok(datagram.length <= 1400, `part ${i}: ${datagram.length} bytes`);
      const [message] = decodeOk(datagram);
      assert.equal(message?.type, 'push-pull');
      if (message?.type !== 'push-pull') return;
      assert.equal(message.part, i);
      assert.equal(message.parts, parts.length);
      assert.equal(message.response, true);
      seen.push(...message.entries);
    });
    assert.deepEqual(seen, entries);
  });

  it('skips messages of unknown kinds by their length and keeps the rest', () => {
    const known = encodeMessage({ type: 'ack', seq: 5 });
    const future = Uint8Array.of(200, 0, 3, 9, 9, 9);
    const result = decodeDatagram(encodeDatagram([future, known]));
    assert.ok(result.ok);
    assert.equal(result.unknownTypes, 1);
    assert.deepEqual(result.messages, [{ type: 'ack', seq: 5 }]);
  });

  it('rejects each kind of malformed envelope with its reason', () => {
    const good = encodeDatagram([{ type: 'ack', seq: 1 }]);
    const cases: [string, Uint8Array][] = [
      ['too-short', good.subarray(0, 3)],
      ['bad-magic', Uint8Array.of(0, ...good.subarray(1))],
      ['bad-version', Uint8Array.of(WIRE_MAGIC, 9, ...good.subarray(2))],
      ['bad-flags', Uint8Array.of(WIRE_MAGIC, WIRE_VERSION, 0x80, ...good.subarray(3))],
      ['encrypted-without-key', Uint8Array.of(WIRE_MAGIC, WIRE_VERSION, 1, ...good.subarray(3))],
      ['bad-count', Uint8Array.of(WIRE_MAGIC, WIRE_VERSION, 0, 0)],
      ['truncated', good.subarray(0, good.length - 1)],
      ['trailing-bytes', Uint8Array.of(...good, 0)],
      ['too-long', new Uint8Array(1401).fill(WIRE_MAGIC)],
    ];
    for (const [reason, bytes] of cases) {
      assert.deepEqual(decodeDatagram(bytes, undefined, 1400), { ok: false, reason }, reason);
    }
  });

  it('bounds fields: names, addresses, numbers, states', () => {
    const alive = encodeDatagram([{ type: 'alive', member: record }]);
    const nameAt = ENVELOPE_OVERHEAD + MESSAGE_OVERHEAD;
    const badName = alive.slice();
    badName[nameAt + 1] = 0x20; // a space in the name
    assert.deepEqual(decodeDatagram(badName), { ok: false, reason: 'bad-name' });
    const incAt = nameAt + 1 + 'peer-1'.length;
    const huge = alive.slice();
    huge[incAt] = 0xff; // above 2^53
    assert.deepEqual(decodeDatagram(huge), { ok: false, reason: 'bad-number' });
    const family = alive.slice();
    family[incAt + 8] = 6;
    assert.deepEqual(decodeDatagram(family), { ok: false, reason: 'bad-address' });
    const zeroPort = alive.slice();
    zeroPort[incAt + 8 + 5] = 0;
    zeroPort[incAt + 8 + 6] = 0;
    assert.deepEqual(decodeDatagram(zeroPort), { ok: false, reason: 'bad-address' });
    assert.throws(() => encodeMessage({ type: 'left', name: 'x'.repeat(65), incarnation: 1 }));
    assert.throws(() => encodeMessage({ type: 'left', name: 'ok', incarnation: 2 ** 53 }));
  });

  it('decodes names and addresses it decoded before to their own text, and still refuses bad bytes', () => {
    const aliveOf = (name: string, address: string) =>
      decodeOk(encodeDatagram([encodeMessage({ type: 'alive', member: { ...record, name, address } })]))[0];
    const memberOf = (name: string, address: string) => {
      const message = aliveOf(name, address);
      assert.ok(message?.type === 'alive');
      return message.member;
    };
    assert.equal(memberOf('peer-1', '10.1.2.3:7946').name, 'peer-1');
    // The same length, other bytes; other addresses, ports and octets.
    for (const [name, address] of [
      ['peer-2', '10.1.2.4:7946'],
      ['peer-1', '10.1.2.3:7947'],
      ['Peer-1', '4.1.2.3:7946'],
      ['peer-1', '10.1.2.3:7946'],
    ] as const) {
      const member = memberOf(name, address);
      assert.deepEqual([member.name, member.address], [name, address]);
    }
    // A bad byte in a name of a length decoded before is still refused.
    const bytes = encodeDatagram([encodeMessage({ type: 'alive', member: record })]);
    bytes[ENVELOPE_OVERHEAD + MESSAGE_OVERHEAD + 1 + 4] = 0x20;
    assert.deepEqual(decodeDatagram(bytes), { ok: false, reason: 'bad-name' });
    // Two names whose 30-bit hashes (the codec's FNV-1a, seeded with the length) collide: each decodes to itself.
    const hashOf = (name: string) => {
      let h = 0x811c9dc5 ^ name.length;
      for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
      return h & 0x3fffffff;
    };
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const name = `n${i.toString(36)}`.padEnd(8, 'x');
      const other = seen.get(hashOf(name));
      if (other !== undefined && other !== name) pair = [other, name];
      seen.set(hashOf(name), name);
    }
    for (const name of [...pair, ...pair]) assert.equal(memberOf(name, '10.1.2.3:7946').name, name);
    // Two addresses whose hashes collide (the codec's: address xor port times a
    // constant, mixed): each decodes to itself.
    const mix = (port: number) => Math.imul(port, 0x9e3779b1) >>> 0;
    const ip = (10 << 24) | (1 << 16) | (2 << 8) | 3;
    const twin = (ip ^ mix(7946) ^ mix(7947)) >>> 0;
    const dotted = (v: number) => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
    const clash = [`${dotted(ip)}:7946`, `${dotted(twin)}:7947`];
    for (const address of [...clash, ...clash]) assert.equal(memberOf('peer-1', address).address, address);
    // More distinct names than the cache holds: each still decodes to itself.
    for (let i = 0; i < 20_000; i++) {
      const name = `m${i}`;
      if (memberOf(name, `10.2.${i >> 8}.${i & 255}:${1 + i}`).name !== name) assert.fail(name);
    }
  });

  it('refuses incarnations above the bound, so one above any accepted claim is still a safe integer', () => {
    // Issue 13: an alive at 2^53-1 left its victim no encodable refutation.
    for (const incarnation of [WIRE_LIMITS.incarnationMax + 1, Number.MAX_SAFE_INTEGER]) {
      const datagram = encodeDatagram([{ type: 'alive', member: { ...record, incarnation } }]);
      assert.deepEqual(decodeDatagram(datagram), { ok: false, reason: 'bad-number' });
    }
    assert.ok(Number.isSafeInteger(WIRE_LIMITS.incarnationMax * 2), 'far below 2^53');
    assert.ok(WIRE_LIMITS.incarnationMax > Date.now() * 100, 'wall-clock start incarnations fit for long');
  });

  it('never throws on random bytes and names a known reason when it refuses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), (bytes) => {
        const result = decodeDatagram(bytes);
        if (!result.ok) assert.ok(REASONS.has(result.reason), result.reason);
      }),
      { numRuns: 2000, seed: 1 },
    );
  });

  it('never throws on mutated valid datagrams (flipped, truncated, extended)', () => {
    const valid = encodeDatagram(samples);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(valid.length),
        fc.uint8Array({ maxLength: 8 }),
        (flips, cut, tail) => {
          const bytes = valid.slice(0, Math.max(cut, 4));
          for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value;
          const result = decodeDatagram(Uint8Array.of(...bytes, ...tail));
          if (!result.ok) assert.ok(REASONS.has(result.reason), result.reason);
        },
      ),
      { numRuns: 3000, seed: 2 },
    );
  });
});

describe('gossip encryption (keyring)', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);
  const SELF = '10.1.2.3:7946';
  const NOW = 1_764_000_000_000;
  const binding = { to: SELF, sealedAt: NOW };
  const checks = (replay = new ReplayWindow(60_000), now = NOW) => ({
    now,
    isLocalAddress: (address: string) => address === SELF,
    replay,
  });
  const open = (bytes: Uint8Array, ring: Keyring, replay?: ReplayWindow) =>
    decodeDatagram(bytes, ring, undefined, checks(replay));

  it('round-trips sealed datagrams and hides the plaintext', () => {
    const ring = createKeyring([k1]);
    const sealed = encodeDatagram([samples[4]!], ring, binding);
    assert.equal(sealed[2], 3, 'flags: encrypted, bound');
    assert.ok(!Buffer.from(sealed).includes(Buffer.from('peer-1')));
    assert.deepEqual(decodeOk(sealed, ring, checks()), [samples[4]]);
    assert.equal(sealed.length, encodeDatagram([samples[4]!]).length - 4 + datagramOverhead(ring));
  });

  it('accepts any installed key and sends with the first', () => {
    const oldRing = createKeyring([k2]);
    const rotating = createKeyring([k1, k2]);
    assert.deepEqual(decodeOk(encodeDatagram([samples[2]!], oldRing, binding), rotating, checks()), [
      samples[2],
    ]);
    const fromRotating = encodeDatagram([samples[2]!], rotating, binding);
    assert.deepEqual(open(fromRotating, oldRing), { ok: false, reason: 'decrypt-failed' });
    assert.deepEqual(decodeOk(fromRotating, createKeyring([k1]), checks()), [samples[2]]);
  });

  it('refuses plaintext when a key is set, and tampered ciphertext', () => {
    const ring = createKeyring([k1]);
    assert.deepEqual(open(encodeDatagram([samples[2]!]), ring), { ok: false, reason: 'unencrypted' });
    const sealed = encodeDatagram([samples[2]!], ring, binding);
    sealed[sealed.length - 20]! ^= 1;
    assert.deepEqual(open(sealed, ring), { ok: false, reason: 'decrypt-failed' });
    const header = encodeDatagram([samples[2]!], ring, binding);
    header[1] = WIRE_VERSION + 1;
    assert.equal(open(header, ring).ok, false);
  });

  it('binds the destination and the time: a replay, a redirect or an old datagram is refused', () => {
    const ring = createKeyring([k1]);
    const replay = new ReplayWindow(60_000);
    const sealed = encodeDatagram([samples[0]!], ring, binding);
    assert.ok(open(sealed, ring, replay).ok);
    for (let i = 0; i < 10; i++)
      assert.deepEqual(open(sealed, ring, replay), { ok: false, reason: 'replayed' });
    const elsewhere = encodeDatagram([samples[0]!], ring, { to: '10.9.9.9:7946', sealedAt: NOW });
    assert.deepEqual(open(elsewhere, ring), { ok: false, reason: 'misdirected' });
    const old = encodeDatagram([samples[0]!], ring, { to: SELF, sealedAt: NOW - 60_001 });
    assert.deepEqual(open(old, ring), { ok: false, reason: 'stale' });
    const ahead = encodeDatagram([samples[0]!], ring, { to: SELF, sealedAt: NOW + 60_001 });
    assert.deepEqual(open(ahead, ring), { ok: false, reason: 'stale' });
  });

  it('refuses a sealed datagram without a binding (replayable at will)', () => {
    const ring = createKeyring([k1]);
    const sealed = encodeDatagram([samples[0]!], ring, binding);
    sealed[2] = 1; // encrypted, not bound: what a peer before the binding sent
    assert.deepEqual(open(sealed, ring), { ok: false, reason: 'unbound' });
    sealed[2] = 2; // bound but not encrypted: meaningless
    assert.deepEqual(open(sealed, ring), { ok: false, reason: 'bad-flags' });
  });

  it('parses keys as base64 or hex and explains bad ones', () => {
    assert.ok(Buffer.isBuffer(parseGossipKey(k1.toString('base64'))));
    assert.ok(Buffer.isBuffer(parseGossipKey(k1.toString('hex'))));
    assert.match(String(parseGossipKey('short')), /32 bytes/);
  });
});
