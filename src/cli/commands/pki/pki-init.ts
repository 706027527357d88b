// Logic of `pki init`: create the PKI and describe what was written.
import { join } from 'node:path';
import { initPki, PKI_FILES } from '../../../enclave/pki.ts';

export interface PkiInitReport {
  dir: string;
  files: string[];
  root_certificate: string;
  root_fingerprint: string;
}

export function runPkiInit(dir: string, force: boolean): PkiInitReport {
  const result = initPki(dir, { force });
  return {
    dir: result.dir,
    files: result.files,
    root_certificate: join(result.dir, PKI_FILES.rootCert),
    root_fingerprint: result.rootFingerprint,
  };
}
