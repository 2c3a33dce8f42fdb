// Two small rules of src/session/: which Sessions listings are read (a 200 with a JSON object only,
// members outside the given collections left out) and the line a successful logout leaves in the
// log. Both are seen through the module's exports: readListing and a Session's close().
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { readListing, Session } from '../../src/session/index.js';
import { scripted, json } from '../helpers/scripted-transport.js';

const SESSIONS = '/redfish/v1/SessionService/Sessions';

describe('readListing', () => {
  const listing = { Members: [{ '@odata.id': `${SESSIONS}/a1` }] };

  it('only a 200 is a listing, even with a listing\'s body', () => {
    expect(readListing(json(200, listing))).toEqual({ members: [`${SESSIONS}/a1`], mine: null });
    expect(readListing(json(404, listing))).toBeUndefined();
    expect(readListing(json(201, listing))).toBeUndefined();
  });

  it('a body that is not a JSON object is no listing', () => {
    expect(readListing(json(200, [listing]))).toBeUndefined();
    expect(readListing(json(200, null))).toBeUndefined();
  });

  it('members outside the collections, without a path, or not objects are left out', () => {
    const body = {
      Members: [{ '@odata.id': '/redfish/v1/AccountService/Accounts/1' }, {}, 'x', { '@odata.id': `${SESSIONS}/b2` }, null],
    };
    expect(readListing(json(200, body))).toEqual({ members: [`${SESSIONS}/b2`], mine: null });
    // the same member read against another collection: none of them
    expect(readListing(json(200, body), ['/redfish/v1/Other/'])).toEqual({ members: [], mine: null });
    // no Members at all: an empty list
    expect(readListing(json(200, {}))).toEqual({ members: [], mine: null });
  });
});

describe('logout', () => {
  it('a deleted session leaves one info line that names it', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const { transport } = scripted((r) => (r.method === 'DELETE' ? json(204) : json(201, {}, { location: `${SESSIONS}/z9`, 'x-auth-token': 'tok-z9' })));
    const session = new Session({ transport, credentials: { username: 'admin', password: 'pw' }, logger });
    await session.open();
    await session.close();
    const deleted = lines.filter((l) => l.msg === 'session deleted');
    expect(deleted.map((l) => [l.level, l.session])).toEqual([[30, `${SESSIONS}/z9`]]);
  });
});
