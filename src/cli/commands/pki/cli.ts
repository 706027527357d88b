// `enclave-elect pki init --out DIR [--force]`: create the mock attestation
// PKI (root CA + attestation signer). Peers pin DIR/root.crt.pem; the enclave
// reads the attestation key and certificate.
import type { Argv, CommandModule } from 'yargs';
import { runPkiInit } from '../../../enclave/pki-init.ts';
import { UsageError } from '../../../errors.ts';

export interface PkiInitOptions {
  out: string;
  force: boolean;
  'if-missing': boolean;
  publish: string | undefined;
  join: string | undefined;
  json: boolean;
}

const initCommand: CommandModule<object, PkiInitOptions> = {
  command: 'init',
  describe: 'Create a mock attestation root CA and an attestation signing certificate under it',
  builder: (y) =>
    y
      .option('out', {
        type: 'string',
        default: process.env.PKI_DIR ?? '',
        defaultDescription: '$PKI_DIR',
        describe: 'Directory to write root.crt.pem, root.key.pem, attestation.crt.pem, attestation.key.pem',
      })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'Replace existing keys and certificates',
      })
      .option('if-missing', {
        type: 'boolean',
        default: false,
        describe: 'Keep a complete existing PKI and exit 0 (a one-shot init container can run every time)',
      })
      .option('publish', {
        type: 'string',
        default: process.env.PKI_PUBLISH_DIR,
        defaultDescription: '$PKI_PUBLISH_DIR',
        describe: 'Also copy root.crt.pem here, for peers to pin without access to the keys',
      })
      .option('join', {
        type: 'string',
        default: process.env.PKI_JOIN_DIR,
        defaultDescription: '$PKI_JOIN_DIR',
        describe:
          'Also create the cluster join secret DIR/join.key (kept if present): members prove it to be admitted; mount it only into the enclave and the peers',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON document' }),
  handler: (args) => {
    if (!args.out) throw new UsageError('pki init needs --out DIR (or PKI_DIR)');
    if (args.force && args['if-missing']) {
      throw new UsageError('--force replaces the PKI and --if-missing keeps it: pass one of them');
    }
    const result = runPkiInit(args.out, {
      force: args.force,
      ifMissing: args['if-missing'],
      ...(args.publish ? { publish: args.publish } : {}),
      ...(args.join ? { join: args.join } : {}),
    });
    if (args.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    const what = result.created
      ? `Wrote ${result.files.length} files to ${result.dir} (keys mode 0600).`
      : `Kept the existing PKI in ${result.dir}.`;
    const published = result.published ? `\nPublished the root for peers: ${result.published}` : '';
    const join = result.join_secret ? `\nCluster join secret: ${result.join_secret}` : '';
    process.stdout.write(
      `${what}\nPin the root: ${result.root_certificate}${published}\nRoot SHA-256 fingerprint: ${result.root_fingerprint}${join}\n`,
    );
  },
};

export const pkiCommand: CommandModule<object, object> = {
  command: 'pki',
  // describe: in ../index.ts, so help lists every command without loading it.
  builder: (y: Argv) => y.command(initCommand).demandCommand(1, 'Name a pki subcommand: init'),
  handler: () => {},
};
