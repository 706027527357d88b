// The logic of `enclave-elect token verify`: load the pins, verify one token
// offline with src/token/verify-token.ts, describe the outcome.

import { type Certificate, certificateFromPem } from '../../../crypto/x509.ts';
import { ConfigError } from '../../../errors.ts';
import { readFileSync } from '../../../platform/node-fs.ts';
import type { TokenOrder } from '../../../token/fencing-token.ts';
import { TokenRefusedError } from '../../../token/token-error.ts';
import { TokenVerifier, type VerifiedFencingToken } from '../../../token/verify-token.ts';

export interface TokenVerifyInput {
  token: string;
  rootPath: string;
  checksum: string;
  clusterId: string;
  minimum?: TokenOrder;
  now?: () => number;
}

export type TokenVerifyOutcome =
  | { valid: true; token: VerifiedFencingToken }
  | { valid: false; code: string; reason: string };

export function loadRoot(path: string): Certificate {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('--root', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  try {
    return certificateFromPem(pem);
  } catch {
    throw new ConfigError('--root', `${path} holds no PEM certificate (pin the root.crt.pem of the PKI)`);
  }
}

export function runTokenVerify(input: TokenVerifyInput): TokenVerifyOutcome {
  const verifier = new TokenVerifier({
    root: loadRoot(input.rootPath),
    pinnedChecksum: input.checksum,
    clusterId: input.clusterId,
    ...(input.now ? { now: input.now } : {}),
  });
  try {
    return {
      valid: true,
      token: verifier.verify(input.token, input.minimum ? { minimum: input.minimum } : {}),
    };
  } catch (error) {
    if (!(error instanceof TokenRefusedError)) throw error;
    return { valid: false, code: error.code, reason: error.message };
  }
}

/** One JSON document for --json. */
export function outcomeJson(outcome: TokenVerifyOutcome, now: number): Record<string, unknown> {
  if (!outcome.valid) return outcome;
  const t = outcome.token;
  return {
    valid: true,
    cluster_id: t.clusterId,
    epoch: t.epoch,
    seq: t.seq,
    leader: t.leader,
    lease_end: t.leaseEnd,
    lease_remaining_ms: t.leaseEnd - now,
    iat: t.issuedAt,
    kid: t.kid,
    func_checksum: t.funcChecksum,
  };
}

export function outcomeText(outcome: TokenVerifyOutcome, now: number): string {
  if (!outcome.valid) return `refused [${outcome.code}]: ${outcome.reason}\n`;
  const t = outcome.token;
  return (
    `valid: cluster ${t.clusterId}, epoch ${t.epoch}, seq ${t.seq}, leader ${t.leader.name}\n` +
    `lease ends ${new Date(t.leaseEnd).toISOString()} (in ${t.leaseEnd - now} ms); signed by enclave key ${t.kid}\n`
  );
}
