// The one list of commands. Commands translate argv into calls; they never exit the process.
import { Command, Option } from 'commander';
import type { LevelWithSilent } from 'pino';
import type { Logger } from '../log/logger.js';
import { DEFAULT_TIMEOUT_MS } from '../client/index.js';
import { applyCommand } from './commands/apply.js';
import { appAccountCommand } from './commands/appaccount.js';
import { batchCommand } from './commands/batch.js';
import { completionCommand, manCommand } from './commands/completion.js';
import { captureCommand } from './commands/capture.js';
import { crawlCommand } from './commands/crawl.js';
import { doctorCommand } from './commands/doctor.js';
import { getCommand } from './commands/get.js';
import { infoCommand } from './commands/info.js';
import { listCommand } from './commands/list.js';
import { rawAliasCommands } from './commands/raw-aliases.js';
import { rawCommand } from './commands/raw.js';
import { sessionsCommand } from './commands/sessions/index.js';
import { serveCommand } from './commands/serve.js';
import { setCommand } from './commands/set.js';
import { simulateCommand } from './commands/simulate.js';
import { waitCommand } from './commands/wait.js';
import { createConnector, type Connector, type Io } from './connection.js';
import type { CommandContext } from './context.js';
import { documentAll } from './help/commands.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, type Lifecycle } from './lifecycle.js';
import { parseTimeLimit } from './option-parsers.js';

const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** How the CLI gets its logger; main.ts's loads pino only at the first line due. */
export type LoggerFactory = (level: LevelWithSilent, options: { pretty?: boolean }) => Logger;

/** `createLogger` is main.ts's: it decides how pino is loaded (on first use, in the bundle). */
/**
 * `connector` replaces how commands reach the iLO (default: sessions from the flags and ILO_*), so
 * a command can be run in-process by a test with a client of its own.
 */
export function buildProgram(io: Io, env: NodeJS.ProcessEnv, lifecycle: Lifecycle, createLogger: LoggerFactory, connector?: Connector): Command {
  const program = new Command('ilo-agent')
    .description('Redfish for HPE iLO, in-band (CHIF) or over HTTPS, that never leaves a session behind')
    .version(process.env.npm_package_version ?? '0.1.0')
    .option('--url <url>', 'the iLO, https://host[:port] (env ILO_URL); without it, the local iLO in-band (CHIF on iLO 5/6, the vNIC on iLO 7; see --inband)')
    .option('--agent <socket>', 'send the work through a running `ilo-agent serve` (env ILO_AGENT_SOCKET) instead of logging in')
    .addOption(new Option('--inband <path>', 'without --url: auto (HPE\'s DetectILO picks CHIF on iLO 5/6, the vNIC on iLO 7), chif or vnic').choices(['auto', 'chif', 'vnic']).env('ILO_INBAND'))
    .option('--vnic-url <url>', 'in-band on the vNIC: the iLO\'s address (env ILO_VNIC_URL; default https://16.1.15.1)')
    .option('--no-app-account', 'on the vNIC: log in with --username and a password, never with iLOrest\'s application account')
    .addOption(new Option('--pin <sha256:hex>', 'vNIC: accept exactly the iLO certificate of this SHA-256 fingerprint').env('ILO_PIN'))
    .addOption(new Option('--tls-servername <name>', 'vNIC: the name iLO\'s certificate carries, verified with --ca-cert').env('ILO_TLS_SERVERNAME'))
    .option('--chif-lib <path>', 'in-band: HPE\'s CHIF library to load (env ILO_CHIF_LIB; default: HPE\'s search order)')
    .option('-u, --username <name>', 'iLO user (env ILO_USERNAME); in-band only needed when the security state asks')
    .option('-p, --password <password>', 'iLO password: visible to other users, prefer ILO_PASSWORD, --password-file or --password-stdin')
    .option('--password-file <file>', 'read the password from FILE (first line)')
    .option('--password-stdin', 'read the password from standard input (first line)')
    .addOption(new Option('--auth <kind>', 'session: one session, deleted at the end; basic: no session, each request carries the credentials (the way in when the session table is full)').choices(['session', 'basic']).env('ILO_AUTH'))
    .addOption(new Option('--ca-cert <file>', 'PEM file of the CA that signed the iLO\'s certificate').env('ILO_CA_CERT'))
    .option('--insecure', 'do not verify the iLO\'s certificate (warns)')
    .option('--no-guardian', 'start no guardian process (which deletes the session if ilo-agent is killed with SIGKILL or crashes)')
    .addOption(new Option('--timeout <duration>', 'time for one request (connecting: at most 10 s)').argParser(parseTimeLimit).default(DEFAULT_TIMEOUT_MS, '60s'))
    .addOption(
      new Option('--shutdown-timeout <duration>', 'time allowed to delete the session when stopping').argParser(parseTimeLimit).default(DEFAULT_SHUTDOWN_TIMEOUT_MS, '10s'),
    )
    .addOption(new Option('--log-level <level>', 'log level on stderr (default warn; serve and simulate: info)').choices(LOG_LEVELS))
    .addOption(new Option('--output <format>', 'json, or pretty for people (default: pretty on a terminal, json otherwise)').choices(['json', 'pretty']));

  let logger: Logger | undefined;
  const getLogger = (defaultLevel = 'warn') =>
    (logger ??= createLogger((program.opts<{ logLevel?: LevelWithSilent }>().logLevel ?? defaultLevel) as LevelWithSilent, { pretty: io.stderr.isTTY === true }));

  const ctx: CommandContext = { io, lifecycle, env, logger: getLogger, connector: connector ?? createConnector({ io, env, logger: () => getLogger(), lifecycle }) };
  for (const command of [getCommand(ctx), rawCommand(ctx), batchCommand(ctx), setCommand(ctx), applyCommand(ctx), captureCommand(ctx), listCommand(ctx), sessionsCommand(ctx), infoCommand(ctx), doctorCommand(ctx), crawlCommand(ctx), waitCommand(ctx), serveCommand(ctx), appAccountCommand(ctx), simulateCommand(ctx), ...rawAliasCommands(ctx), completionCommand(ctx), manCommand(ctx)]) {
    program.addCommand(command);
  }
  documentAll(program);
  configureAll(program, io);
  return program;
}

/** Errors become exceptions (main.ts decides the exit) and all output goes through io. */
function configureAll(command: Command, io: Io): void {
  command
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)')
    // Global options work after the command too: its --help lists them.
    .configureHelp({ showGlobalOptions: true });
  command.commands.forEach((sub) => configureAll(sub, io));
}
