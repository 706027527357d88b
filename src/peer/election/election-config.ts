// The election settings of `enclave-elect peer`, in the same form as the
// membership settings (src/peer/config.ts) and resolved by the same
// ../settings.ts: flag, environment variable, default with its reason,
// validation naming the option. Without
// --enclave-url a peer runs membership only.

import { type Certificate, certificateFromPem } from '../../crypto/x509.ts';
import { resolvePinnedChecksum } from '../../enclave/client/pinned-checksum.ts';
import { loadJoinSecret } from '../../enclave/join-secret.ts';
import { ConfigError } from '../../errors.ts';
import { readFileSync } from '../../platform/node-fs.ts';
import { integer, optionName, resolveSettings, type Setting } from '../settings.ts';
import { DEFAULT_ELECTION_TIMING, type ElectionTiming } from './timing.ts';

function httpUrl(raw: string, option: string): string {
  if (raw === '') return raw;
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return raw.replace(/\/+$/, '');
  } catch {
    // fall through
  }
  throw new ConfigError(option, `'${raw}' is not an http(s) URL (example: http://enclave:8000)`);
}

export const ELECTION_SETTINGS = {
  enclaveUrl: {
    flag: 'enclave-url',
    env: 'ENCLAVE_URL',
    default: '',
    parse: httpUrl,
    reason: 'none: membership only; compose and `local` point it at the enclave service',
    describe: 'Base URL of the enclave that chooses and signs leaders',
  },
  pkiRoot: {
    flag: 'pki-root',
    env: 'PKI_ROOT',
    default: '',
    parse: (raw: string) => raw,
    reason: 'required with --enclave-url: the mock vendor root the attestation must chain to',
    describe: 'Pinned attestation root certificate (PEM), e.g. /trust/root.crt.pem',
  },
  enclaveChecksum: {
    flag: 'enclave-checksum',
    env: 'ENCLAVE_CHECKSUM',
    default: '',
    parse: (raw: string) => raw,
    reason: "the image's recorded checksum of its built-in function (/app/FUNCTION_CHECKSUM)",
    describe: 'Pinned SHA-256 of the enclave function; nothing is sent to an enclave attesting another',
  },
  joinSecret: {
    flag: 'join-secret',
    env: 'JOIN_SECRET',
    default: '',
    parse: (raw: string) => raw,
    reason:
      'none: not admitted, so no other member lists this peer; compose mounts the secret `pki` made at /join',
    describe:
      'Cluster join secret (join.key or its directory): proves to the enclave that this peer may be admitted (docs/security.md)',
  },
  clusterId: {
    flag: 'cluster-id',
    env: 'CLUSTER_ID',
    default: 'default',
    parse: (raw: string, option: string) => {
      if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(raw)) return raw;
      throw new ConfigError(option, `'${raw}' must be 1-63 characters of A-Z a-z 0-9 . _ -`);
    },
    reason: "the enclave's default: certificates of another cluster are refused",
    describe: 'Cluster id the certificates must name',
  },
  enclaveTimeoutMs: {
    flag: 'enclave-timeout-ms',
    env: 'ENCLAVE_TIMEOUT_MS',
    default: 1000,
    parse: integer(50, 60_000),
    reason:
      'a healthy enclave answers in tens of ms; half a default lease leaves a leader time to retry a renewal',
    describe: 'Timeout of one enclave request (elect adds the time the enclave may hold it)',
  },
  askAheadMs: {
    flag: 'ask-ahead-ms',
    env: 'ASK_AHEAD_MS',
    default: DEFAULT_ELECTION_TIMING.askAheadMs,
    parse: integer(0, 60_000),
    reason: 'a request already waiting at the enclave when the lease ends adds no polling delay to failover',
    describe: 'How long before a known lease ends a follower asks the enclave',
  },
  leaderMarginMs: {
    flag: 'leader-margin-ms',
    env: 'LEADER_MARGIN_MS',
    default: DEFAULT_ELECTION_TIMING.leaderMarginMs,
    parse: integer(0, 60_000),
    reason:
      '10% of the default lease: the leader stops acting well before the enclave could grant anyone else',
    describe: 'Safety margin the leader subtracts from its own lease window',
  },
  askers: {
    flag: 'askers',
    env: 'ASKERS',
    default: DEFAULT_ELECTION_TIMING.askers,
    parse: integer(1, 1000),
    reason:
      'two followers (chosen afresh each epoch) ask first, so enclave load does not grow with the cluster',
    describe: 'Followers that ask the enclave first when a lease is about to end',
  },
  followerGraceMs: {
    flag: 'follower-grace-ms',
    env: 'FOLLOWER_GRACE_MS',
    default: DEFAULT_ELECTION_TIMING.followerGraceMs,
    parse: integer(0, 60_000),
    reason:
      'at least three gossip rounds, raised to one renewal interval per log2(N) hops, the time a renewal needs to reach every follower',
    describe: 'How much later the other followers ask (a minimum; it grows with the cluster)',
  },
} satisfies Record<string, Setting<unknown>>;

export interface ElectionConfig {
  enclaveUrl: string;
  root: Certificate;
  rootPath: string;
  pinnedChecksum: string;
  checksumSource: 'explicit' | 'image' | 'built-in';
  /** The cluster join secret, or null: the peer then runs unadmitted (listed by nobody). */
  joinSecret: Buffer | null;
  joinSecretPath: string | null;
  clusterId: string;
  requestTimeoutMs: number;
  timing: ElectionTiming;
}

/** Resolve the election settings; null when no enclave URL is set (membership only). */
export function resolveElectionConfig(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): ElectionConfig | null {
  const c = resolveSettings(ELECTION_SETTINGS, flags, env);
  if (c.enclaveUrl === '') return null;
  if (c.pkiRoot === '') {
    throw new ConfigError(
      optionName(ELECTION_SETTINGS.pkiRoot),
      'is required with --enclave-url (ENCLAVE_URL)',
    );
  }
  let root: Certificate;
  try {
    root = certificateFromPem(readFileSync(c.pkiRoot, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      optionName(ELECTION_SETTINGS.pkiRoot),
      `cannot read a PEM certificate from ${c.pkiRoot}: ${(error as Error).message}`,
    );
  }
  // '' means "no explicit pin": the image's recorded checksum, else the built-in bundle's.
  const pin = resolvePinnedChecksum(c.enclaveChecksum);
  return {
    enclaveUrl: c.enclaveUrl,
    root,
    rootPath: c.pkiRoot,
    pinnedChecksum: pin.checksum,
    checksumSource: pin.source,
    joinSecret: c.joinSecret === '' ? null : readJoinSecret(c.joinSecret),
    joinSecretPath: c.joinSecret === '' ? null : c.joinSecret,
    clusterId: c.clusterId,
    requestTimeoutMs: c.enclaveTimeoutMs,
    timing: {
      ...DEFAULT_ELECTION_TIMING,
      askAheadMs: c.askAheadMs,
      leaderMarginMs: c.leaderMarginMs,
      askers: c.askers,
      followerGraceMs: c.followerGraceMs,
    },
  };
}

function readJoinSecret(path: string): Buffer {
  try {
    return loadJoinSecret(path);
  } catch (error) {
    throw new ConfigError(optionName(ELECTION_SETTINGS.joinSecret), (error as Error).message);
  }
}
