// doctor's last steps, on either path: log in as a run would, read the session table, delete the
// session. A full table is read with Basic credentials (no session needed) to say who fills it.
import { SessionLimitError } from '../../errors.js';
import type { ConnectedClient } from '../client.js';
import { openSession, type ConnectOptions } from '../open-session.js';
import { listSessions, type SessionRow } from '../session-table.js';
import type { Checklist } from './checks.js';

/** iLO's REST session cap is published nowhere; from this many, a table is called "filling". */
export const FILLING_AT = 8;
/** A session of another client idle longer than this looks left behind. */
const STALE_MS = 30 * 60_000;

export async function checkLogin(options: ConnectOptions, list: Checklist): Promise<void> {
  let client;
  try {
    client = await openSession(options);
  } catch (error) {
    if (error instanceof SessionLimitError) {
      list.fail('login', error, options.url ? `${command(options)} --auth basic sessions prune --all (lists who fills it, needs no session; add --yes to delete)` : 'sessions expire when idle (30 min by default); an iLO reset ends them all; or reach the iLO over the network and prune with --auth basic');
      if (options.url && options.username) await tableWithBasic(options, list);
      return;
    }
    list.fail('login', error);
    return;
  }
  try {
    list.ok('login', `${client.connection?.login ?? 'logged in'}; session ${client.session.path ?? '(none)'}`);
    await checkTable(client, options, list);
  } finally {
    try {
      await client.close();
      if (options.auth !== 'basic') list.ok('logout', 'the session was deleted');
    } catch (error) {
      list.fail('logout', error, 'the session stays until its idle timeout: ilo-agent sessions list shows it');
    }
  }
}

async function checkTable(client: ConnectedClient, options: ConnectOptions, list: Checklist): Promise<void> {
  let rows: SessionRow[];
  try {
    rows = await listSessions(client);
  } catch (error) {
    list.warn('sessions', `cannot list the sessions: ${(error as Error).message}`);
    return;
  }
  judgeTable(rows, options, list);
}

async function tableWithBasic(options: ConnectOptions, list: Checklist): Promise<void> {
  try {
    const client = await openSession({ ...options, auth: 'basic', guardian: false });
    try {
      judgeTable(await listSessions(client), options, list, true);
    } finally {
      await client.close();
    }
  } catch (error) {
    list.warn('sessions', `cannot list the sessions with Basic credentials either: ${(error as Error).message}`);
  }
}

function judgeTable(rows: SessionRow[], options: ConnectOptions, list: Checklist, full = false): void {
  const others = rows.filter((r) => !r.ours);
  const byKind = new Map<string, number>();
  for (const r of others) byKind.set(`${r.user ?? '?'}/${r.tag ?? '?'}`, (byKind.get(`${r.user ?? '?'}/${r.tag ?? '?'}`) ?? 0) + 1);
  const kinds = [...byKind].map(([k, n]) => `${n} × ${k}`).join(', ');
  const now = Date.now();
  const stale = others.filter((r) => r.accessTime && now - Date.parse(r.accessTime) > STALE_MS);
  const found = `${full ? 'the table is full: ' : ''}${others.length} other session${others.length === 1 ? '' : 's'}${kinds ? ` (${kinds})` : ''}${stale.length ? `; ${stale.length} idle for over ${STALE_MS / 60_000} min` : ''}`;
  if (full || others.length >= FILLING_AT || stale.length > 0) {
    const worst = [...byKind].sort((a, b) => b[1] - a[1])[0]?.[0]?.split('/')[0];
    const filter = worst && worst !== '?' ? `--user ${worst}` : '--all';
    const basic = options.url ? ' --auth basic' : '';
    list.warn('sessions', found, `see them with ${command(options)} sessions list; remove what other tools left with ${command(options)}${basic} sessions prune ${filter} --older-than 30m --yes`);
  } else {
    list.ok('sessions', found);
  }
}

/** The start of a command line that reaches the same iLO (never with a secret). */
function command(options: ConnectOptions): string {
  return options.url ? `ilo-agent --url ${options.url}${options.username ? ` -u ${options.username}` : ''}` : 'ilo-agent';
}
