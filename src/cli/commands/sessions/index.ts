// `ilo-agent sessions`: see the iLO's session table and clean up what other tools left behind.
import { Command, Option } from 'commander';
import { checkPath, isOurs, isSessionPath, listSessions, type SessionRow } from '../../../client/index.js';
import { DOCUMENTED_SESSIONS_PATH } from '../../../redfish/index.js';
import { PartialFailureError, RedfishError, UsageError } from '../../../errors.js';
import type { CommandContext } from '../../context.js';
import { parseDuration } from '../../option-parsers.js';
import { formatTable, outputFormat, printResult } from '../../output.js';

const COLUMNS = ['id', 'user', 'tag', 'ip', 'loginTime', 'accessTime', 'expires', 'ours'] as const;

export function sessionsCommand(ctx: CommandContext): Command {
  const sessions = new Command('sessions').description('list, delete and prune the iLO\'s sessions (all users, all kinds)');

  sessions
    .command('list')
    .description('every session with user, tag, login and access times; ours marked')
    .action(async (_flags: unknown, command: Command) => {
      const rows = await ctx.connector.withClient(command, listSessions);
      show(ctx, command, rows);
    });

  sessions
    .command('delete')
    .description('delete one session by its Id (as listed) or path')
    .argument('<id>', 'a session Id, or its /redfish/v1/SessionService/Sessions/... path')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const path = sessionPath(id);
      const result = await ctx.connector.withClient(command, async (client) => {
        if (client.session.path && path.replace(/\/+$/, '').toLowerCase() === client.session.path.replace(/\/+$/, '').toLowerCase()) {
          throw new UsageError('that is the session of this very command; it is deleted when the command ends');
        }
        await client.delete(path);
        return { deleted: path };
      });
      printResult(ctx.io, outputFormat(command, ctx.io), result);
    });

  sessions
    .command('prune')
    .description('delete the sessions that match (never our own); shows what it would delete unless --yes')
    .option('--user <name>', 'only sessions of this user (case-insensitive)')
    .option('--tag <tag>', 'only sessions of this kind: REST, RESTHost, Web UI, SSH, ...')
    .addOption(new Option('--older-than <duration>', 'only sessions logged in longer ago than this (e.g. 30m, 2h)').argParser(parseDuration))
    .addOption(new Option('--idle-for <duration>', 'only sessions not used for this long, by their AccessTime (e.g. 10m); a busy session is kept').argParser(parseDuration))
    .option('--all', 'match every session but ours (needed when no filter is given)')
    .option('--yes', 'delete them (without it, nothing is deleted)')
    .action(async (flags: { user?: string; tag?: string; olderThan?: number; idleFor?: number; all?: boolean; yes?: boolean }, command: Command) => {
      if (!flags.all && flags.user === undefined && flags.tag === undefined && flags.olderThan === undefined && flags.idleFor === undefined) {
        throw new UsageError('say which sessions to prune: --user, --tag, --older-than, --idle-for, or --all');
      }
      const result = await ctx.connector.withClient(command, async (client) => {
        const rows = await listSessions(client);
        // "Now" is the iLO's clock, read from our own fresh session, not this machine's.
        const ownAccess = rows.find((r) => isOurs(r, client))?.accessTime;
        const now = ownAccess ? Date.parse(ownAccess) : Date.now();
        const matches = rows.filter(
          (r) =>
            !isOurs(r, client) &&
            (flags.user === undefined || r.user?.toLowerCase() === flags.user.toLowerCase()) &&
            (flags.tag === undefined || r.tag?.toLowerCase() === flags.tag.toLowerCase()) &&
            (flags.olderThan === undefined || (r.loginTime !== null && now - Date.parse(r.loginTime) > flags.olderThan)) &&
            (flags.idleFor === undefined || (r.accessTime !== null && now - Date.parse(r.accessTime) > flags.idleFor)),
        );
        if (!flags.yes) return { dryRun: true, sessions: matches, deleted: [] as SessionRow[], failed: [] as Array<{ id: string; error: string }> };
        const deleted: SessionRow[] = [];
        const failed: Array<{ id: string; error: string }> = [];
        for (const row of matches) {
          try {
            await client.delete(row.path);
            deleted.push(row);
          } catch (error) {
            if (error instanceof RedfishError && error.status === 404) deleted.push(row); // gone already
            else failed.push({ id: row.id, error: (error as Error).message });
          }
        }
        return { dryRun: false, sessions: matches, deleted, failed };
      });
      const format = outputFormat(command, ctx.io);
      if (format === 'pretty') {
        const heading = result.sessions.length === 0 ? 'no session matches' : result.dryRun ? `would delete ${result.sessions.length} session(s):` : `deleted ${result.deleted.length} session(s):`;
        ctx.io.stdout.write(`${heading}\n${result.sessions.length > 0 ? formatTable(result.dryRun ? result.sessions : result.deleted, COLUMNS) : ''}`);
      } else {
        printResult(ctx.io, format, result);
      }
      if (result.dryRun && result.sessions.length > 0) {
        ctx.io.stderr.write(`ilo-agent: nothing deleted; run again with --yes to delete ${result.sessions.length} session(s)\n`);
      }
      if (result.failed.length > 0) {
        throw new PartialFailureError(`${result.failed.length} session(s) could not be deleted: ${result.failed.map((f) => `${f.id}: ${f.error}`).join('; ')}`);
      }
    });

  return sessions;
}

function show(ctx: CommandContext, command: Command, rows: SessionRow[]): void {
  const format = outputFormat(command, ctx.io);
  if (format === 'pretty') ctx.io.stdout.write(formatTable(rows, COLUMNS));
  else printResult(ctx.io, format, rows);
}

/**
 * An Id as listed (already %-encoded), a raw Id, or a full path; checked before the login, as
 * the iLO will read it: exactly one session, never `..`, the collection, or something else.
 */
function sessionPath(id: string): string {
  const given = id.startsWith('/') ? 'path' : 'Id';
  const path = given === 'path' ? id : `${DOCUMENTED_SESSIONS_PATH}/${/%[0-9a-f]{2}/i.test(id) ? id : encodeURIComponent(id)}`;
  let why = 'it does not name one session under /redfish/v1/SessionService/Sessions';
  try {
    checkPath(path);
    if (id !== '' && isSessionPath(path)) return path;
  } catch (error) {
    why = (error as Error).message;
  }
  throw new UsageError(`not a session ${given}: ${JSON.stringify(id)} (${why})`);
}
