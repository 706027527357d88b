// The attestation document: a compact JWS (RS256) signed by the mock
// attestation key, its X.509 chain to the mock root in `x5c`, with claims
// after AWS Nitro's. It binds the enclave's certificate-signing key, its
// admission key (Ed25519, in user_data) and the function checksum to the
// caller's nonce. Format: docs/protocol/enclave.md.
import type { KeyObject } from 'node:crypto';
import { admissionKeyId, rawEd25519 } from './admission-certificate.ts';
import { BASE64URL_32_BYTES } from './base64url.ts';
import { parseJwsOr, signJws, verifyJwsSignature } from './jws.ts';
import { ed25519FromRaw } from './member-record-signature.ts';
import {
  keyId,
  MIN_PRODUCT_RSA_BITS,
  modulusBits,
  publicKeyFromSpkiDer,
  type RsaPrivateKey,
  type RsaPublicKey,
  spkiDer,
} from './rsa-keys.ts';
import { VerificationError } from './verification-error.ts';
import { type Certificate, certificateFromX5c, certificateToX5c, verifyChainToRoot } from './x509.ts';

const ATTESTATION_TYP = 'enclave-elect-attestation+jwt';
const HEX_256 = /^[0-9a-f]{64}$/;
/** Nonces are 16 to 64 bytes, lowercase hex. */
/** An enclave restarted more often than this within one admission lifetime vouches for its newest earlier keys only. */
export const MAX_RETIRED_ADMISSION_KEYS = 8;

export const NONCE_PATTERN = /^(?:[0-9a-f]{2}){16,64}$/;

export interface AttestationClaims {
  module_id: string;
  /** Milliseconds since the Unix epoch, when the document was made. */
  timestamp: number;
  digest: 'SHA256';
  /** PCR index -> lowercase hex; "0" is the function checksum. */
  pcrs: Record<string, string>;
  /** The enclave's certificate-signing key: SPKI DER, standard base64. */
  public_key: string;
  nonce: string;
  /**
   * admission_key: the enclave's Ed25519 admission key, 32 raw bytes, base64url.
   * retired_admission_keys: the keys of this enclave's earlier runs (same
   * encoding) whose admissions may still stand; absent when none.
   */
  user_data: { func_checksum: string; admission_key: string; retired_admission_keys?: string[] };
}

export interface AttestedEnclave {
  claims: AttestationClaims;
  publicKey: RsaPublicKey;
  kid: string;
  checksum: string;
  /** The document as verified: a fencing token carries it as its evidence. */
  token: string;
  /** The Ed25519 key admissions are signed with, and its id (admission-certificate.ts). */
  admissionKey: KeyObject;
  admissionKid: string;
  /** Earlier runs' admission keys by kid: admissions they signed before a restart still verify. */
  retiredAdmissionKeys: Map<string, KeyObject>;
  /** Milliseconds since the Unix epoch after which a certificate of its chain expires. */
  chainValidUntil: number;
}

export interface AttestationInput {
  attestationKey: RsaPrivateKey;
  /** Attestation certificate first, then up to the root. */
  chain: Certificate[];
  moduleId: string;
  timestamp: number;
  enclaveKey: RsaPublicKey;
  /** The enclave's admission key (Ed25519, public). */
  admissionKey: KeyObject;
  /** Admission keys of the enclave's earlier runs whose admissions may still stand. */
  retiredAdmissionKeys?: readonly KeyObject[];
  funcChecksum: string;
  nonce: string;
}

export function createAttestation(input: AttestationInput): string {
  const claims: AttestationClaims = {
    module_id: input.moduleId,
    timestamp: input.timestamp,
    digest: 'SHA256',
    pcrs: { '0': input.funcChecksum },
    public_key: spkiDer(input.enclaveKey).toString('base64'),
    nonce: input.nonce,
    user_data: {
      func_checksum: input.funcChecksum,
      admission_key: rawEd25519(input.admissionKey).toString('base64url'),
      ...(input.retiredAdmissionKeys?.length
        ? {
            retired_admission_keys: input.retiredAdmissionKeys.map((k) =>
              rawEd25519(k).toString('base64url'),
            ),
          }
        : {}),
    },
  };
  return signJws(
    { alg: 'RS256', typ: ATTESTATION_TYP, x5c: input.chain.map(certificateToX5c) },
    claims,
    input.attestationKey,
  );
}

export interface EvidenceExpectations {
  /** The pinned mock root: the only trust anchor. */
  root: Certificate;
  /** The function checksum this caller pins (lowercase hex). */
  pinnedChecksum: string;
  /** Time at which the certificate chain must be valid. */
  now: Date;
  /** Smallest acceptable enclave key; 2048 unless a test says otherwise. */
  minKeyBits?: number;
}

export interface AttestationExpectations extends EvidenceExpectations {
  /** The nonce this caller sent (lowercase hex). */
  nonce: string;
}

function invalid(message: string): VerificationError {
  return new VerificationError('E_ATTESTATION_INVALID', `attestation refused: ${message}`);
}

function readClaims(payload: Record<string, unknown>): AttestationClaims {
  const { module_id, timestamp, digest, pcrs, public_key, nonce, user_data } = payload;
  if (typeof module_id !== 'string' || module_id.length === 0) throw invalid('module_id missing');
  if (!Number.isSafeInteger(timestamp)) throw invalid('timestamp is not an integer');
  if (digest !== 'SHA256') throw invalid('digest must be SHA256');
  if (typeof public_key !== 'string') throw invalid('public_key missing');
  if (typeof nonce !== 'string') throw invalid('nonce missing');
  if (
    pcrs === null ||
    typeof pcrs !== 'object' ||
    typeof (pcrs as Record<string, unknown>)['0'] !== 'string'
  ) {
    throw invalid('pcrs["0"] missing');
  }
  const checksum = (user_data as { func_checksum?: unknown } | null)?.func_checksum;
  if (typeof checksum !== 'string' || !HEX_256.test(checksum))
    throw invalid('user_data.func_checksum missing');
  if ((pcrs as Record<string, unknown>)['0'] !== checksum)
    throw invalid('pcrs["0"] differs from func_checksum');
  const admissionKey = (user_data as { admission_key?: unknown }).admission_key;
  if (typeof admissionKey !== 'string' || !BASE64URL_32_BYTES.test(admissionKey))
    throw invalid('user_data.admission_key missing');
  const retired = (user_data as { retired_admission_keys?: unknown }).retired_admission_keys;
  if (
    retired !== undefined &&
    !(
      Array.isArray(retired) &&
      retired.length <= MAX_RETIRED_ADMISSION_KEYS &&
      retired.every((k) => typeof k === 'string' && BASE64URL_32_BYTES.test(k))
    )
  )
    throw invalid(
      `user_data.retired_admission_keys is not a list of at most ${MAX_RETIRED_ADMISSION_KEYS} keys`,
    );
  return payload as unknown as AttestationClaims;
}

/**
 * Check an attestation document: chain to the pinned root, JWS signature by
 * the attested leaf, nonce echoed, checksum equal to the pin (in that order).
 */
export function verifyAttestation(token: string, expect: AttestationExpectations): AttestedEnclave {
  return verifyDocument(token, expect, expect.nonce);
}

/**
 * Check an attestation document someone else fetched (the evidence inside a
 * fencing token): everything verifyAttestation checks except the nonce, which
 * only its requester can judge. It proves which key the enclave running the
 * pinned function holds; freshness is the certificate's lease end, not this.
 */
export function verifyAttestationEvidence(token: string, expect: EvidenceExpectations): AttestedEnclave {
  return verifyDocument(token, expect, undefined);
}

function verifyDocument(
  token: string,
  expect: EvidenceExpectations,
  nonce: string | undefined,
): AttestedEnclave {
  const parsed = parseJwsOr(token, invalid);
  if (parsed.header.typ !== ATTESTATION_TYP) throw invalid(`typ must be ${ATTESTATION_TYP}`);
  const x5c = parsed.header.x5c;
  if (!Array.isArray(x5c) || !x5c.every((entry) => typeof entry === 'string')) throw invalid('x5c missing');
  let leaf: Certificate;
  let chainValidUntil: number;
  try {
    leaf = verifyChainToRoot(x5c as string[], expect.root, expect.now);
    chainValidUntil = Math.min(
      Date.parse(expect.root.validTo),
      ...(x5c as string[]).map((entry) => Date.parse(certificateFromX5c(entry).validTo)),
    );
  } catch (error) {
    throw invalid((error as Error).message);
  }
  if (!verifyJwsSignature(parsed, leaf.publicKey)) {
    throw invalid('JWS signature does not verify with the attestation certificate');
  }
  const claims = readClaims(parsed.payload);
  if (nonce !== undefined && claims.nonce !== nonce) throw invalid('nonce not echoed');
  const received = claims.user_data.func_checksum;
  if (received !== expect.pinnedChecksum) {
    throw new VerificationError(
      'E_ENCLAVE_UNTRUSTED',
      `enclave runs a function with checksum ${received}, expected the pinned ${expect.pinnedChecksum}; nothing was sent to it`,
      { expected: expect.pinnedChecksum, received },
    );
  }
  const der = decodeBase64Standard(claims.public_key);
  let publicKey: RsaPublicKey;
  try {
    publicKey = publicKeyFromSpkiDer(der);
  } catch {
    throw invalid('public_key is not an RSA SPKI key');
  }
  const minBits = expect.minKeyBits ?? MIN_PRODUCT_RSA_BITS;
  if (modulusBits(publicKey) < minBits) throw invalid(`public_key is shorter than ${minBits} bits`);
  const admissionKey = ed25519FromRaw(Buffer.from(claims.user_data.admission_key, 'base64url'));
  if (!admissionKey) throw invalid('user_data.admission_key is not an Ed25519 key');
  const retiredAdmissionKeys = new Map<string, KeyObject>();
  for (const raw of claims.user_data.retired_admission_keys ?? []) {
    const key = ed25519FromRaw(Buffer.from(raw, 'base64url'));
    if (!key) throw invalid('user_data.retired_admission_keys holds a key that is not Ed25519');
    retiredAdmissionKeys.set(admissionKeyId(key), key);
  }
  return {
    claims,
    publicKey,
    kid: keyId(publicKey),
    checksum: received,
    token,
    chainValidUntil,
    admissionKey,
    admissionKid: admissionKeyId(admissionKey),
    retiredAdmissionKeys,
  };
}

function decodeBase64Standard(text: string): Buffer {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw invalid('public_key is not base64');
  return Buffer.from(text, 'base64');
}
