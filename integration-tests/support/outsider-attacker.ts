// An outsider's attack on the election (issue 14), run as the main process of
// a container on the cluster network. It holds nothing but what is public (no
// join secret, no admitted key) and, until SIGTERM, keeps trying to be elected
// and to hold the lease:
//   elect-and-hold  8 elects always waiting, each as `mallory` with a fresh key
//   demo-elect      the first version's unsigned elect naming only `mallory`
//   impostor-elect  an elect in a real member's name, signed with its own key
//   forge-renew / forge-resign  the current leader's lease (read from a peer's
//                   /status), signed with its own key
//   admit           an admission under a guessed join secret
// Every 2 s, and once more at SIGTERM, it logs the tally of the enclave's
// answers as one JSON line {"event":"attack.tally",...}.
//
// Environment: ENCLAVE_URL, CLUSTER_ID, PEER_STATUS_URL, VICTIM (a member's name).
import { randomBytes } from 'node:crypto';
import { signAdmissionRequest } from '../../src/enclave/admission-proof.ts';
import { memberKeyOf } from '../../src/enclave/lease-signature.ts';
import {
  type CertificateClaims,
  decodeClaims,
  demoElectBody,
  electBody,
  freshness,
  leaseBody,
  newKey,
  post,
  repeat,
  Tally,
} from './election-attacks.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const enclave = env('ENCLAVE_URL');
const clusterId = env('CLUSTER_ID');
const statusUrl = env('PEER_STATUS_URL');
const victim = env('VICTIM');
const HOLDERS = 8;

const tally = new Tally();
const stop = new AbortController();
const log = (event: string) => process.stdout.write(`${JSON.stringify({ event, ...tally })}\n`);

/** The certificate a peer holds now: public, in every peer's /status. */
async function currentLease(): Promise<CertificateClaims | null> {
  try {
    const response = await fetch(statusUrl, { signal: AbortSignal.timeout(2000) });
    const status = (await response.json()) as { leader?: { certificate?: string } | null };
    return status.leader?.certificate ? decodeClaims(status.leader.certificate) : null;
  } catch {
    return null;
  }
}

/** One waiting elect as mallory; a new one as soon as it is answered. */
async function holder(): Promise<void> {
  await repeat(stop.signal, 250, async () => {
    const body = electBody(clusterId, 'mallory', newKey(), { waitMs: 2000 });
    tally.add('elect-and-hold', await post(`${enclave}/v1/elect`, body));
  });
}

async function others(): Promise<void> {
  await repeat(stop.signal, 250, async () => {
    const key = newKey();
    const mallory = { name: 'mallory', key: memberKeyOf(key) };
    tally.add('demo-elect', await post(`${enclave}/v1/elect`, demoElectBody(clusterId, [mallory], 2000)));
    tally.add('impostor-elect', await post(`${enclave}/v1/elect`, electBody(clusterId, victim, key)));
    const lease = await currentLease();
    if (lease) {
      tally.add('forge-renew', await post(`${enclave}/v1/renew`, leaseBody('renew', clusterId, lease, key)));
      tally.add(
        'forge-resign',
        await post(`${enclave}/v1/resign`, leaseBody('resign', clusterId, lease, key)),
      );
    }
    // A well-formed admission request under a guessed join secret.
    const admit = { cluster_id: clusterId, name: 'mallory', key: mallory.key, ...freshness() };
    tally.add('admit', await post(`${enclave}/v1/admit`, signAdmissionRequest(admit, randomBytes(32), key)));
  });
}

const ticker = setInterval(() => log('attack.tally'), 2000);
process.once('SIGTERM', () => stop.abort());
await Promise.all([...Array.from({ length: HOLDERS }, holder), others()]);
clearInterval(ticker);
log('attack.tally');
log('attack.done');
