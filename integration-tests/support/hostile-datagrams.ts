// Runs inside an outsider container of the project image (copied to
// /app/integration-tests/support/, so the relative imports reach /app/src):
// sends the peers the crafted datagrams of issue 13 from one UDP socket, and
// counts every byte that comes back to it. Datagrams are well formed unless a
// field is the point (a name no layer accepts):
//   identity theft  an alive for each member at incarnation 2^53-1, the outsider's address and key
//   fake members    full datagrams of made-up members
//   bad names       '_ghost' and a 64-character name, byte by byte (the encoder refuses them)
//   amplification   126 pulls in one datagram; 77 indirect pings aimed at a third address
//   replay          each member's own current record and a ping, sent 10 times
//   node hostile-datagrams.ts MEMBERS_JSON GOSSIP_PORT ROUNDS
// MEMBERS_JSON: [{ name, address, incarnation, publicKey (base64url) }] from /status, and
// `target`: where this container reaches the member (its IP on the shared network).
// Prints one JSON document: { sentBytes, sentDatagrams, receivedBytes, receivedDatagrams, byAttack }.
import { createSocket } from 'node:dgram';
import {
  ENVELOPE_OVERHEAD,
  encodeDatagram,
  encodeMessage,
  WIRE_MAGIC,
  WIRE_VERSION,
} from '../../src/protocol/gossip-codec.ts';
import type { GossipMessage } from '../../src/protocol/gossip-messages.ts';

const [membersArg, portArg, roundsArg] = process.argv.slice(2);
if (!membersArg || !portArg || !roundsArg) {
  throw new Error('usage: hostile-datagrams.ts MEMBERS_JSON GOSSIP_PORT ROUNDS');
}
interface Known {
  name: string;
  address: string;
  target: string;
  incarnation: number;
  publicKey: string;
}
const members = JSON.parse(membersArg) as Known[];
const port = Number(portArg);
const rounds = Number(roundsArg);
const MAX_BYTES = 1400;
const THIRD_PARTY = '10.254.254.254:53';
const attackerKey = new Uint8Array(32).fill(0xaa);

/** As many messages from `make` as fit one datagram. */
function full(make: (i: number) => GossipMessage): Uint8Array {
  const encoded: Uint8Array[] = [];
  let size = ENVELOPE_OVERHEAD;
  for (let i = 0; encoded.length < 255; i++) {
    const m = encodeMessage(make(i));
    if (size + m.length > MAX_BYTES) break;
    encoded.push(m);
    size += m.length;
  }
  return encodeDatagram(encoded);
}

/** A ping whose source name is `name`, written byte by byte (past the encoder's own check). */
function pingNamed(name: string, target: string): Uint8Array {
  const body = [0, 0, 0, 1, target.length, ...Buffer.from(target), name.length, ...Buffer.from(name)];
  return Uint8Array.from([WIRE_MAGIC, WIRE_VERSION, 0, 1, 1, body.length >> 8, body.length & 0xff, ...body]);
}

function attacks(victim: Known, self: string): Record<string, Uint8Array[]> {
  const record = (m: Known) => ({
    name: m.name,
    incarnation: m.incarnation,
    address: m.address,
    publicKey: new Uint8Array(Buffer.from(m.publicKey, 'base64url')),
  });
  return {
    'identity-theft': members.map((m) =>
      encodeDatagram([
        {
          type: 'alive',
          member: {
            name: m.name,
            incarnation: Number.MAX_SAFE_INTEGER,
            address: self,
            publicKey: attackerKey,
          },
        },
      ]),
    ),
    'fake-members': [0, 1].map((batch) =>
      full((i) => ({
        type: 'alive',
        member: {
          name: `fake-${batch}-${i}`,
          incarnation: 1,
          address: `10.253.${batch}.${(i % 250) + 1}:7946`,
          publicKey: attackerKey,
        },
      })),
    ),
    'bad-names': [pingNamed('_ghost', victim.name), pingNamed(`g${'h'.repeat(63)}`, victim.name)],
    amplification: [
      full((i) => ({ type: 'pull', syncId: i, bucket: 0, buckets: 1, hashes: [] })),
      full((i) => ({
        type: 'indirect-ping',
        seq: i,
        target: members[i % members.length]!.name,
        targetAddress: THIRD_PARTY,
        source: 'x',
      })),
    ],
    replay: Array.from({ length: 10 }, () =>
      encodeDatagram([
        { type: 'alive', member: record(victim) },
        { type: 'ping', seq: 7, target: victim.name, source: members.find((m) => m !== victim)!.name },
      ]),
    ),
  };
}

const socket = createSocket('udp4');
let receivedBytes = 0;
let receivedDatagrams = 0;
socket.on('message', (message) => {
  receivedBytes += message.length;
  receivedDatagrams++;
});
await new Promise<void>((resolve) => socket.bind(0, resolve));
const self = `${process.env.SELF_IP ?? '10.253.253.253'}:${socket.address().port}`;
const send = (bytes: Uint8Array, address: string) =>
  new Promise<void>((resolve, reject) => {
    const [host, to] = address.split(':');
    socket.send(bytes, Number(to ?? port), host, (error) => (error ? reject(error) : resolve()));
  });

let sentBytes = 0;
let sentDatagrams = 0;
const byAttack: Record<string, number> = {};
for (let round = 0; round < rounds; round++) {
  for (const victim of members) {
    for (const [attack, datagrams] of Object.entries(attacks(victim, self))) {
      for (const datagram of datagrams) {
        await send(datagram, victim.target);
        sentBytes += datagram.length;
        sentDatagrams++;
        byAttack[attack] = (byAttack[attack] ?? 0) + 1;
      }
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
// Whatever the peers still send (relay nacks, held answers) arrives within seconds.
await new Promise((resolve) => setTimeout(resolve, 3000));
socket.close();
process.stdout.write(
  `${JSON.stringify({ sentBytes, sentDatagrams, receivedBytes, receivedDatagrams, byAttack })}\n`,
);
