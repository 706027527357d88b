// fast-check generators of well-formed but hostile gossip: datagrams the codec
// accepts, whose values lie or sit at the edges — the victim's own name with
// the highest incarnation, members claiming the victim's address, indirect
// probes aimed at any address, pulls asking for everything, full push-pull
// parts of made-up members, seqs the victim never sent. Random bytes test the
// codec; these test what the membership core does with what the codec lets in.
import fc from 'fast-check';
import { encodeDatagram, encodeMessage } from '../../src/protocol/gossip-codec.ts';
import { type GossipMessage, MEMBER_STATES, WIRE_LIMITS } from '../../src/protocol/gossip-messages.ts';

/** Who is under attack, so the generator can aim at them. */
export interface HostileTarget {
  /** The victim's name and address. */
  selfName: string;
  selfAddress: string;
  /** Honest members the victim knows (names and addresses). */
  members: readonly { name: string; address: string }[];
  /** Largest datagram the victim accepts. */
  maxDatagramBytes: number;
}

const INCARNATION_MAX = WIRE_LIMITS.incarnationMax;
/** Senders no generated record or probe target ever names: never members, so never more than 1x. */
export const STRANGERS = ['10.66.0.1:7946', '10.66.0.2:40000', '10.66.0.3:1'];
const isStranger = (address: string) => address.startsWith('10.66.');

export function hostileArbitraries(target: HostileTarget) {
  const knownNames = [target.selfName, ...target.members.map((m) => m.name)];
  const knownAddresses = [target.selfAddress, ...target.members.map((m) => m.address)];

  const name = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...knownNames) },
    { weight: 2, arbitrary: fc.constantFrom('ghost', 'a', `z${'9'.repeat(62)}`, 'fake-0', 'fake-1') },
    {
      weight: 1,
      arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/),
    },
  );
  const incarnation = fc.oneof(
    fc.constantFrom(0, 1, INCARNATION_MAX, INCARNATION_MAX - 1, 2 ** 41, Date.now()),
    fc.integer({ min: 0, max: INCARNATION_MAX }),
  );
  const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((octets) => octets.join('.'));
  const address = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...knownAddresses, '0.0.0.0:1', '255.255.255.255:65535') },
    {
      weight: 1,
      arbitrary: fc
        .tuple(ip, fc.integer({ min: 1, max: 65535 }))
        .map(([a, p]) => `${a}:${p}`)
        .filter((a) => !isStranger(a)),
    },
  );
  const publicKey = fc.oneof(
    fc.constant(new Uint8Array(32)),
    fc.uint8Array({ minLength: 32, maxLength: 32 }),
  );
  const seq = fc.oneof(fc.constantFrom(0, 1, 2, 0xffff_ffff), fc.nat({ max: 0xffff_ffff }));
  const record = fc.record({ name, incarnation, address, publicKey });
  const state = fc.constantFrom(...MEMBER_STATES);

  const message: fc.Arbitrary<GossipMessage> = fc.oneof(
    fc.record({ type: fc.constant('ping' as const), seq, target: name, source: name }),
    fc.record({
      type: fc.constant('indirect-ping' as const),
      seq,
      target: name,
      targetAddress: address,
      source: name,
    }),
    fc.record({ type: fc.constantFrom('ack' as const, 'nack' as const), seq }),
    fc.record({ type: fc.constant('alive' as const), member: record }),
    fc.record({ type: fc.constantFrom('suspect' as const, 'dead' as const), name, incarnation, from: name }),
    fc.record({ type: fc.constant('left' as const), name, incarnation }),
    fc
      .record({
        syncId: fc.nat({ max: 0xffff_ffff }),
        join: fc.boolean(),
        response: fc.boolean(),
        parts: fc.integer({ min: 1, max: WIRE_LIMITS.pushPullPartsMax }),
        entries: fc.array(fc.record({ state, name, incarnation, address, publicKey }), { maxLength: 14 }),
      })
      .chain((p) => fc.nat(p.parts - 1).map((part) => ({ type: 'push-pull' as const, ...p, part }))),
    fc
      .record({
        syncId: fc.nat({ max: 0xffff_ffff }),
        buckets: fc.integer({ min: 1, max: 255 }),
        hashes: fc.array(fc.nat({ max: 0xffff_ffff }), { maxLength: 64 }),
      })
      .chain((p) => fc.nat(p.buckets - 1).map((bucket) => ({ type: 'pull' as const, ...p, bucket }))),
    fc.record({
      type: fc.constant('broadcast' as const),
      topic: fc.constantFrom('leader-cert', 'x', 'a'.repeat(32)),
      key: fc.constantFrom('current', 'epoch', 'z'.repeat(64)),
      payload: fc.uint8Array({ maxLength: 600 }),
    }),
  );

  /** One datagram of hostile messages that fits the victim's size limit. */
  const datagram = fc.array(message, { minLength: 1, maxLength: 40 }).map((messages) => {
    const fitting: Uint8Array[] = [];
    let size = 4;
    for (const m of messages) {
      const encoded = encodeMessage(m);
      if (size + encoded.length > target.maxDatagramBytes || fitting.length === WIRE_LIMITS.messagesMax)
        break;
      fitting.push(encoded);
      size += encoded.length;
    }
    // A single oversized message (a full push-pull part) still goes alone: the victim counts it as too long.
    return { messages, bytes: encodeDatagram(fitting.length > 0 ? fitting : [encodeMessage(messages[0]!)]) };
  });

  /**
   * Where the datagram comes from: a member's address, the victim's own, one
   * the datagrams name, or a stranger no datagram ever names (STRANGERS).
   */
  const from = fc.oneof(address, fc.constantFrom(...STRANGERS));

  return { message, datagram, from };
}
