// The one list of commands. Commands translate argv into calls; they never exit the process.
import { Command, Option } from 'commander';
import { createLogger, LOG_LEVELS, type Logger } from '../log/logger.js';
import { simulateCommand } from './commands/simulate.js';

export interface ProgramIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export function buildProgram(io: ProgramIo = { stdout: process.stdout, stderr: process.stderr }): Command {
  const program = new Command('ilo-agent')
    .description('Redfish for HPE iLO, in-band (CHIF) or over HTTPS, that never leaves a session behind')
    .version(process.env.npm_package_version ?? '0.1.0')
    .addOption(new Option('--log-level <level>', 'log level on stderr').choices(LOG_LEVELS).default('info'))
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)');

  let logger: Logger | undefined;
  const getLogger = () => (logger ??= createLogger(program.opts<{ logLevel: 'info' }>().logLevel));

  for (const command of [simulateCommand({ logger: getLogger, stdout: io.stdout })]) {
    program.addCommand(command.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) }));
  }
  return program;
}
