// `enclave-elect healthcheck`: ask a local HTTP health endpoint, exit 0 only on a
// 2xx answer. The image has no curl; its HEALTHCHECK runs the same check from
// src/peer/admin/healthcheck.ts, which skips the CLI (10x less CPU per check).
import type { CommandModule } from 'yargs';
import { UsageError } from '../../../errors.ts';
import { checkHealth, DEFAULT_HEALTH_URL } from '../../../peer/admin/check-health.ts';

export interface HealthcheckOptions {
  url: string;
  'timeout-ms': number;
}

export { DEFAULT_HEALTH_URL };

export const healthcheckCommand: CommandModule<object, HealthcheckOptions> = {
  command: 'healthcheck',
  // describe: in ../index.ts, so help lists every command without loading it.
  builder: (y) =>
    y
      .option('url', {
        type: 'string',
        default: process.env.HEALTHCHECK_URL || DEFAULT_HEALTH_URL,
        defaultDescription: `$HEALTHCHECK_URL or ${DEFAULT_HEALTH_URL}`,
        describe: 'URL to GET; loopback only',
      })
      .option('timeout-ms', {
        type: 'number',
        default: 2000,
        describe: 'Give up after this many milliseconds',
      }),
  handler: async (args) => {
    if (!Number.isFinite(args['timeout-ms']) || args['timeout-ms'] <= 0) {
      throw new UsageError('--timeout-ms must be a positive number of milliseconds');
    }
    const result = await checkHealth(args.url, args['timeout-ms']);
    process.stdout.write(`${result.status} ${result.body}\n`);
  },
};
