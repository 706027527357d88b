// What `pki init` (and `local`) run: create the mock attestation PKI (or keep a
// complete one), publish the root certificate for peers, and describe what was done.

import { join } from 'node:path';
import { EnclaveElectError } from '../errors.ts';
import { copyFileSync, existsSync, mkdirSync } from '../platform/node-fs.ts';
import { createJoinSecret } from './join-secret.ts';
import { certificateFingerprint, initPki, loadRootCertificate, PKI_FILES } from './pki.ts';

export interface PkiInitReport {
  dir: string;
  /** false when --if-missing found a complete PKI and left it alone. */
  created: boolean;
  files: string[];
  root_certificate: string;
  root_fingerprint: string;
  /** Where the root certificate was copied for peers (--publish), if anywhere. */
  published: string | null;
  /** The cluster join secret (--join): kept if present, never printed. */
  join_secret: string | null;
}

export interface PkiInitFlags {
  force?: boolean;
  ifMissing?: boolean;
  publish?: string;
  /** Directory for the cluster join secret, mounted only by the enclave and the peers. */
  join?: string;
}

export function runPkiInit(dir: string, flags: PkiInitFlags = {}): PkiInitReport {
  const paths = Object.values(PKI_FILES).map((name) => join(dir, name));
  const present = paths.filter((path) => existsSync(path));
  let created = true;
  let fingerprint: string;
  if (flags.ifMissing && !flags.force && present.length === paths.length) {
    created = false;
    fingerprint = certificateFingerprint(loadRootCertificate(dir));
  } else if (flags.ifMissing && !flags.force && present.length > 0) {
    throw new EnclaveElectError(
      'E_CONFLICT',
      `${dir} holds an incomplete PKI (${present.length} of ${paths.length} files); remove it or pass --force`,
    );
  } else {
    fingerprint = initPki(dir, { force: flags.force ?? false }).rootFingerprint;
  }
  const rootCertificate = join(dir, PKI_FILES.rootCert);
  let published: string | null = null;
  if (flags.publish) {
    mkdirSync(flags.publish, { recursive: true });
    published = join(flags.publish, PKI_FILES.rootCert);
    copyFileSync(rootCertificate, published);
  }
  // An existing secret is kept even under --force: replacing it locks every running peer out.
  const joinSecret = flags.join ? createJoinSecret(flags.join) : null;
  return {
    dir,
    created,
    files: paths,
    root_certificate: rootCertificate,
    root_fingerprint: fingerprint,
    published,
    join_secret: joinSecret,
  };
}
