// The command lines `cluster up` and `cluster scale` run in the project image,
// in one place so they follow the `pki`, `enclave` and `peer` commands' flags
// (src/cli/commands/{pki,enclave,peer}/cli.ts) with a one-file change.
// The image's entrypoint runs `node [flags] /app/src/cli/main.js` (compiled), so these are its arguments.

import type { Policy } from '../crypto/leader-certificate.ts';

/** Where the PKI volume is mounted: the enclave reads its attestation key here. */
export const PKI_DIR = '/pki';
/** Where the peers' trust volume is mounted: only the root certificate, never a key. */
export const TRUST_DIR = '/trust';
export const ROOT_CERT_FILE = 'root.crt.pem';
/**
 * The cluster join secret (docs/security.md): on its own volume, mounted only
 * by the PKI step (to create it), the enclave and the peers, never published.
 */
export const JOIN_DIR = '/join';
/** The enclave's sealed state (epoch counter), on its own volume so it survives restarts. */
export const STATE_DIR = '/state';
export const ENCLAVE_PORT = 8000;
/** DNS alias of the enclave on the cluster network. */
export const ENCLAVE_ALIAS = 'enclave';
/** DNS alias every peer carries, so `--join peer` finds them all (as compose's service name does). */
export const PEER_ALIAS = 'peer';
/** The demo's fenced ledger: its DNS alias and port, as in the compose profile `demo`. */
export const LEDGER_ALIAS = 'ledger';
export const LEDGER_PORT = 8100;

export interface ElectionSettings {
  /** The cluster id certificates are issued for: the cluster's name. */
  cluster: string;
  policy: Policy;
  leaseMs: number;
  /** The demo: a ledger, and every peer runs the ledger writer with --exec while it leads. */
  demo?: boolean;
}

/**
 * The one-shot PKI step: make the mock root and attestation key in the PKI
 * volume (kept if complete, so a rerun changes nothing) and publish the root
 * certificate alone to the peers' trust volume. The image's mount points belong
 * to its user, so fresh volumes there start writable by it.
 */
export function pkiInitCommand(): string[] {
  return ['pki', 'init', '--out', PKI_DIR, '--if-missing', '--publish', TRUST_DIR, '--join', JOIN_DIR];
}

/** The enclave's environment: the image HEALTHCHECK asks the peer admin port unless told the enclave's. */
export function enclaveEnv(): string[] {
  return [`HEALTHCHECK_URL=http://127.0.0.1:${ENCLAVE_PORT}/healthz`];
}

export function enclaveCommand(settings: ElectionSettings): string[] {
  return [
    'enclave',
    '--pki',
    PKI_DIR,
    '--port',
    String(ENCLAVE_PORT),
    '--policy',
    settings.policy,
    '--lease-ms',
    String(settings.leaseMs),
    '--state-dir',
    STATE_DIR,
    '--cluster-id',
    settings.cluster,
    '--join-secret',
    JOIN_DIR,
  ];
}

/**
 * The peer's command line and environment. The election settings (enclave
 * URL, pinned root, cluster id, join secret) go by the environment variables
 * the peer's config reads (ENCLAVE_URL, PKI_ROOT, CLUSTER_ID, JOIN_SECRET), so the same container also starts with a peer build that does
 * not know them yet.
 */
export function peerCommand(
  name: string,
  settings: Pick<ElectionSettings, 'cluster' | 'demo'>,
): { cmd: string[]; env: string[] } {
  return {
    cmd: ['peer', '--name', name, '--join', PEER_ALIAS],
    env: [
      `ENCLAVE_URL=http://${ENCLAVE_ALIAS}:${ENCLAVE_PORT}`,
      `PKI_ROOT=${TRUST_DIR}/${ROOT_CERT_FILE}`,
      `CLUSTER_ID=${settings.cluster}`,
      `JOIN_SECRET=${JOIN_DIR}`,
      ...(settings.demo ? [`EXEC_COMMAND=${WRITER_COMMAND}`] : []),
    ],
  };
}

/** What a demo peer runs while it leads (the compose profile's `writer` service runs the same). */
export const WRITER_COMMAND = `enclave-elect ledger write --ledger=http://${LEDGER_ALIAS}:${LEDGER_PORT} --interval-ms=100`;

/** The demo ledger: verifies tokens with the pinned root (from the trust volume) for this cluster's id. */
export function ledgerCommand(settings: Pick<ElectionSettings, 'cluster'>): string[] {
  return [
    'ledger',
    'serve',
    `--root=${TRUST_DIR}/${ROOT_CERT_FILE}`,
    `--port=${LEDGER_PORT}`,
    `--cluster=${settings.cluster}`,
  ];
}

/** The ledger's environment: the image HEALTHCHECK asks the ledger's port. */
export function ledgerEnv(): string[] {
  return [`HEALTHCHECK_URL=http://127.0.0.1:${LEDGER_PORT}/healthz`];
}
