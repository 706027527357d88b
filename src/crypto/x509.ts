// X.509 for the mock attestation PKI. Certificates are node:crypto
// X509Certificate objects. Making one (a self-signed root CA, the mock vendor
// root peers pin, and leaves under it) uses node-forge, loaded only then
// (./forge.ts); verifying a chain uses node:crypto alone, so a peer never loads
// forge. Only the pinned root is a trust anchor: certificates that travel in a
// token's `x5c` are never roots.

import { EnclaveElectError } from '../errors.ts';
import { randomBytes, X509Certificate } from '../platform/node-crypto.ts';
import { certificateProfile, OID } from './certificate-profile.ts';
import { forge } from './forge.ts';
import type { RsaPrivateKey, RsaPublicKey } from './rsa-keys.ts';

export type Certificate = import('node:crypto').X509Certificate;

const DAY_MS = 24 * 60 * 60 * 1000;

export interface CertificateSpec {
  commonName: string;
  publicKey: RsaPublicKey;
  /** The issuer's certificate; absent for a self-signed root. */
  issuer?: Certificate;
  issuerKey: RsaPrivateKey;
  isCA: boolean;
  notBefore: Date;
  validDays: number;
}

function serialNumber(): string {
  // 16 random bytes, high bit cleared so the DER INTEGER stays positive.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

export function createCertificate(spec: CertificateSpec): Certificate {
  const { pki, asn1, md } = forge();
  const cert = pki.createCertificate();
  cert.publicKey = pki.publicKeyFromPem(spec.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(spec.notBefore.getTime() - 60_000);
  cert.validity.notAfter = new Date(spec.notBefore.getTime() + spec.validDays * DAY_MS);
  const subject = [
    { name: 'commonName', value: spec.commonName },
    { name: 'organizationName', value: 'enclave-elect mock attestation' },
  ];
  cert.setSubject(subject);
  const issuer = spec.issuer && pki.certificateFromAsn1(asn1.fromDer(spec.issuer.raw.toString('binary')));
  cert.setIssuer(issuer ? issuer.subject.attributes : subject);
  const extensions: object[] = [
    {
      name: 'basicConstraints',
      cA: spec.isCA,
      critical: true,
      ...(spec.isCA ? { pathLenConstraint: 0 } : {}),
    },
    spec.isCA
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ];
  cert.setExtensions(extensions);
  cert.sign(spec.issuerKey, md.sha256.create());
  return new X509Certificate(Buffer.from(asn1.toDer(pki.certificateToAsn1(cert)).getBytes(), 'binary'));
}

export function certificateToPem(cert: Certificate): string {
  return cert.toString();
}

export function certificateFromPem(pem: string): Certificate {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new TypeError('no PEM CERTIFICATE block');
  return new X509Certificate(pem);
}

/** DER as standard base64: the encoding of an `x5c` entry (RFC 7515 §4.1.6). */
export function certificateToX5c(cert: Certificate): string {
  return cert.raw.toString('base64');
}

export function certificateFromX5c(entry: string): Certificate {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(entry)) throw new TypeError('x5c entry is not base64');
  return new X509Certificate(Buffer.from(entry, 'base64'));
}

export class ChainError extends EnclaveElectError {
  constructor(message: string) {
    super('E_X509_CHAIN', message);
  }
}

/** Critical extensions a chain may carry; any other critical one is refused (RFC 5280 §4.2). */
const UNDERSTOOD_CRITICAL = new Set<string>([OID.basicConstraints, OID.keyUsage]);

/**
 * Why `issuer` may not issue a certificate `below` certificates below it
 * (0: it issued the leaf), or undefined when it may: a CA (basic constraints
 * present, cA set), keyCertSign when it states key usage, path length kept.
 */
function caRefusal(issuer: Certificate, below: number): string | undefined {
  const profile = certificateProfile(issuer.raw);
  if (profile.keyCertSign === false) return `${issuer.subject} may not sign certificates (keyUsage)`;
  const basic = profile.basicConstraints;
  if (!basic?.ca) return `${issuer.subject} is not a CA (basicConstraints)`;
  if (basic.pathLength !== undefined && below - 1 > basic.pathLength)
    return `${issuer.subject} allows ${basic.pathLength} intermediates, the chain has ${below - 1}`;
  return undefined;
}

/** Why `cert` fails on its own (algorithm, validity, critical extensions), or undefined. */
function ownRefusal(cert: Certificate, now: Date): string | undefined {
  const profile = certificateProfile(cert.raw);
  if (profile.signatureAlgorithm !== OID.sha256WithRSAEncryption)
    return 'every certificate must be signed with sha256WithRSAEncryption';
  if (now < cert.validFromDate || now > cert.validToDate)
    return `${cert.subject} is not valid at ${now.toISOString()} (valid ${cert.validFrom} to ${cert.validTo})`;
  for (const [oid, { critical }] of profile.extensions) {
    if (critical && !UNDERSTOOD_CRITICAL.has(oid))
      return `${cert.subject} has unsupported critical extension ${oid}`;
  }
  return undefined;
}

/**
 * Verify that `x5c` (leaf first) chains to `root`, valid at `now`. Only the
 * pinned root is a trust anchor: a trailing copy of it in `x5c` is dropped,
 * and any other certificate is at most an intermediate, which must be a CA.
 * Returns the leaf.
 */
export function verifyChainToRoot(x5c: readonly string[], root: Certificate, now: Date): Certificate {
  if (x5c.length === 0 || x5c.length > 4) throw new ChainError('x5c must hold 1 to 4 certificates');
  let chain: Certificate[];
  try {
    chain = x5c.map(certificateFromX5c);
  } catch (error) {
    throw new ChainError(`x5c holds a certificate that does not parse: ${(error as Error).message}`);
  }
  if (chain.length > 1 && chain.at(-1)!.raw.equals(root.raw)) chain = chain.slice(0, -1);
  const refuse = (reason: string): never => {
    throw new ChainError(`certificate chain does not lead to the pinned root: ${reason}`);
  };
  try {
    for (const [depth, cert] of chain.entries()) {
      const refusal = ownRefusal(cert, now);
      if (refusal) refuse(refusal);
      const issuer = chain[depth + 1] ?? root;
      // The pinned root issuing itself (x5c is just the root) needs no CA rights.
      if (!cert.raw.equals(issuer.raw)) {
        const caRefused = caRefusal(issuer, depth + 1);
        if (caRefused) refuse(caRefused);
      }
      // checkIssued: names (and key identifiers) match; verify: the issuer's key signed it.
      if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey))
        refuse(`${cert.subject} is not issued by ${issuer === root ? 'the pinned root' : issuer.subject}`);
    }
  } catch (error) {
    if (error instanceof ChainError) throw error;
    refuse(`a certificate is malformed: ${(error as Error).message}`);
  }
  const leaf = chain[0]!;
  if (leaf.publicKey.asymmetricKeyType !== 'rsa') refuse('the leaf key is not RSA');
  return leaf;
}
