// The `peer` command's flags parsed without yargs. A peer is the process a
// container runs for days, and yargs costs it about 15 MB of RSS (issue 12);
// the flags are all strings from the settings tables, which node:util's
// parseArgs handles with the same rules: unknown flags and missing values are
// usage errors, a repeated flag arrives as a list. `--help` still goes to yargs.

import { UsageError } from '../../../errors.ts';
import { PEER_SETTINGS } from '../../../peer/config.ts';
import { ELECTION_SETTINGS } from '../../../peer/election/election-config.ts';
import { parseArgs } from '../../../platform/node-util.ts';

export type PeerOptions = Record<string, string | string[] | undefined>;

/** Every flag of `peer`, from the membership and election settings tables. */
export function peerFlags(): string[] {
  return [...Object.values(PEER_SETTINGS), ...Object.values(ELECTION_SETTINGS)].map((s) => s.flag);
}

/** Parse the arguments after `peer`; a repeated flag keeps every value, as yargs did. */
export function parsePeerArgv(argv: readonly string[]): PeerOptions {
  const options = Object.fromEntries(
    peerFlags().map((flag) => [flag, { type: 'string' as const, multiple: true as const }]),
  );
  let values: Record<string, string[] | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!, { cause: error });
  }
  return Object.fromEntries(
    Object.entries(values).map(([flag, list]) => [flag, list?.length === 1 ? list[0] : list]),
  );
}
