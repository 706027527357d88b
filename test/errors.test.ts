// The closed list of error codes: every code the sources raise is in ERROR_CODES,
// and docs/errors.md documents exactly that list with the same meanings.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { JwsFormatError } from '../src/crypto/jws.ts';
import { ChainError } from '../src/crypto/x509.ts';
import { EnclaveRequestError } from '../src/enclave/client/enclave-client.ts';
import { EnclaveElectError, ERROR_CODES, isErrorCode } from '../src/errors.ts';
import { WireFormatError } from '../src/protocol/byte-buffer.ts';

const ROOT = join(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|js)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Every quoted 'E_…' literal in src/, with the first file that uses it. */
function codesUsedInSources(): Map<string, string> {
  const used = new Map<string, string>();
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(/['"`](E_[A-Z0-9_]+)['"`]/g)) {
      if (!used.has(match[1]!)) used.set(match[1]!, file.slice(ROOT.length + 1));
    }
  }
  return used;
}

/** Rows of docs/errors.md's tables: code -> meaning (the second column). */
function documentedCodes(): Map<string, string> {
  const documented = new Map<string, string>();
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  for (const match of doc.matchAll(/^\| `(E_[A-Z0-9_]+)` \| ([^|]+) \|/gm)) {
    assert.ok(!documented.has(match[1]!), `docs/errors.md lists ${match[1]} twice`);
    documented.set(match[1]!, match[2]!.trim());
  }
  return documented;
}

describe('error codes', () => {
  it('lists every code used in src/ in ERROR_CODES', () => {
    const used = codesUsedInSources();
    assert.ok(used.size > 40, `found only ${used.size} codes: is the scan broken?`);
    const missing = [...used]
      .filter(([code]) => !isErrorCode(code))
      .map(([code, file]) => `${code} (${file})`);
    assert.deepEqual(missing, [], 'add these codes to ERROR_CODES in src/errors.ts and to docs/errors.md');
  });

  it('has no code in ERROR_CODES that src/ never uses', () => {
    const used = codesUsedInSources();
    const unused = Object.keys(ERROR_CODES).filter((code) => !used.has(code));
    assert.deepEqual(unused, []);
  });

  it('documents exactly the codes of ERROR_CODES, with the same meanings, in docs/errors.md', () => {
    const documented = documentedCodes();
    assert.deepEqual([...documented.keys()].sort(), Object.keys(ERROR_CODES).sort());
    for (const [code, meaning] of Object.entries(ERROR_CODES)) {
      assert.equal(documented.get(code), meaning, `meaning of ${code} in docs/errors.md`);
    }
  });

  it('recognises only listed codes', () => {
    assert.equal(isErrorCode('E_CONFIG'), true);
    assert.equal(isErrorCode('E_NO_SUCH_CODE'), false);
    assert.equal(isErrorCode('toString'), false);
    assert.equal(isErrorCode(42), false);
  });
});

describe('error classes', () => {
  it('give every format error a base class, a code and its own name', () => {
    const cases: [EnclaveElectError, string, string][] = [
      [new WireFormatError('bad-count', '0 messages'), 'E_WIRE_FORMAT', 'WireFormatError'],
      [new JwsFormatError('header is not JSON'), 'E_JWS_FORMAT', 'JwsFormatError'],
      [new ChainError('x5c must hold 1 to 4 certificates'), 'E_X509_CHAIN', 'ChainError'],
    ];
    for (const [error, code, name] of cases) {
      assert.ok(error instanceof EnclaveElectError, name);
      assert.equal(error.code, code);
      assert.equal(error.name, name);
      assert.equal(error.exitCode, 1);
    }
  });

  it('keeps the drop reason of a wire format error', () => {
    const error = new WireFormatError('bad-address', 'port 0');
    assert.equal(error.reason, 'bad-address');
    assert.equal(error.message, 'bad-address: port 0');
  });

  it('keeps a known enclave code and maps an unknown one to E_ENCLAVE_ERROR, quoting it', () => {
    const known = new EnclaveRequestError(409, 'E_STALE_EPOCH', 'epoch 3 is not the current epoch 4');
    assert.equal(known.code, 'E_STALE_EPOCH');
    assert.equal(known.status, 409);
    const unknown = new EnclaveRequestError(400, 'E_FROM_THE_FUTURE', 'a newer enclave');
    assert.equal(unknown.code, 'E_ENCLAVE_ERROR');
    assert.match(unknown.message, /E_FROM_THE_FUTURE/);
  });
});
