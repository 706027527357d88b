// The mock attestation PKI on disk: a self-signed root (what peers pin) and
// the attestation certificate and key under it. Keys are written 0600 and are
// never overwritten without `force`.

import { join } from 'node:path';
import forge from 'node-forge';
import { generateRsaKeyPair, MIN_PRODUCT_RSA_BITS, type RsaPrivateKey } from '../crypto/rsa-keys.ts';
import { type Certificate, certificateFromPem, certificateToPem, createCertificate } from '../crypto/x509.ts';
import { EnclaveElectError } from '../errors.ts';
import { createHash } from '../platform/node-crypto.ts';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from '../platform/node-fs.ts';

export const PKI_FILES = {
  rootCert: 'root.crt.pem',
  rootKey: 'root.key.pem',
  attestationCert: 'attestation.crt.pem',
  attestationKey: 'attestation.key.pem',
} as const;

export interface PkiInitOptions {
  force?: boolean;
  now?: Date;
  keyBits?: number;
}

export interface PkiInitResult {
  dir: string;
  files: string[];
  rootFingerprint: string;
}

/** SHA-256 of the certificate's DER, lowercase hex. */
export function certificateFingerprint(cert: Certificate): string {
  return createHash('sha256').update(cert.raw).digest('hex');
}

export function initPki(dir: string, options: PkiInitOptions = {}): PkiInitResult {
  const paths = Object.values(PKI_FILES).map((name) => join(dir, name));
  const existing = paths.filter((path) => existsSync(path));
  if (existing.length > 0 && !options.force) {
    throw new EnclaveElectError(
      'E_CONFLICT',
      `${existing.join(', ')} already exist; pass --force to replace the PKI (peers pinning the old root will refuse the new one)`,
    );
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const now = options.now ?? new Date();
  const bits = options.keyBits ?? MIN_PRODUCT_RSA_BITS;
  const rootKeys = generateRsaKeyPair(bits);
  const root = createCertificate({
    commonName: 'enclave-elect mock attestation root',
    publicKey: rootKeys.publicKey,
    issuerKey: rootKeys.privateKey,
    isCA: true,
    notBefore: now,
    validDays: 3650,
  });
  const attestationKeys = generateRsaKeyPair(bits);
  const attestation = createCertificate({
    commonName: 'enclave-elect mock attestation signer',
    publicKey: attestationKeys.publicKey,
    issuer: root,
    issuerKey: rootKeys.privateKey,
    isCA: false,
    notBefore: now,
    validDays: 825,
  });
  writeKey(join(dir, PKI_FILES.rootKey), rootKeys.privateKey);
  writeKey(join(dir, PKI_FILES.attestationKey), attestationKeys.privateKey);
  writeFileSync(join(dir, PKI_FILES.rootCert), certificateToPem(root), { mode: 0o644 });
  writeFileSync(join(dir, PKI_FILES.attestationCert), certificateToPem(attestation), { mode: 0o644 });
  return { dir, files: paths, rootFingerprint: certificateFingerprint(root) };
}

function writeKey(path: string, key: RsaPrivateKey): void {
  writeFileSync(
    path,
    forge.pki.privateKeyInfoToPem(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key))),
    {
      mode: 0o600,
    },
  );
  chmodSync(path, 0o600); // an existing file keeps its old mode under writeFileSync
}

export interface EnclavePki {
  root: Certificate;
  attestationCert: Certificate;
  attestationKey: RsaPrivateKey;
}

function readPkiFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new EnclaveElectError(
      'E_CONFIG',
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; run 'enclave-elect pki init --out DIR' first`,
    );
  }
}

/** The pinned root, from a PEM file or a PKI directory. */
export function loadRootCertificate(pathOrDir: string): Certificate {
  const path = pathOrDir.endsWith('.pem') ? pathOrDir : join(pathOrDir, PKI_FILES.rootCert);
  return certificateFromPem(readPkiFile(path));
}

export function loadEnclavePki(dir: string): EnclavePki {
  const root = loadRootCertificate(dir);
  const attestationCert = certificateFromPem(readPkiFile(join(dir, PKI_FILES.attestationCert)));
  const attestationKey = forge.pki.privateKeyFromPem(readPkiFile(join(dir, PKI_FILES.attestationKey)));
  if (!attestationCert.checkIssued(root) || !attestationCert.verify(root.publicKey)) {
    throw new EnclaveElectError('E_CONFIG', `${dir}: the attestation certificate is not signed by the root`);
  }
  return { root, attestationCert, attestationKey };
}

/** The attestation key as PKCS#1 DER: the input the state seal key is derived from. */
export function attestationKeyDer(pki: EnclavePki): Buffer {
  return Buffer.from(forge.asn1.toDer(forge.pki.privateKeyToAsn1(pki.attestationKey)).getBytes(), 'binary');
}
