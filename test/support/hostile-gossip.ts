// fast-check generators of well-formed but hostile gossip: datagrams the codec
// accepts, whose values lie or sit at the edges — the victim's own name with
// the highest incarnation, members claiming the victim's address, indirect
// probes aimed at any address, pulls asking for everything, full push-pull
// parts of made-up members, seqs the victim never sent, admissions forged,
// tampered, expired or replayed, admission requests in any name, and record
// signatures forged, misplaced onto other records or made by the wrong key.
// Random bytes test the codec; these test what the membership core does with
// what the codec lets in.
import type { KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { signRecord } from '../../src/crypto/member-record-signature.ts';
import { encodeDatagram, encodeMessage } from '../../src/protocol/gossip-codec.ts';
import {
  type GossipMessage,
  MEMBER_STATES,
  type MemberRecord,
  WIRE_LIMITS,
} from '../../src/protocol/gossip-messages.ts';

/** Who is under attack, so the generator can aim at them. */
export interface HostileTarget {
  /** The victim's name and address. */
  selfName: string;
  selfAddress: string;
  /** Honest members the victim knows (names and addresses). */
  members: readonly { name: string; address: string }[];
  /** Largest datagram the victim accepts. */
  maxDatagramBytes: number;
  /** What an attacker may hold when the victim checks admissions (see HostileCredentials). */
  credentials?: HostileCredentials;
}

/**
 * Material for attacks on admission and signed records: what an outsider or a
 * malicious admitted member can hold. Never an honest member's private key.
 */
export interface HostileCredentials {
  /**
   * Admission certificates (compact JWS): honest members' (seen on the wire,
   * replayed), the malicious member's own, ones signed by a key nobody
   * attested, expired ones; tampered copies are derived here.
   */
  tokens: readonly string[];
  /** Keys the attacker holds (its own, a malicious member's): records are signed with them. */
  signers: readonly { publicKey: Uint8Array; privateKey: KeyObject }[];
  /** Validly signed records recorded from the wire: replayed whole, or their signatures moved onto other records. */
  recorded: readonly MemberRecord[];
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
  const unsigned = fc.record({ name, incarnation, address, publicKey });
  const record = target.credentials ? signedRecords(unsigned, target.credentials) : unsigned;
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
        entries: fc.array(
          fc.tuple(record, state).map(([r, st]) => ({ ...r, state: st })),
          { maxLength: 14 },
        ),
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
    fc.record({ type: fc.constant('admission' as const), token: admissionToken(target.credentials) }),
    fc.record({
      type: fc.constant('admission-request' as const),
      source: name,
      names: fc.array(name, { minLength: 1, maxLength: WIRE_LIMITS.admissionNamesMax }),
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

const asToken = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
const bytesOf = (token: string): Buffer => Buffer.from(token, 'base64url');

/**
 * Admission tokens the codec accepts: the given ones, tampered copies (the
 * fields of one under another's signature, one byte flipped, cut short or
 * extended), and made-up bytes.
 */
function admissionToken(credentials: HostileCredentials | undefined): fc.Arbitrary<string> {
  const madeUp = fc.uint8Array({ minLength: 1, maxLength: 240 }).map(asToken);
  const tokens = credentials?.tokens ?? [];
  if (tokens.length === 0) return madeUp;
  const given = fc.constantFrom(...tokens);
  const spliced = fc.tuple(given, given).map(([a, b]) => {
    const [fields, signature] = [bytesOf(a), bytesOf(b)];
    return asToken(Buffer.concat([fields.subarray(0, -64), signature.subarray(-64)]));
  });
  const flipped = fc.tuple(given, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([t, at, mask]) => {
    const bytes = bytesOf(t);
    bytes[at % bytes.length]! ^= mask;
    return asToken(bytes);
  });
  const cut = fc.tuple(given, fc.integer({ min: -20, max: 120 })).map(([t, n]) => {
    const bytes = bytesOf(t);
    return asToken(
      n >= 0 ? bytes.subarray(0, Math.max(1, bytes.length - n)) : Buffer.concat([bytes, Buffer.alloc(-n, 1)]),
    );
  });
  return fc.oneof({ weight: 3, arbitrary: given }, spliced, flipped, cut, madeUp);
}

/**
 * Records with every kind of signature: none, zeros, random bytes, a real
 * signature by a key the attacker holds (over the record with that key, or
 * with the record's key left as it was), a recorded signature moved onto
 * this record, and recorded records replayed whole.
 */
function signedRecords(
  unsigned: fc.Arbitrary<MemberRecord>,
  credentials: HostileCredentials,
): fc.Arbitrary<MemberRecord> {
  const { signers, recorded } = credentials;
  const signer = fc.constantFrom(...signers);
  const bySigner = fc.tuple(unsigned, signer, fc.boolean()).map(([r, s, ownKey]) => {
    const fields = ownKey ? { ...r, publicKey: s.publicKey } : r;
    return { ...fields, signature: signRecord(fields, s.privateKey) };
  });
  const variants: fc.Arbitrary<MemberRecord>[] = [
    unsigned,
    unsigned.map((r) => ({ ...r, signature: new Uint8Array(64) })),
    fc
      .tuple(unsigned, fc.uint8Array({ minLength: 64, maxLength: 64 }))
      .map(([r, sig]) => ({ ...r, signature: sig })),
    bySigner,
  ];
  if (recorded.length > 0) {
    const replayed = fc.constantFrom(...recorded);
    // A real signature on a record it was not made for: another incarnation, address or member.
    const moved = fc.tuple(unsigned, replayed, fc.boolean()).map(([r, old, sameMember]) => ({
      ...r,
      ...(sameMember ? { name: old.name, publicKey: old.publicKey } : {}),
      signature: old.signature!,
    }));
    variants.push(replayed, moved);
  }
  return fc.oneof(...variants);
}
