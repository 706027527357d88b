// Logic of `enclave-elect local`: start a LocalCluster, redraw the status table
// until Ctrl-C (or --duration), then stop everything.

import { LocalCluster, type LocalClusterOptions } from '../../../local/local-cluster.ts';
import { agreementOf } from '../../../orchestrator/status-report.ts';
import { renderStatus } from '../../../orchestrator/status-table.ts';

export interface LocalRunOptions extends LocalClusterOptions {
  /** Stop by itself after this long (ms); 0 = until Ctrl-C. */
  durationMs: number;
  refreshMs: number;
  json: boolean;
  out: NodeJS.WriteStream;
  err: NodeJS.WritableStream;
  /** Resolves when the user asks to stop (Ctrl-C). */
  interrupted: Promise<void>;
}

const CLEAR = '\x1b[H\x1b[2J';

export async function runLocal(options: LocalRunOptions): Promise<void> {
  const cluster = new LocalCluster(options);
  const say = (message: string) => options.err.write(`${message}\n`);
  let stopped = false;
  try {
    await cluster.start(say);
    const started = Date.now();
    const deadline =
      options.durationMs > 0 ? new Promise((r) => setTimeout(r, options.durationMs)) : undefined;
    const stop = Promise.race([options.interrupted, ...(deadline ? [deadline] : [])]).then(() => {
      stopped = true;
    });
    let lastSummary = '';
    while (!stopped) {
      const reports = await cluster.status();
      const table = renderStatus(reports, Date.now());
      const summary = table.trimEnd().split('\n').at(-1) ?? '';
      if (!options.json) {
        if (options.out.isTTY) {
          options.out.write(
            `${CLEAR}enclave-elect local: ${reports.length} peers, enclave ${cluster.enclaveUrl}, up ${Math.round((Date.now() - started) / 1000)} s (Ctrl-C stops)\n\n${table}`,
          );
        } else if (summary !== lastSummary) {
          options.out.write(`${new Date().toISOString()}\n${table}\n`);
        }
      }
      lastSummary = summary;
      await Promise.race([stop, new Promise((r) => setTimeout(r, options.refreshMs))]);
    }
    if (options.json) {
      const reports = await cluster.status();
      const { agreed, leader, epoch } = agreementOf(reports);
      options.out.write(
        `${JSON.stringify({ cluster: 'local', dir: cluster.dir, peers: reports, agreed, leader, epoch })}\n`,
      );
    }
  } finally {
    say('stopping the peers and the enclave ...');
    await cluster.stop();
    say(
      options.keep || options.dir
        ? `stopped; logs kept in ${cluster.dir}/logs`
        : 'stopped; removed the working directory',
    );
  }
}
