// Runs inside a container of the project image (copied to
// /app/integration-tests/support/, so the relative imports reach /app/src):
// sends peers two leader certificates on the gossip topic `leader`, each a
// copy of a real one moved to a much higher epoch and signed by a fresh RSA key
// that no enclave ever attested: one naming that fresh key (an unknown kid),
// one naming the real enclave's kid (a signature that does not verify).
//   node forge-certificates.ts HOST[,HOST...] GOSSIP_PORT REAL_CERTIFICATE
// Prints one JSON document: the forged epoch and kids.
import { createSocket } from 'node:dgram';
import { type LeaderClaims, signLeaderCertificate } from '../../src/crypto/leader-certificate.ts';
import { generateRsaKeyPair, keyId } from '../../src/crypto/rsa-keys.ts';
import { encodeFullCertificate } from '../../src/peer/election/certificate-wire.ts';
import { encodeDatagram } from '../../src/protocol/gossip-codec.ts';

const [hosts, port, real] = process.argv.slice(2);
if (!hosts || !port || !real)
  throw new Error('usage: forge-certificates.ts HOST[,HOST...] GOSSIP_PORT REAL_CERTIFICATE');

const claims = JSON.parse(Buffer.from(real.split('.')[1]!, 'base64url').toString('utf8')) as LeaderClaims;
const forger = generateRsaKeyPair();
const epoch = claims.epoch + 1000;
const now = Date.now();
const forged = (kid: string) =>
  signLeaderCertificate(
    { ...claims, epoch, seq: 0, kid, iat: now, lease_end: now + 60_000 },
    forger.privateKey,
  );
const certificates = [
  { case: 'unknown-kid', kid: keyId(forger.publicKey) },
  { case: 'enclave-kid-wrong-key', kid: claims.kid },
].map((c) => ({ ...c, compact: forged(c.kid) }));

const socket = createSocket('udp4');
for (const c of certificates) {
  const datagram = encodeDatagram([
    { type: 'broadcast', topic: 'leader', key: 'epoch', payload: encodeFullCertificate(c.compact) },
  ]);
  for (const host of hosts.split(',')) {
    await new Promise<void>((resolve, reject) =>
      socket.send(datagram, Number(port), host, (error) => (error ? reject(error) : resolve())),
    );
  }
}
socket.close();
process.stdout.write(
  `${JSON.stringify({ epoch, certificates: certificates.map((c) => ({ case: c.case, kid: c.kid })) })}\n`,
);
