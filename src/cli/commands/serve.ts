// `ilo-agent serve`: hold one session and serve local clients (`--agent SOCKET` or
// ILO_AGENT_SOCKET) over a Unix socket (owner only) or a Windows named pipe. Prints one JSON line
// on stdout when ready; stops cleanly on SIGTERM, deleting its session.
import { Command, Option } from 'commander';
import { checkListenPath, defaultSocketPath, startAgentServer, systemdNotifier } from '../../agent/index.js';
import type { CommandContext } from '../context.js';
import { untilStopped } from '../signals.js';
import { parseWholeNumber } from '../option-parsers.js';

export function serveCommand(ctx: CommandContext): Command {
  return new Command('serve')
    .description('hold one session and serve local ilo-agent invocations (--agent SOCKET / ILO_AGENT_SOCKET)')
    .addOption(new Option('--socket <path>', 'where to listen (mode 0600; refused in a directory another user can change)').default(undefined, '/run/ilo-agent.sock for root, else $XDG_RUNTIME_DIR/ilo-agent-UID.sock, else a 0700 directory of its own in the temporary directory'))
    .option('--max-inflight <n>', 'requests sent to the iLO at once', parseWholeNumber(1, 64), 4)
    .option('--max-queue <n>', 'requests waiting beyond those before new ones are refused', parseWholeNumber(0, 1_000_000), 1000)
    .action(async (flags: { socket?: string; maxInflight: number; maxQueue: number }, command: Command) => {
      // SIGTERM is how a service is stopped: exit 0 then, after the session is deleted.
      ctx.lifecycle.signalEndsNormally();
      const log = ctx.logger('info');
      const socketPath = flags.socket ?? defaultSocketPath();
      // A path another user holds or could change is refused before the login, not after it.
      await checkListenPath(socketPath);
      const systemd = systemdNotifier(ctx.env);
      // A service manager that does not hear READY=1 kills the service at its start timeout: say why.
      const notify = (state: string) =>
        systemd.notify(state).catch((error: unknown) => log.warn({ err: (error as Error).message }, `could not tell systemd ${state.split('\n')[0]}`));
      await ctx.connector.withOwnSession(command, async (client) => {
        const server = await startAgentServer({
          client,
          socketPath,
          maxInFlight: flags.maxInflight,
          maxQueue: flags.maxQueue,
          logger: log.child({ component: 'serve' }),
        });
        ctx.io.stdout.write(`${JSON.stringify({ socket: server.socketPath, session: client.session.path, transport: client.transportDescription })}\n`);
        // The session exists and the socket listens: now units ordered after this one may start.
        await notify(`READY=1\nSTATUS=serving ${server.socketPath}`);
        const stop = ctx.lifecycle.signal;
        await untilStopped(stop);
        await notify('STOPPING=1');
        log.info({ served: server.served }, 'stopping: deleting the session');
        await server.close();
      });
    });
}
