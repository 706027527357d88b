import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_BODY_BYTES } from '../../src/enclave/requests.ts';
import {
  CLUSTER,
  electAs,
  electBody,
  entries,
  makeClient,
  makePeers,
  makePki,
  postJson,
  removeDir,
  startTestEnclave,
  type TestEnclave,
  type TestPki,
} from './fixture.ts';

const peers = makePeers(3);
const members = entries(peers);
const key = members[0]!.key;

async function send(url: string, init: RequestInit): Promise<{ status: number; code: string | undefined }> {
  const response = await fetch(url, init);
  const text = await response.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: response.status, code };
}

describe('request validation', () => {
  let pki: TestPki;
  let enclave: TestEnclave;

  before(async () => {
    pki = makePki();
    enclave = await startTestEnclave({ pki });
  });
  after(async () => {
    await enclave.close();
    removeDir(enclave.stateDir);
    removeDir(pki.dir);
  });

  const signed = electBody(peers[0]!);
  const { cluster_id: _cluster, ...noCluster } = signed;
  const { sig: _sig, ...unsigned } = signed;
  const electCases: [string, unknown, number, string][] = [
    ['invalid JSON', '{"cluster_id":', 400, 'E_BAD_JSON'],
    ['a JSON array', '[]', 400, 'E_BAD_REQUEST'],
    ['no signature', unsigned, 401, 'E_UNSIGNED'],
    ['the first version’s member list, unsigned', { cluster_id: CLUSTER, members }, 401, 'E_UNSIGNED'],
    ['a member list beside a signature', { ...signed, members }, 400, 'E_UNKNOWN_FIELD'],
    ['a wrong type', { ...signed, known_epoch: '3' }, 400, 'E_BAD_REQUEST'],
    ['a negative epoch', { ...signed, known_epoch: -1 }, 400, 'E_BAD_REQUEST'],
    ['a float epoch', { ...signed, known_epoch: 1.5 }, 400, 'E_BAD_REQUEST'],
    ['an epoch near 2^53', { ...signed, known_epoch: 2 ** 53 - 2 }, 400, 'E_BAD_REQUEST'],
    ['an unknown field', { ...signed, leader: 'me' }, 400, 'E_UNKNOWN_FIELD'],
    ['a missing cluster', noCluster, 400, 'E_BAD_REQUEST'],
    ['a bad name', { ...signed, name: '../x' }, 400, 'E_BAD_REQUEST'],
    ['a bad key', { ...signed, key: 'AAAA' }, 400, 'E_BAD_REQUEST'],
    ['a bad nonce', { ...signed, nonce: 'not hex' }, 400, 'E_BAD_REQUEST'],
    ['a field changed after signing', { ...signed, wait_ms: 1 }, 403, 'E_BAD_SIGNATURE'],
    [
      '10k members',
      { ...signed, members: Array.from({ length: 10_000 }, (_, i) => ({ name: `n${i}`, key })) },
      413,
      'E_BODY_TOO_LARGE',
    ],
    ['another cluster', electBody(peers[0]!, { cluster_id: 'elsewhere' }), 409, 'E_CLUSTER_MISMATCH'],
  ];

  for (const [what, body, status, code] of electCases) {
    it(`refuses an elect with ${what} (${status} ${code}) and changes nothing`, async () => {
      const before = structuredClone(enclave.service.state);
      const reply = await postJson(`${enclave.url}/v1/elect`, body);
      assert.equal(reply.status, status);
      assert.equal(reply.body.error?.code, code);
      assert.equal(typeof reply.body.error?.message, 'string');
      assert.deepEqual(enclave.service.state, before);
    });
  }

  it('refuses a huge body without reading it all, and without a content-length', async () => {
    const huge = `{"cluster_id":"${'x'.repeat(MAX_BODY_BYTES + 10)}"}`;
    const declared = await send(`${enclave.url}/v1/elect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: huge,
    });
    assert.deepEqual(declared, { status: 413, code: 'E_BODY_TOO_LARGE' });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(huge));
        controller.close();
      },
    });
    const chunked = await send(`${enclave.url}/v1/elect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    assert.deepEqual(chunked, { status: 413, code: 'E_BODY_TOO_LARGE' });
  });

  it('refuses wrong media types, methods, routes and nonces', async () => {
    const url = enclave.url;
    const cases: [string, RequestInit, number, string][] = [
      [
        '/v1/elect',
        { method: 'POST', body: '{}', headers: { 'content-type': 'text/plain' } },
        415,
        'E_UNSUPPORTED_MEDIA_TYPE',
      ],
      ['/v1/elect', { method: 'GET' }, 405, 'E_METHOD_NOT_ALLOWED'],
      ['/v1/attestation?nonce=00', { method: 'GET' }, 400, 'E_BAD_NONCE'],
      [`/v1/attestation?nonce=${'zz'.repeat(16)}`, { method: 'GET' }, 400, 'E_BAD_NONCE'],
      [
        '/v1/attestation',
        { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } },
        405,
        'E_METHOD_NOT_ALLOWED',
      ],
      ['/v2/elect', { method: 'GET' }, 404, 'E_NOT_FOUND'],
    ];
    for (const [path, init, status, code] of cases) {
      assert.deepEqual(await send(`${url}${path}`, init), { status, code }, path);
    }
  });

  it('refuses malformed renew and resign bodies', async () => {
    const base = {
      cluster_id: CLUSTER,
      epoch: 1,
      seq: 0,
      leader: 'peer-000',
      ts: Date.now(),
      nonce: 'ab'.repeat(16),
      sig: 'A'.repeat(86),
    };
    const { sig: _sig, ...unsignedLease } = base;
    const cases: [string, unknown, number, string][] = [
      ['/v1/renew', { ...base, extra: 1 }, 400, 'E_UNKNOWN_FIELD'],
      ['/v1/renew', { ...base, sig: 'short' }, 400, 'E_BAD_REQUEST'],
      ['/v1/renew', { ...base, epoch: 0 }, 400, 'E_BAD_REQUEST'],
      ['/v1/renew', { ...base, ts: -1 }, 400, 'E_BAD_REQUEST'],
      ['/v1/renew', unsignedLease, 401, 'E_UNSIGNED'],
      // Resign names no successors: a member list is refused.
      ['/v1/resign', { ...base, members }, 400, 'E_UNKNOWN_FIELD'],
    ];
    for (const [path, body, status, code] of cases) {
      const reply = await postJson(`${enclave.url}${path}`, body);
      assert.equal(reply.status, status, `${path} ${code}`);
      assert.equal(reply.body.error?.code, code);
    }
  });

  it('stays up and serves a valid election after all of that', async () => {
    assert.equal(enclave.service.state.epoch, 0);
    assert.equal((await fetch(`${enclave.url}/healthz`)).status, 200);
    const client = makeClient(enclave, pki, enclave.service.checksum);
    const granted = await electAs(client, peers[0]!);
    assert.equal(granted.claims.epoch, 1);
  });
});
