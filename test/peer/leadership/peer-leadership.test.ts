// One real peer (alone, so it leads) against a real enclave on loopback, with
// product-size keys: its leader API hands out a fencing token that the offline
// verifier accepts, its watch stream tells a subscriber it acts as leader, its
// --exec child runs with the token's epoch, and its metrics count it all.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSse, type SseStream } from '../../../bench/support/sse-client.ts';
import { MIN_PRODUCT_RSA_BITS } from '../../../src/crypto/rsa-keys.ts';
import { PKI_FILES } from '../../../src/enclave/pki.ts';
import { httpFetch } from '../../../src/http/http-fetch.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { PEER_DEFAULTS } from '../../../src/peer/config.ts';
import { DEFAULT_ELECTION_TIMING } from '../../../src/peer/election/timing.ts';
import { type StartedPeer, startPeer } from '../../../src/peer/start-peer.ts';
import { TokenVerifier } from '../../../src/token/verify-token.ts';
import {
  CLUSTER,
  makePki,
  removeDir,
  startTestEnclave,
  type TestEnclave,
  type TestPki,
} from '../../enclave/fixture.ts';

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a leading peer, for applications', () => {
  let pki: TestPki;
  let enclave: TestEnclave;
  let peer: StartedPeer;
  let base: string;
  let watch: SseStream;
  const logs: Record<string, unknown>[] = [];
  /** Every enclave request the peer made through the fetch it was given (as the CLI gives it httpFetch). */
  const fetched: string[] = [];

  before(async () => {
    pki = makePki(MIN_PRODUCT_RSA_BITS);
    enclave = await startTestEnclave({ pki, keyBits: MIN_PRODUCT_RSA_BITS, leaseMs: 2000 });
    const logger = createLogger({
      level: 'info',
      pretty: false,
      destination: { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) },
    });
    peer = await startPeer(
      {
        ...PEER_DEFAULTS,
        name: 'solo',
        bindAddress: '127.0.0.1',
        gossipPort: 0,
        adminAddress: '127.0.0.1',
        adminPort: 0,
        exec: 'echo "epoch=$ENCLAVE_ELECT_EPOCH url=$ENCLAVE_ELECT_TOKEN_URL"; exec sleep 30',
      },
      logger,
      {
        election: {
          enclaveUrl: enclave.url,
          root: pki.root,
          rootPath: `${pki.dir}/${PKI_FILES.rootCert}`,
          pinnedChecksum: enclave.service.checksum,
          checksumSource: 'explicit',
          clusterId: CLUSTER,
          requestTimeoutMs: 2000,
          timing: DEFAULT_ELECTION_TIMING,
          // A cluster of one without admission: this test is about leadership for applications.
          joinSecret: null,
          joinSecretPath: null,
        },
        fetch: ((input: string, init?: RequestInit) => {
          fetched.push(new URL(input).pathname);
          return httpFetch(input, init);
        }) as unknown as typeof fetch,
      },
    );
    base = `http://127.0.0.1:${peer.adminPort}`;
    watch = await openSse(`${base}/v1/leader/watch`);
  });
  after(async () => {
    watch.close();
    await peer.stop();
    await enclave.close();
    removeDir(enclave.stateDir);
    removeDir(pki.dir);
  });

  it('sends its enclave requests through the fetch it was given, attestation included', async () => {
    await until(() => logs.find((l) => l.event === 'leader.acquired'));
    assert.ok(fetched.includes('/v1/attestation'), `fetched: ${fetched.join(', ')}`);
    assert.ok(fetched.includes('/v1/elect'), `fetched: ${fetched.join(', ')}`);
  });

  it('tells a watcher it was elected and acts as leader', async () => {
    const acting = await until(() =>
      watch.events.find((e) => e.event === 'elected' && e.data.acting === true),
    );
    assert.equal(acting.data.leader, 'solo');
    assert.equal(acting.id, `${acting.data.epoch}.${acting.data.seq}`);
  });

  it('hands out a fencing token the offline verifier accepts, naming itself', async () => {
    await until(() => watch.events.find((e) => e.data.acting === true));
    const response = await fetch(`${base}/v1/token`);
    assert.equal(response.status, 200);
    const { token, epoch } = (await response.json()) as { token: string; epoch: number };
    const verifier = new TokenVerifier({
      root: pki.root,
      pinnedChecksum: enclave.service.checksum,
      clusterId: CLUSTER,
    });
    const verified = verifier.verify(token);
    assert.equal(verified.leader.name, 'solo');
    assert.equal(verified.epoch, epoch);
    const leader = (await (await fetch(`${base}/v1/leader`)).json()) as { acting: boolean; token: string };
    assert.equal(leader.acting, true);
    assert.ok(verifier.verify(leader.token).seq >= verified.seq);
  });

  it('runs the --exec command with the epoch and the token URL', async () => {
    const output = await until(() => logs.find((l) => l.event === 'exec.output'));
    const started = logs.find((l) => l.event === 'exec.started')!;
    assert.equal(output.line, `epoch=${started.epoch} url=${base}/v1/token`);
    assert.ok(
      logs.findIndex((l) => l.event === 'leader.acquired') <
        logs.findIndex((l) => l.event === 'exec.started'),
      'started only once acting as leader',
    );
  });

  it('reports leadership and enclave requests in its metrics', async () => {
    await until(() => logs.find((l) => l.event === 'leader.acquired'));
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /^enclave_elect_is_leader 1$/m);
    assert.match(text, /^enclave_elect_leader_transitions_total\{event="acquired"\} 1$/m);
    assert.match(text, /^enclave_elect_enclave_requests_total\{operation="attest",outcome="ok"\} 1$/m);
    assert.match(text, /^enclave_elect_enclave_requests_total\{operation="elect",outcome="ok"\} \d+$/m);
  });
});
