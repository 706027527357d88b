import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeBase64url, encodeBase64url } from '../../src/crypto/base64url.ts';
import { canonicalJson } from '../../src/crypto/canonical-json.ts';
import { JwsFormatError, parseJws, signJws, verifyJwsSignature } from '../../src/crypto/jws.ts';
import { generateRsaKeyPair } from '../../src/crypto/rsa-keys.ts';

const keys = generateRsaKeyPair(1024); // test-only size
const other = generateRsaKeyPair(1024);

describe('canonical JSON', () => {
  it('sorts keys, drops whitespace and undefined members', () => {
    assert.equal(
      canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 0, y: -3 } }),
      '{"a":[true,null,"x"],"b":1,"d":{"y":-3,"z":0}}',
    );
  });

  it('refuses floats, -0 and non-JSON values', () => {
    for (const value of [1.5, -0, Number.NaN, 2 ** 60, () => 1, 10n]) {
      assert.throws(() => canonicalJson(value), TypeError);
    }
  });

  it('gives equal bytes for equal values whatever the key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.integer()), (dict) => {
        const reversed = Object.fromEntries(Object.entries(dict).reverse());
        assert.equal(canonicalJson(reversed), canonicalJson(dict));
        assert.equal(canonicalJson(JSON.parse(canonicalJson(dict))), canonicalJson(dict));
      }),
    );
  });
});

describe('base64url', () => {
  it('round-trips bytes and refuses padding, foreign characters and non-canonical forms', () => {
    fc.assert(
      fc.property(fc.uint8Array(), (bytes) => {
        assert.deepEqual(new Uint8Array(decodeBase64url(encodeBase64url(bytes))!), bytes);
      }),
    );
    // 'AB' is non-canonical: its last character carries stray low bits.
    for (const bad of ['AA==', 'A+B/', 'A', 'AB', 'a b']) assert.equal(decodeBase64url(bad), undefined, bad);
    assert.deepEqual(decodeBase64url('AA'), Buffer.from([0]));
  });
});

describe('compact JWS RS256', () => {
  it('signs canonical JSON and verifies with the matching key only', () => {
    const token = signJws({ alg: 'RS256', kid: 'k1' }, { b: 2, a: 1 }, keys.privateKey);
    const parsed = parseJws(token);
    assert.deepEqual(parsed.payload, { a: 1, b: 2 });
    assert.equal(token.split('.')[1], encodeBase64url('{"a":1,"b":2}'));
    assert.equal(verifyJwsSignature(parsed, keys.publicKey), true);
    assert.equal(verifyJwsSignature(parsed, other.publicKey), false);
  });

  it('fails verification when any part is altered', () => {
    const token = signJws({ alg: 'RS256' }, { epoch: 1 }, keys.privateKey);
    const [h, , s] = token.split('.');
    const altered = `${h}.${encodeBase64url('{"epoch":2}')}.${s}`;
    assert.equal(verifyJwsSignature(parseJws(altered), keys.publicKey), false);
    const sig = decodeBase64url(s!)!;
    sig[10]! ^= 0x01;
    assert.equal(
      verifyJwsSignature(parseJws(`${h}.${token.split('.')[1]}.${encodeBase64url(sig)}`), keys.publicKey),
      false,
    );
  });

  it('refuses malformed tokens and algorithms other than RS256', () => {
    const none = `${encodeBase64url('{"alg":"none"}')}.${encodeBase64url('{}')}.AA`;
    const hs = `${encodeBase64url('{"alg":"HS256"}')}.${encodeBase64url('{}')}.AA`;
    const arrayPayload = `${encodeBase64url('{"alg":"RS256"}')}.${encodeBase64url('[1]')}.AA`;
    for (const bad of ['', 'a.b', 'a.b.c.d', none, hs, arrayPayload, 'x'.repeat(70_000)]) {
      assert.throws(() => parseJws(bad), JwsFormatError);
    }
  });
});
