// A malicious member's attack on the election (issue 14), run as the main
// process of a container on the cluster network. It is a real member: it runs
// this project's peer in-process (startPeer, the same code and settings as
// `enclave-elect peer`), so it holds the join secret, is admitted, gossips and
// stands like any member; and with that member's own admitted key it also,
// until SIGTERM, sends what an honest peer never does:
//   self-only-list   the first version's unsigned elect, listing only itself (granted
//                    by the enclave before issue 14: it elected from the caller's list)
//   candidate-list   a signed elect carrying a candidate list of its choosing (only itself)
//   speak-for-other  an elect in another member's name, signed with its own key
//   early-elect      elects racing the lease (no wait), and now and then a flood of 10 at once
//   replay           each accepted early elect, sent again byte for byte
//   forge-renew      the current leader's lease, renewed in the leader's name with its own key
//   renew-not-leader the current lease renewed in its own name
//   resign-steer     when it leads: a resign naming the successor it wants, then a real
//                    resign (the enclave, not it, picks the successor)
//   renew-past-window its last lease renewed again after it resigned or was superseded
// Every 2 s, and once more at SIGTERM, it logs the tally of the enclave's
// answers as one JSON line {"event":"attack.tally",...}; its peer logs as a peer does.
//
// Arguments and environment: those of `enclave-elect peer`, plus VICTIM (another member's name).
import { parsePeerArgv } from '../../src/cli/commands/peer/argv.ts';
import { memberKeyOf } from '../../src/enclave/lease-signature.ts';
import { createLogger } from '../../src/log/logger.ts';
import { resolvePeerConfig } from '../../src/peer/config.ts';
import { resolveElectionConfig } from '../../src/peer/election/election-config.ts';
import { createIdentity, startPeer } from '../../src/peer/start-peer.ts';
import {
  type CertificateClaims,
  demoElectBody,
  electBody,
  leaseBody,
  post,
  repeat,
  Tally,
} from './election-attacks.ts';

const args = parsePeerArgv(process.argv.slice(2));
const config = resolvePeerConfig(args);
const election = resolveElectionConfig(args);
if (!election) throw new Error('ENCLAVE_URL is not set: a malicious member needs an enclave to attack');
const victim = process.env.VICTIM;
if (!victim) throw new Error('VICTIM is not set');
const identity = createIdentity(config.name);
const self = identity.name;
const key = identity.privateKey;
const { clusterId, enclaveUrl: enclave } = election;

const peer = await startPeer(config, createLogger(), { identity, election });
const tally = new Tally();
const stop = new AbortController();
const log = (event: string) =>
  process.stdout.write(
    `${JSON.stringify({ event, time: new Date().toISOString(), peer: self, ...tally })}\n`,
  );

/** The newest lease the enclave told us of, and the last one we led. */
let lease: CertificateClaims | null = null;
let led: CertificateClaims | null = null;
let round = 0;

const elect = (body: Record<string, unknown>) => post(`${enclave}/v1/elect`, body);

async function attackRound(): Promise<void> {
  round += 1;
  const early = electBody(clusterId, self, key, { knownEpoch: lease?.epoch ?? 0 });
  const answer = tally.add('early-elect', await elect(early));
  if (answer.claims && (lease === null || answer.claims.epoch >= lease.epoch)) lease = answer.claims;
  if (answer.status === 200) tally.add('replay', await elect(early));
  if (round % 10 === 0) {
    const flood = await Promise.all(Array.from({ length: 10 }, () => elect(electBody(clusterId, self, key))));
    for (const a of flood) tally.add('early-elect', a);
  }
  tally.add(
    'self-only-list',
    await elect(demoElectBody(clusterId, [{ name: self, key: memberKeyOf(key) }], 0)),
  );
  tally.add('candidate-list', await elect(electBody(clusterId, self, key, { extra: { members: [self] } })));
  tally.add('speak-for-other', await elect(electBody(clusterId, victim!, key)));
  if (lease === null) return;

  if (led !== null && led.epoch < lease.epoch) {
    tally.add(
      'renew-past-window',
      await post(`${enclave}/v1/renew`, leaseBody('renew', clusterId, led, key)),
    );
    led = null;
  }
  if (lease.leader.name !== self) {
    tally.add('forge-renew', await post(`${enclave}/v1/renew`, leaseBody('renew', clusterId, lease, key)));
    const inOwnName = leaseBody('renew', clusterId, lease, key, { leader: self });
    tally.add('renew-not-leader', await post(`${enclave}/v1/renew`, inOwnName));
    return;
  }
  // It leads: try to choose its successor, then resign for real and see whom the enclave picks.
  const steer = leaseBody('resign', clusterId, lease, key, { extra: { members: [{ name: victim }] } });
  tally.add('resign-steer', await post(`${enclave}/v1/resign`, steer));
  const resigned = tally.add(
    'resign',
    await post(`${enclave}/v1/resign`, leaseBody('resign', clusterId, lease, key)),
  );
  if (resigned.status === 200) {
    led = lease;
    if (resigned.claims) lease = resigned.claims;
    tally.add(
      'renew-past-window',
      await post(`${enclave}/v1/renew`, leaseBody('renew', clusterId, led, key)),
    );
  }
}

const ticker = setInterval(() => log('attack.tally'), 2000);
process.once('SIGTERM', () => stop.abort());
// Let the member be admitted and join first: an attack before then is only an outsider's.
while (!stop.signal.aborted && peer.epoch() === 0) await new Promise((resolve) => setTimeout(resolve, 200));
await repeat(stop.signal, 300, attackRound);
clearInterval(ticker);
log('attack.tally');
log('attack.done');
await peer.stop();
process.exit(0);
