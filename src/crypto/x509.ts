// X.509 for the mock attestation PKI, with node-forge: a self-signed root CA
// (the mock vendor root that peers pin), leaf certificates under it, DER/PEM
// conversions, and chain verification that trusts only the pinned root —
// certificates that travel in a token's `x5c` are never roots.
import { randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { EnclaveElectError } from '../errors.ts';
import type { RsaPrivateKey, RsaPublicKey } from './rsa-keys.ts';

export type Certificate = forge.pki.Certificate;

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
  const cert = forge.pki.createCertificate();
  cert.publicKey = spec.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(spec.notBefore.getTime() - 60_000);
  cert.validity.notAfter = new Date(spec.notBefore.getTime() + spec.validDays * DAY_MS);
  const subject = [
    { name: 'commonName', value: spec.commonName },
    { name: 'organizationName', value: 'enclave-elect mock attestation' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(spec.issuer ? spec.issuer.subject.attributes : subject);
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
  cert.sign(spec.issuerKey, forge.md.sha256.create());
  // Round-trip through DER: forge fills in the name hashes its CA store
  // matches on only when it parses a certificate.
  return certificateFromX5c(certificateToX5c(cert));
}

export function certificateToPem(cert: Certificate): string {
  return forge.pki.certificateToPem(cert);
}

export function certificateFromPem(pem: string): Certificate {
  return forge.pki.certificateFromPem(pem);
}

/** DER as standard base64: the encoding of an `x5c` entry (RFC 7515 §4.1.6). */
export function certificateToX5c(cert: Certificate): string {
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary').toString(
    'base64',
  );
}

export function certificateFromX5c(entry: string): Certificate {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(entry)) throw new TypeError('x5c entry is not base64');
  const der = Buffer.from(entry, 'base64').toString('binary');
  return forge.pki.certificateFromAsn1(forge.asn1.fromDer(der));
}

export class ChainError extends EnclaveElectError {
  constructor(message: string) {
    super('E_X509_CHAIN', message);
  }
}

/**
 * Verify that `x5c` (leaf first) chains to `root`, valid at `now`. Only the
 * pinned root is a trust anchor: a trailing copy of it in `x5c` is dropped,
 * and any other certificate is at most an intermediate. Returns the leaf.
 */
export function verifyChainToRoot(x5c: readonly string[], root: Certificate, now: Date): Certificate {
  if (x5c.length === 0 || x5c.length > 4) throw new ChainError('x5c must hold 1 to 4 certificates');
  let chain: Certificate[];
  try {
    chain = x5c.map(certificateFromX5c);
  } catch (error) {
    throw new ChainError(`x5c holds a certificate that does not parse: ${(error as Error).message}`);
  }
  const rootX5c = certificateToX5c(root);
  if (x5c.length > 1 && x5c[x5c.length - 1] === rootX5c) chain = chain.slice(0, -1);
  for (const cert of chain) {
    if (cert.siginfo.algorithmOid !== forge.pki.oids.sha256WithRSAEncryption) {
      throw new ChainError('every certificate must be signed with sha256WithRSAEncryption');
    }
  }
  const caStore = forge.pki.createCaStore([certificateFromX5c(rootX5c)]);
  try {
    forge.pki.verifyCertificateChain(caStore, chain, { validityCheckDate: now });
  } catch (error) {
    const message = (error as { message?: string }).message ?? String(error);
    throw new ChainError(`certificate chain does not lead to the pinned root: ${message}`);
  }
  return chain[0]!;
}
