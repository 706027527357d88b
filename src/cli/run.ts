// The one yargs runner: builds the parser from the command modules, never lets
// yargs exit the process, and maps failures to exit codes (0 ok, 1 failure,
// 2 usage). Handlers throw; they never call process.exit.
import yargs, { type Argv } from 'yargs';
import { EnclaveElectError, UsageError } from '../errors.ts';
import { VERSION } from '../version.ts';
import { type AnyCommand, type CommandEntry, commandName, commands } from './commands/index.ts';
import { closest } from './suggest.ts';

const BIN = 'enclave-elect';
const HINT = `Run '${BIN} --help' for usage.`;

export interface CliIO {
  stderr: (text: string) => void;
}

const defaultIO: CliIO = { stderr: (text) => process.stderr.write(text) };

/**
 * The parser for `argv`. Only the command argv names is loaded; the others are
 * listed by name and description, which is all `--help` and suggestions need.
 */
async function buildParser(argv: string[]): Promise<Argv> {
  let parser = yargs(argv)
    .scriptName(BIN)
    // Options are read by their kebab-case names; no camelCase twins in errors.
    .parserConfiguration({ 'camel-case-expansion': false })
    .usage(
      `$0 <command> [options]\n\nLeader election for a cluster of containers: SWIM gossip over UDP and an attested (mock) enclave that signs the leader.`,
    )
    .version(VERSION)
    .alias('version', 'V')
    .help()
    .alias('help', 'h')
    .strict()
    // A default command instead of demandCommand, so a bad root flag is
    // reported as such rather than as a missing command.
    .command('$0', false, {}, () => {
      throw new UsageError('Name a command.');
    })
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message, error) => {
      // yargs calls this for parse errors (message set) and for handler errors.
      if (error) throw error;
      throw new UsageError(withSuggestion(message ?? 'invalid usage', argv));
    });
  const chosen = argv.find((arg) => !arg.startsWith('-'));
  for (const entry of commands) {
    const module = commandName(entry) === chosen ? await entry.load() : listedOnly(entry);
    parser = parser.command({ ...module, command: entry.command, describe: entry.describe });
  }
  return parser;
}

/** A command that argv does not run: named in help, never built or handled. */
function listedOnly(entry: CommandEntry): AnyCommand {
  return {
    command: entry.command,
    describe: entry.describe,
    handler: () => {
      throw new Error(`command '${commandName(entry)}' was not loaded`);
    },
  };
}

function commandNames(): string[] {
  return commands.map(commandName);
}

function withSuggestion(message: string, argv: string[]): string {
  const first = argv[0];
  if (first === undefined || first.startsWith('-') || !message.includes(`Unknown argument: ${first}`))
    return message;
  const guess = closest(first, commandNames());
  return guess ? `Unknown command '${first}'. Did you mean '${guess}'?` : `Unknown command '${first}'.`;
}

export async function runCli(argv: string[], io: CliIO = defaultIO): Promise<number> {
  try {
    await (await buildParser(argv)).parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CliIO): number {
  if (error instanceof UsageError) {
    io.stderr(`${BIN}: ${error.message}\n${HINT}\n`);
    return error.exitCode;
  }
  if (error instanceof EnclaveElectError) {
    io.stderr(`${BIN}: error [${error.code}]: ${error.message}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr(`${BIN}: unexpected error: ${message}\n`);
  return 1;
}
