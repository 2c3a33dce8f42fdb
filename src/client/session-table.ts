// Reading the iLO's session table: every session of every user and kind, ours marked.
import { RedfishError } from '../errors.js';
import { DOCUMENTED_SESSIONS_PATH, hpeOem, isMySession } from '../redfish/index.js';
import type { ConnectedClient } from './client.js';
import { mapLimit } from './parallel.js';

export interface SessionRow {
  id: string;
  path: string;
  user: string | null;
  tag: string | null;
  type: string | null;
  ip: string | null;
  loginTime: string | null;
  accessTime: string | null;
  expires: string | null;
  ours: boolean;
}

const samePath = (a: string | null, b: string | null) => !!a && !!b && a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();

export async function listSessions(client: ConnectedClient): Promise<SessionRow[]> {
  const paths = await client.members(DOCUMENTED_SESSIONS_PATH);
  const rows = await mapLimit(paths, 4, async (path: string): Promise<SessionRow | undefined> => {
    let body: Record<string, unknown>;
    try {
      body = await client.get(path);
    } catch (error) {
      if (error instanceof RedfishError && error.status === 404) return undefined; // ended meanwhile
      throw error;
    }
    const hpe = hpeOem(body) ?? {};
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    return {
      id: str(body.Id) ?? path.replace(/\/+$/, '').split('/').pop() ?? path,
      path,
      user: str(body.UserName),
      tag: str(hpe.UserTag),
      type: str(hpe.UserType),
      ip: str(hpe.UserIP),
      loginTime: str(hpe.LoginTime),
      accessTime: str(hpe.AccessTime),
      expires: str(hpe.UserExpires),
      ours: samePath(path, client.session.path) || isMySession(body),
    };
  });
  return rows.filter((r): r is SessionRow => r !== undefined);
}

export function isOurs(row: SessionRow, client: ConnectedClient): boolean {
  return row.ours || samePath(row.path, client.session.path);
}

