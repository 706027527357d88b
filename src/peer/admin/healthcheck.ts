// The container HEALTHCHECK entry point (the image runs its compiled .js): exit 0 when the loopback health URL
// ($HEALTHCHECK_URL, default the peer's /healthz) answers 2xx, 1 otherwise.
// It does what `enclave-elect healthcheck` does, without the CLI: Docker runs
// it every few seconds in every container, and loading yargs and every
// command cost 0.4 s of CPU per check against 0.04 s for this file — with
// a dozen containers that was most of a core on a 2-core host.
import { checkHealth, DEFAULT_HEALTH_URL } from './check-health.ts';

try {
  const result = await checkHealth(process.env.HEALTHCHECK_URL || DEFAULT_HEALTH_URL, 2000);
  process.stdout.write(`${result.status} ${result.body}\n`);
} catch (error) {
  process.stderr.write(`unhealthy: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
