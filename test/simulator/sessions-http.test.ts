// Session behaviour as a Redfish client sees it over HTTPS (docs/reference/ilo-sessions.md §1–§4).
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { client, messageIds } from '../helpers/https-client.js';
import { until } from '../helpers/wait.js';

const open: Array<{ sim: Simulator; close(): void }> = [];
async function sim(options: SimulatorOptions = {}) {
  const s = await startSimulator({ loginFailureDelayMs: 0, ...options });
  const c = client(s);
  open.push({ sim: s, close: c.close });
  return { s, c };
}
afterEach(async () => {
  for (const o of open.splice(0)) {
    o.close();
    await o.sim.close();
  }
});

const SESSIONS = '/redfish/v1/SessionService/Sessions';

describe('login', () => {
  it('answers 201 with a 32-hex token, an absolute Location, a Link and the session body', async () => {
    const { s, c } = await sim();
    const { res, token, location } = await c.login();
    expect(res.status).toBe(201);
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(location).toMatch(new RegExp(`^${s.url}${SESSIONS}/administrator00000000[0-9a-f]{8}[0-9a-f]{7,8}$`));
    const path = new URL(location).pathname;
    expect(res.headers.link).toBe(`<${path}>; rel=self`);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.json['@odata.id']).toBe(path);
    expect(res.json.UserName).toBe('Administrator');
    expect(res.json.Oem.Hpe).toMatchObject({ MySession: false, UserTag: 'REST', UserType: 'Local', UserIP: '127.0.0.1' });
    expect(res.json.Oem.Hpe.Privileges).toBeUndefined();
    // the Id embeds the login time
    const id = path.split('/').pop() as string;
    const epoch = parseInt(id.slice('administrator00000000'.length, 'administrator00000000'.length + 8), 16);
    expect(new Date(epoch * 1000).toISOString().replace('.000Z', 'Z')).toBe(res.json.Oem.Hpe.LoginTime);
    expect(s.sessions()).toHaveLength(1);
    expect(s.sessions()[0]).toMatchObject({ user: 'Administrator', tag: 'REST', transport: 'https', transient: false });
  });

  it.each(['/redfish/v1/SessionService/Sessions/', '/redfish/v1/Sessions', '/redfish/v1/Sessions/', '/redfish/v1/sessionservice/sessions'])(
    'accepts the session POST at %s',
    async (path) => {
      const { s, c } = await sim();
      const res = await c.call('POST', path, { body: { UserName: 'Administrator', Password: 'password' } });
      expect(res.status).toBe(201);
      expect(s.sessions()).toHaveLength(1);
    },
  );

  it('refuses bad credentials with 401 UnauthorizedLoginAttempt and creates nothing', async () => {
    const { s, c } = await sim();
    const wrongPassword = await c.login('Administrator', 'nope');
    const unknownUser = await c.login('ghost', 'password');
    for (const { res } of [wrongPassword, unknownUser]) {
      expect(res.status).toBe(401);
      expect(messageIds(res.json)).toEqual(['iLO.2.30.UnauthorizedLoginAttempt']);
      expect(res.headers['x-auth-token']).toBeUndefined();
      expect(res.text).not.toContain('nope');
    }
    expect(s.sessions()).toHaveLength(0);
  });

  it('delays refused logins after the allowed number of failures, and not before', async () => {
    // Shown by order, not by a stopwatch: a delayed refusal is still pending after later logins' round trips.
    const { s, c } = await sim({ loginFailureDelayMs: 60_000, loginFailuresBeforeDelay: 1 });
    expect((await c.login('Administrator', 'bad')).res.status).toBe(401); // the first: at once
    const logins = s.state().counters.logins;
    let secondDone = false;
    const second = c.login('Administrator', 'bad').then(
      () => (secondDone = true),
      () => (secondDone = true),
    );
    await until(() => s.state().counters.logins === logins + 1, 'the second refused login arrived');
    // a good login is answered meanwhile, and resets the count: the next refusal comes at once
    expect((await c.login()).res.status).toBe(201);
    expect((await c.login('Administrator', 'bad')).res.status).toBe(401);
    expect(secondDone).toBe(false);
    await s.close();
    await second;
  });

  it('answers 400 for a malformed body or missing credentials', async () => {
    const { s, c } = await sim();
    const malformed = await c.call('POST', SESSIONS, { rawBody: '{"UserName": ' });
    expect(malformed.status).toBe(400);
    expect(messageIds(malformed.json)).toEqual(['Base.1.18.MalformedJSON']);
    const missing = await c.call('POST', SESSIONS, { body: { UserName: 'Administrator' } });
    expect(missing.status).toBe(400);
    expect(missing.json.error['@Message.ExtendedInfo']).toEqual([{ MessageId: 'Base.1.18.PropertyMissing', MessageArgs: ['Password'] }]);
    expect(s.sessions()).toHaveLength(0);
  });

  it.each([503, 403] as const)('answers %s SessionLimitExceeded at the cap', async (limitStatus) => {
    const { s, c } = await sim({ maxSessions: 2, limitStatus });
    expect((await c.login()).res.status).toBe(201);
    expect((await c.login()).res.status).toBe(201);
    const third = await c.login();
    expect(third.res.status).toBe(limitStatus);
    expect(messageIds(third.res.json)).toEqual(['Base.1.18.SessionLimitExceeded']);
    expect(third.res.headers['x-auth-token']).toBeUndefined();
    expect(s.sessions()).toHaveLength(2);
  });

  it('shares one table between users', async () => {
    const { s, c } = await sim({ maxSessions: 2, users: { Administrator: 'password', operator: 'op-pass' } });
    expect((await c.login('operator', 'op-pass')).res.status).toBe(201);
    expect((await c.login()).res.status).toBe(201);
    expect((await c.login('operator', 'op-pass')).res.status).toBe(503);
    expect(s.sessions().map((x) => x.user).sort()).toEqual(['Administrator', 'operator']);
    expect(s.sessions().find((x) => x.user === 'operator')?.id).toMatch(/^operator00000000/);
  });
});

describe('using and ending a session', () => {
  it('accepts the token, then DELETE answers 200 Success and the token is dead', async () => {
    const { s, c } = await sim();
    const { token, location } = await c.login();
    const path = new URL(location).pathname;
    expect((await c.call('GET', '/redfish/v1/Systems/1', { token })).status).toBe(200);
    const del = await c.call('DELETE', path, { token });
    expect(del.status).toBe(200);
    expect(messageIds(del.json)).toEqual(['Base.1.18.Success']);
    expect(s.sessions()).toHaveLength(0);
    const after = await c.call('GET', '/redfish/v1/Systems/1', { token });
    expect(after.status).toBe(401);
    expect(messageIds(after.json)).toEqual(['Base.1.18.NoValidSession']);
    expect(after.headers['www-authenticate']).toBeUndefined();
  });

  it('answers 401 NoValidSession for unknown tokens and missing credentials, no WWW-Authenticate', async () => {
    const { c } = await sim();
    for (const options of [{}, { token: '0'.repeat(32) }, { basic: ['Administrator', 'wrong'] as [string, string] }]) {
      const res = await c.call('GET', '/redfish/v1/Systems/1', options);
      expect(res.status).toBe(401);
      expect(res.json).toEqual({
        error: {
          code: 'iLO.0.10.ExtendedInfo',
          message: 'See @Message.ExtendedInfo for more information.',
          '@Message.ExtendedInfo': [{ MessageId: 'Base.1.18.NoValidSession' }],
        },
      });
      expect(res.headers['www-authenticate']).toBeUndefined();
    }
  });

  it('answers 404 ResourceMissingAtURI for a GET of a deleted session', async () => {
    const { c } = await sim();
    const first = await c.login();
    const second = await c.login();
    const path = new URL(first.location).pathname;
    await c.call('DELETE', path, { token: first.token });
    const res = await c.call('GET', path, { token: second.token });
    expect(res.status).toBe(404);
    expect(res.json.error['@Message.ExtendedInfo']).toEqual([{ MessageId: 'Base.1.18.ResourceMissingAtURI', MessageArgs: [path] }]);
    // deleting it again is a 404 too: a client must treat that as "gone"
    expect((await c.call('DELETE', path, { token: second.token })).status).toBe(404);
  });

  it('lets a session be deleted with Basic credentials, and by another session', async () => {
    const { s, c } = await sim();
    const a = await c.login();
    const b = await c.login();
    expect((await c.call('DELETE', new URL(a.location).pathname, { basic: ['Administrator', 'password'] })).status).toBe(200);
    expect((await c.call('DELETE', new URL(b.location).pathname + '/', { token: b.token })).status).toBe(200);
    expect(s.sessions()).toHaveLength(0);
  });

  it('shows Privileges only on the caller’s own session, and MySession on the collection', async () => {
    const { c } = await sim();
    const mine = await c.login();
    const other = await c.login();
    const minePath = new URL(mine.location).pathname;
    const otherPath = new URL(other.location).pathname;
    const own = await c.call('GET', minePath, { token: mine.token });
    expect(own.json.Oem.Hpe.MySession).toBe(true);
    expect(Object.keys(own.json.Oem.Hpe.Privileges)).toContain('iLOConfigPriv');
    const theirs = await c.call('GET', otherPath, { token: mine.token });
    expect(theirs.json.Oem.Hpe.MySession).toBe(false);
    expect(theirs.json.Oem.Hpe.Privileges).toBeUndefined();
    const collection = await c.call('GET', SESSIONS, { token: mine.token });
    expect(collection.json.Oem.Hpe.Links.MySession['@odata.id']).toBe(minePath);
    expect(collection.json.Members.map((m: { '@odata.id': string }) => m['@odata.id']).sort()).toEqual([minePath, otherPath].sort());
    expect(collection.json['Members@odata.count']).toBe(2);
    expect(collection.json.Description).toBe('Manager User Sessions');
  });

  it('maintains AccessTime and UserExpires as a sliding window', async () => {
    let now = Date.UTC(2025, 5, 23, 20, 7, 13);
    const { c } = await sim({ clock: () => now, sessionTimeoutMs: 30 * 60_000 });
    const { token, location } = await c.login();
    const path = new URL(location).pathname;
    now += 10 * 60_000;
    const res = await c.call('GET', path, { token });
    expect(res.json.Oem.Hpe.LoginTime).toBe('2025-06-23T20:07:13Z');
    expect(res.json.Oem.Hpe.AccessTime).toBe('2025-06-23T20:17:13Z');
    expect(res.json.Oem.Hpe.UserExpires).toBe('2025-06-23T20:47:13Z');
    now += 29 * 60_000;
    expect((await c.call('GET', '/redfish/v1/Systems/1', { token })).status).toBe(200);
    now += 30 * 60_000;
    const expired = await c.call('GET', '/redfish/v1/Systems/1', { token });
    expect(expired.status).toBe(401);
    expect(messageIds(expired.json)).toEqual(['Base.1.18.NoValidSession']);
  });

  it('with timeout 0 shows UserExpires equal to AccessTime and never expires', async () => {
    let now = Date.UTC(2025, 0, 1);
    const { c } = await sim({ clock: () => now, sessionTimeoutMs: 0 });
    const { token, location } = await c.login();
    now += 100 * 86400_000;
    const res = await c.call('GET', new URL(location).pathname, { token });
    expect(res.status).toBe(200);
    expect(res.json.Oem.Hpe.UserExpires).toBe(res.json.Oem.Hpe.AccessTime);
  });

  it('expires sessions for real with a short timeout', async () => {
    const { s, c } = await sim({ sessionTimeoutMs: 300 });
    const { token } = await c.login();
    await until(() => s.sessions().length === 0, 'the session expired'); // reading the table does not touch it
    expect((await c.call('GET', '/redfish/v1/Systems/1', { token })).status).toBe(401);
    expect(s.sessions()).toHaveLength(0);
  });
});

describe('HTTP Basic', () => {
  it('makes a transient session, listed as MySession only while its request runs', async () => {
    const { s, c } = await sim();
    const res = await c.call('GET', SESSIONS, { basic: ['Administrator', 'password'] });
    expect(res.status).toBe(200);
    expect(res.json['Members@odata.count']).toBe(1);
    const transientPath = res.json.Oem.Hpe.Links.MySession['@odata.id'];
    expect(res.json.Members[0]['@odata.id']).toBe(transientPath);
    expect(s.sessions()).toHaveLength(0);
    const { token } = await c.login();
    const later = await c.call('GET', transientPath, { token });
    expect(later.status).toBe(404);
  });

  it('holds a slot while a slow Basic request runs', async () => {
    const { s, c } = await sim({ maxSessions: 1, latencyMs: 3000 });
    const slow = c.call('GET', '/redfish/v1/Systems/1', { basic: ['Administrator', 'password'] });
    await until(() => s.sessions().length === 1, 'the Basic request runs');
    expect(s.sessions()).toEqual([expect.objectContaining({ transient: true, tag: 'REST' })]);
    s.faults.setLatency({ requestMs: 0 });
    expect((await c.login()).res.status).toBe(503);
    expect((await slow).status).toBe(200);
    expect(s.sessions()).toHaveLength(0);
    expect((await c.login()).res.status).toBe(201);
  });
});

describe('what is readable without authentication', () => {
  it('serves /redfish and /redfish/v1/ only', async () => {
    const { c } = await sim();
    expect((await c.call('GET', '/redfish')).json).toEqual({ v1: '/redfish/v1/' });
    for (const path of ['/redfish/v1', '/redfish/v1/']) {
      const root = await c.call('GET', path);
      expect(root.status).toBe(200);
      expect(root.json.Links.Sessions['@odata.id']).toBe(SESSIONS);
    }
    for (const path of ['/redfish/v1/Systems', '/redfish/v1/SessionService', SESSIONS, '/redfish/v1/odata', '/redfish/v1/nowhere']) {
      expect((await c.call('GET', path)).status, path).toBe(401);
    }
  });
});

describe('how each session ended (for tests that check which path deleted it)', () => {
  it('records a DELETE by its own token, by Basic, by another session, an expiry and a reset, in order', async () => {
    const { s, c } = await sim();
    const logins = [];
    for (let i = 0; i < 4; i++) logins.push(await c.login());
    const [own, basic, other, expired] = logins.map(({ location, token }) => ({ path: new URL(location).pathname, id: new URL(location).pathname.split('/').pop() as string, token }));
    expect((await c.call('DELETE', own!.path, { token: own!.token })).status).toBe(200);
    expect((await c.call('DELETE', basic!.path, { basic: ['Administrator', 'password'] })).status).toBe(200);
    expect((await c.call('DELETE', other!.path, { token: expired!.token })).status).toBe(200);
    s.expireSessions();
    const ended = s.endedSessions();
    expect(ended.map((e) => [e.id, e.how, e.via, e.by?.id ?? null])).toEqual([
      [own!.id, 'own-token', 'https', null],
      [basic!.id, 'basic', 'https', expect.stringMatching(/^administrator00000000/)],
      [other!.id, 'other-session', 'https', expired!.id],
      [expired!.id, 'expired', null, null],
    ]);
    // the transient Basic session is not a session of the table's story
    expect(ended).toHaveLength(4);
    expect(s.state().ended).toEqual(ended);
    expect(JSON.stringify(ended)).not.toContain(own!.token);
    const again = await c.login();
    expect((await c.call('POST', '/redfish/v1/Managers/1/Actions/Manager.Reset', { token: again.token, body: { ResetType: 'ForceRestart' } })).status).toBe(200);
    await until(() => s.endedSessions().length === 5, 'the reset ended the session');
    expect(s.endedSessions()[4]).toMatchObject({ id: new URL(again.location).pathname.split('/').pop(), how: 'reset', via: null, by: null });
  });
});
