// The Redfish commands (get, raw, list, sessions, info) as a user runs them: the built bin spawned
// in its own process group against an in-process simulator. Every run that logs in must leave no
// session behind; bad input must be refused before anything is sent; secrets never show.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeSelfSignedCertificate } from '../../src/simulator/certificate.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { killLive, runToEnd, type RunOptions } from '../helpers/cli.js';
import { client, messageIds } from '../helpers/https-client.js';
import { until } from '../helpers/wait.js';

// ---- running the CLI -------------------------------------------------------------------------

type Result = Awaited<ReturnType<typeof runToEnd>>;

/** The test process may carry ILO_* variables: every run starts without them. */
// NODE_EXTRA_CA_CERTS (a developer's or runner's shell) is left out too: trust here comes from
// --ca-cert, and a Node warning about that bundle on stderr is not a line of ours (seen once, Node 24).
const CLEAN_ENV: NodeJS.ProcessEnv = { ILO_URL: undefined, ILO_USERNAME: undefined, ILO_PASSWORD: undefined, ILO_AGENT_DEBUG: undefined, ILO_CHIF_LIB: undefined, NODE_EXTRA_CA_CERTS: undefined };
const ADMIN: NodeJS.ProcessEnv = { ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' };

async function cli(args: string[], options: RunOptions = {}): Promise<Result> {
  return runToEnd(args, { ...options, env: { ...CLEAN_ENV, ...options.env } });
}

// ---- fixtures --------------------------------------------------------------------------------

const TMP = mkdtempSync(join(tmpdir(), 'ilo-agent-commands-'));
let tmpCount = 0;
function tempFile(name: string, content: string): string {
  const file = join(TMP, `${++tmpCount}-${name}`);
  writeFileSync(file, content);
  return file;
}
function tempDir(name: string): string {
  const dir = join(TMP, `${++tmpCount}-${name}`);
  mkdirSync(dir);
  return dir;
}

afterAll(() => {
  killLive();
  rmSync(TMP, { recursive: true, force: true });
});

interface Fixture {
  sim: Simulator;
  caFile: string;
  http: ReturnType<typeof client>;
  /** --url and --ca-cert of this simulator. */
  target: () => string[];
}

/** One simulator for a describe block (started in beforeAll, closed in afterAll). */
function simulatorFor(options: SimulatorOptions = {}): Fixture {
  const f = {} as Fixture;
  beforeAll(async () => {
    f.sim = await startSimulator({ loginFailureDelayMs: 0, ...options });
    f.caFile = tempFile('ca.pem', f.sim.ca);
    f.http = client(f.sim);
    f.target = () => ['--url', f.sim.url, '--ca-cert', f.caFile];
  });
  afterAll(async () => {
    f.http?.close();
    await f.sim?.close();
  });
  return f;
}

const sent = (sim: Simulator) => sim.state().counters.requests;
const logins = (sim: Simulator) => sim.state().counters.logins;

/** The session table holds exactly `ids` (none by default): the CLI's own session is gone. */
function expectSessionsLeft(sim: Simulator, ids: string[] = []): void {
  expect(sim.sessions().map((s) => s.id).sort()).toEqual([...ids].sort());
}

/** A session made by another client (what other tools leave behind). */
async function foreignSession(f: Fixture, user = 'Administrator', password = 'password') {
  const { res, token, location } = await f.http.login(user, password);
  expect(res.status).toBe(201);
  const path = new URL(location).pathname;
  return { id: path.split('/').pop() as string, path, token };
}

/** A direct GET with Basic credentials: what the resource is, without going through the CLI. */
async function direct(f: Fixture, path: string) {
  const res = await f.http.call('GET', path, { basic: ['Administrator', 'password'] });
  expect(res.status).toBe(200);
  return res.json as Record<string, unknown>;
}

const NO_STACK = /\n\s+at /;

// ---- get -------------------------------------------------------------------------------------

describe('get', () => {
  const f = simulatorFor();

  it.each(['/redfish/v1/Systems/1', '/redfish/v1/Managers/1'])('prints %s as exactly one JSON line, stderr empty, exit 0', async (path) => {
    const expected = await direct(f, path);
    const r = await cli([...f.target(), 'get', path], { env: ADMIN });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${JSON.stringify(expected)}\n`);
    expect(JSON.parse(r.stdout)).toEqual(expected);
    expectSessionsLeft(f.sim);
  });

  it('a missing resource: exit 6, the MessageId on stderr, nothing on stdout, no session left', async () => {
    const r = await cli([...f.target(), 'get', '/redfish/v1/Systems/9'], { env: ADMIN });
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Base.1.18.ResourceMissingAtURI');
    expect(r.stderr).not.toMatch(NO_STACK);
    expectSessionsLeft(f.sim);
  });

  it('ILO_CA_CERT stands for --ca-cert; a file that is no certificate is refused as --ca-cert is (exit 2)', async () => {
    const ok = await cli(['--url', f.sim.url, 'get', '/redfish/v1/Systems/1', '--value', 'Id'], { env: { ...ADMIN, ILO_CA_CERT: f.caFile } });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('1\n');
    const bad = await cli(['--url', f.sim.url, 'get', '/redfish/v1/Systems/1'], { env: { ...ADMIN, ILO_CA_CERT: tempFile('not-a-cert.pem', 'hello') } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/holds no PEM certificate/);
    expectSessionsLeft(f.sim);
  });

  it('an exported ILO_PIN / ILO_TLS_SERVERNAME (this host\'s vNIC) yields to --url; as options with --url they are refused', async () => {
    const vnic = { ILO_PIN: `sha256:${'ab'.repeat(32)}`, ILO_TLS_SERVERNAME: 'ilo.example.net' };
    const ok = await cli([...f.target(), 'get', '/redfish/v1/Systems/1', '--value', 'Id'], { env: { ...ADMIN, ...vnic } });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const bad = await cli([...f.target(), '--pin', vnic.ILO_PIN, 'get', '/redfish/v1/Systems/1'], { env: ADMIN });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/are for the vNIC/);
  });
});

// ---- input refused before anything is sent ---------------------------------------------------

describe('bad input: exit 2 with a clear message, nothing sent', () => {
  const f = simulatorFor();

  type Case = [string, (f: Fixture) => { args: string[]; env?: NodeJS.ProcessEnv }, RegExp];
  const cases: Case[] = [
    ['a path not under /redfish', (f) => ({ args: [...f.target(), 'get', '/v1/Systems/1'] }), /not a Redfish path/],
    ['a full URL as the path', (f) => ({ args: [...f.target(), 'get', `${f.sim.url}/redfish/v1/Systems/1`] }), /give a path, not a URL/],
    ['a path with ..', (f) => ({ args: [...f.target(), 'get', '/redfish/v1/Systems/../Managers/1'] }), /"\.\." segments/],
    ['a path with .. (raw)', (f) => ({ args: [...f.target(), 'raw', 'delete', '/redfish/v1/SessionService/Sessions/../../Systems/1'] }), /"\.\." segments/],
    ['a path with %-encoded ..', (f) => ({ args: [...f.target(), 'get', '/redfish/v1/Systems/%2e%2E/Managers/1'] }), /"\.\." segments/],
    ['a path with a broken %-escape', (f) => ({ args: [...f.target(), 'get', '/redfish/v1/Systems/%zz'] }), /broken %-escape/],
    ['a path with .. (list)', (f) => ({ args: [...f.target(), 'list', '/redfish/v1/../v1/Systems'] }), /"\.\." segments/],
    ['an unknown method for raw', (f) => ({ args: [...f.target(), 'raw', 'frob', '/redfish/v1'] }), /unknown method "frob"/],
    ['invalid JSON in --data', (f) => ({ args: [...f.target(), 'raw', 'patch', '/redfish/v1/Systems/1', '--data', '{"AssetTag":'] }), /--data is not valid JSON/],
    ['a number JSON would change in --data', (f) => ({ args: [...f.target(), 'raw', 'patch', '/redfish/v1/Systems/1', '--data', '{"AssetTag":12345678901234567890}'] }), /--data: the number 12345678901234567890 would be sent as 12345678901234567000/],
    ['a body on GET', (f) => ({ args: [...f.target(), 'raw', 'get', '/redfish/v1/Systems/1', '--data', '{}'] }), /GET takes no body/],
    ['a body on DELETE', (f) => ({ args: [...f.target(), 'raw', 'delete', '/redfish/v1/Systems/1', '--data', '{}'] }), /DELETE takes no body/],
    [
      '--data and --data-file together',
      (f) => ({ args: [...f.target(), 'raw', 'patch', '/redfish/v1/Systems/1', '--data', '{}', '--data-file', f.caFile] }),
      /--data or --data-file, not both/,
    ],
    ['a --data-file that does not exist', (f) => ({ args: [...f.target(), 'raw', 'patch', '/redfish/v1/Systems/1', '--data-file', join(TMP, 'absent.json')] }), /cannot read --data-file/],
    ['--url http://', (f) => ({ args: ['--url', f.sim.url.replace('https:', 'http:'), '--ca-cert', f.caFile, 'get', '/redfish/v1/Systems/1'] }), /http:\/\/ is refused/],
    ['a --url with a #fragment', (f) => ({ args: ['--url', `${f.sim.url}#x`, '--ca-cert', f.caFile, 'get', '/redfish/v1/Systems/1'] }), /the iLO address takes no #fragment \(got #x\)/],
    ['a bad --url', (f) => ({ args: ['--url', 'https://[not-an-address', '--ca-cert', f.caFile, 'get', '/redfish/v1/Systems/1'] }), /not a valid iLO address/],
    ['credentials in --url', (f) => ({ args: ['--url', f.sim.url.replace('https://', 'https://Administrator:password@'), '--ca-cert', f.caFile, 'get', '/redfish/v1/Systems/1'] }), /no credentials in the iLO address/],
    ['a password without a user name, in-band', () => ({ args: ['-p', 'x', 'get', '/redfish/v1/Systems/1'], env: {} }), /a password was given without a user name/],
    ['no user name', (f) => ({ args: [...f.target(), 'get', '/redfish/v1/Systems/1'], env: { ILO_PASSWORD: 'password' } }), /a user name is required/],
    ['no password', (f) => ({ args: [...f.target(), 'get', '/redfish/v1/Systems/1'], env: { ILO_USERNAME: 'Administrator' } }), /no password/],
    ['an empty ILO_PASSWORD', (f) => ({ args: [...f.target(), 'get', '/redfish/v1/Systems/1'], env: { ILO_USERNAME: 'Administrator', ILO_PASSWORD: '' } }), /no password/],
    ['a --ca-cert that is no certificate', (f) => ({ args: ['--url', f.sim.url, '--ca-cert', tempFile('not-a-cert.pem', 'hello'), 'get', '/redfish/v1/Systems/1'] }), /holds no PEM certificate/],
    ['a bad --timeout', (f) => ({ args: [...f.target(), '--timeout', 'soon', 'get', '/redfish/v1/Systems/1'] }), /--timeout/],
    ['sessions delete of a path that is no session', (f) => ({ args: [...f.target(), 'sessions', 'delete', '/redfish/v1/Systems/1'] }), /not a session path/],
    ['sessions prune without a filter', (f) => ({ args: [...f.target(), 'sessions', 'prune', '--yes'] }), /say which sessions to prune/],
    // Non-ASCII: refused (not sent raw, not an internal error), the UTF-8 %-encoding suggested.
    ['a non-Latin-1 character in the path', (f) => ({ args: [...f.target(), 'get', '/redfish/v1/Σ'] }), /outside printable ASCII.*\/redfish\/v1\/%CE%A3/],
    ['a non-ASCII character in the query', (f) => ({ args: [...f.target(), 'get', '/redfish/v1/Systems?x=Σ'] }), /outside printable ASCII.*\?x=%CE%A3/],
    ['an emoji in the path', (f) => ({ args: [...f.target(), 'get', '/redfish/v1/\u{1F600}'] }), /outside printable ASCII.*%F0%9F%98%80/],
    ['a Latin-1 character in the path', (f) => ({ args: [...f.target(), 'raw', 'get', '/redfish/v1/Syst\u00e9ms'] }), /outside printable ASCII.*Syst%C3%A9ms/],
    // sessions delete: exactly one session, checked before the login.
    ['sessions delete ..', (f) => ({ args: [...f.target(), 'sessions', 'delete', '..'] }), /not a session Id: "\.\."/],
    ['sessions delete .', (f) => ({ args: [...f.target(), 'sessions', 'delete', '.'] }), /not a session Id: "\."/],
    ['sessions delete %2e%2e', (f) => ({ args: [...f.target(), 'sessions', 'delete', '%2e%2e'] }), /not a session Id: "%2e%2e"/],
    ['sessions delete of an Id with encoded slashes', (f) => ({ args: [...f.target(), 'sessions', 'delete', 'a%2F..%2F..%2FSystems%2F1'] }), /not a session Id/],
    ['sessions delete of an Id that is two segments', (f) => ({ args: [...f.target(), 'sessions', 'delete', 'a%2Fb'] }), /not a session Id/],
    ['sessions delete of the collection itself', (f) => ({ args: [...f.target(), 'sessions', 'delete', '/redfish/v1/SessionService/Sessions/'] }), /not a session path/],
    ['sessions delete of a path with a query', (f) => ({ args: [...f.target(), 'sessions', 'delete', '/redfish/v1/SessionService/Sessions/x?y'] }), /not a session path/],
    ['sessions delete of an empty Id', (f) => ({ args: [...f.target(), 'sessions', 'delete', ''] }), /not a session Id/],
    // 0 is no time limit that lets anything happen; past 24 days Node's timers fire at once.
    ['--timeout 0', (f) => ({ args: [...f.target(), '--timeout', '0', 'get', '/redfish/v1/Systems/1'] }), /--timeout.*above 0/],
    ['--shutdown-timeout 0', (f) => ({ args: [...f.target(), '--shutdown-timeout', '0s', 'get', '/redfish/v1/Systems/1'] }), /--shutdown-timeout.*above 0/],
    ['a --timeout past what a timer can hold', (f) => ({ args: [...f.target(), '--timeout', '600h', 'get', '/redfish/v1/Systems/1'] }), /--timeout.*at most 24 days/],
  ];

  it('a bad --url carrying credentials: exit 2, the password is not echoed', async () => {
    const before = sent(f.sim);
    const r = await cli(['--url', 'https://Administrator:Zq9-url-secret@[bad', '--ca-cert', f.caFile, 'get', '/redfish/v1/Systems/1'], { env: ADMIN });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a valid iLO address/);
    expect(r.stdout + r.stderr).not.toContain('Zq9-url-secret');
    expect(sent(f.sim)).toBe(before);
  });

  it.each(cases)('refuses %s', async (_name, make, message) => {
    const { args, env = ADMIN } = make(f);
    const before = sent(f.sim);
    const loginsBefore = logins(f.sim);
    const r = await cli(args, { env });
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(logins(f.sim)).toBe(loginsBefore); // no login
    expect(sent(f.sim)).toBe(before); // nothing reached the iLO
    expectSessionsLeft(f.sim);
  });
});

// ---- raw -------------------------------------------------------------------------------------

describe('raw', () => {
  const f = simulatorFor();
  afterEach(() => {
    f.sim.expireSessions(); // a failing test must not spill sessions into the next
  });
  const assetTag = async () => (await direct(f, '/redfish/v1/Systems/1')).AssetTag;

  it('PATCH with --data changes the resource', async () => {
    const r = await cli([...f.target(), 'raw', 'patch', '/redfish/v1/Systems/1', '--data', '{"AssetTag":"from-data"}'], { env: ADMIN });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(messageIds(JSON.parse(r.stdout))).toEqual(['Base.1.18.Success']);
    expect(await assetTag()).toBe('from-data');
    expectSessionsLeft(f.sim);
  });

  it('POST of ComputerSystem.Reset ForceOff powers the system off', async () => {
    expect((await direct(f, '/redfish/v1/Systems/1')).PowerState).toBe('On');
    const r = await cli([...f.target(), 'raw', 'post', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', '--data', '{"ResetType":"ForceOff"}'], { env: ADMIN });
    expect(r.code).toBe(0);
    expect(messageIds(JSON.parse(r.stdout))).toEqual(['Base.1.18.Success']);
    expect((await direct(f, '/redfish/v1/Systems/1')).PowerState).toBe('Off');
    expectSessionsLeft(f.sim);
  });

  it('an action\'s success envelope: a result on --output pretty, the iLO\'s body unchanged on --output json', async () => {
    const reset = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
    const direct = await f.http.call('POST', reset, { basic: ['Administrator', 'password'], body: { ResetType: 'ForceRestart' } });
    expect(direct.status).toBe(200);
    expect(Object.keys(direct.json as object)).toEqual(['error']);
    const json = await cli([...f.target(), '--output', 'json', 'raw', 'post', reset, '--data', '{"ResetType":"ForceRestart"}'], { env: ADMIN });
    expect(json.code).toBe(0);
    expect(json.stdout).toBe(`${JSON.stringify(direct.json)}\n`);
    const pretty = await cli([...f.target(), '--output', 'pretty', 'raw', 'post', reset, '--data', '{"ResetType":"ForceRestart"}'], { env: ADMIN });
    expect(pretty.stderr).toBe('');
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toBe(`${JSON.stringify({ status: 200, messages: ['Base.1.18.Success'] }, null, 2)}\n`);
    // A refusal stays the iLO's error envelope, and exit 6.
    const refused = await cli([...f.target(), '--output', 'pretty', 'raw', 'post', reset, '--data', '{"ResetType":"Bogus"}'], { env: ADMIN });
    expect(refused.code).toBe(6);
    expect(JSON.parse(refused.stdout)).toHaveProperty('error');
    expectSessionsLeft(f.sim);
  });

  it('--data-file FILE sends the file as the body', async () => {
    const file = tempFile('body.json', '{"AssetTag":"from-file"}\n');
    const r = await cli([...f.target(), 'raw', 'patch', '/redfish/v1/Systems/1', '--data-file', file], { env: ADMIN });
    expect(r.code).toBe(0);
    expect(await assetTag()).toBe('from-file');
    expectSessionsLeft(f.sim);
  });

  it('--data-file - reads the body from standard input', async () => {
    const r = await cli([...f.target(), 'raw', 'patch', '/redfish/v1/Systems/1', '--data-file', '-'], { env: ADMIN, stdin: '{"AssetTag":"from-stdin"}\n' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await assetTag()).toBe('from-stdin');
    expectSessionsLeft(f.sim);
  });

  it('invalid JSON on standard input is refused before anything is sent', async () => {
    const before = sent(f.sim);
    const r = await cli([...f.target(), 'raw', 'patch', '/redfish/v1/Systems/1', '--data-file', '-'], { env: ADMIN, stdin: '{"AssetTag": nope}' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/standard input is not valid JSON/);
    expect(sent(f.sim)).toBe(before);
  });

  it('--include prints {status, headers, body}, never the x-auth-token header', async () => {
    const expected = await direct(f, '/redfish/v1/Systems/1');
    const r = await cli([...f.target(), 'raw', 'get', '/redfish/v1/Systems/1', '--include'], { env: ADMIN });
    expect(r.code).toBe(0);
    const shown = JSON.parse(r.stdout) as { status: number; headers: Record<string, string>; body: unknown };
    expect(Object.keys(shown).sort()).toEqual(['body', 'headers', 'status']);
    expect(shown.status).toBe(200);
    expect(shown.headers['content-type']).toMatch(/^application\/json/);
    expect(shown.headers.etag).toBe(expected['@odata.etag']);
    expect(Object.keys(shown.headers).map((h) => h.toLowerCase())).not.toContain('x-auth-token');
    expect(shown.body).toEqual(expected);
    expectSessionsLeft(f.sim);
  });

  it('an error answer: the iLO envelope on stdout, exit 6, the MessageId on stderr, nothing applied', async () => {
    const tagBefore = await assetTag();
    const r = await cli([...f.target(), 'raw', 'patch', '/redfish/v1/Systems/1', '--data', '{"AssetTag":"nope","Frob":1}'], { env: ADMIN });
    expect(r.code).toBe(6);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(messageIds(JSON.parse(r.stdout))).toEqual(['iLO.2.30.PropertyNotWritableOrUnknown']);
    expect(r.stderr).toContain('iLO.2.30.PropertyNotWritableOrUnknown');
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(await assetTag()).toBe(tagBefore);
    expectSessionsLeft(f.sim);
  });

  it('an error answer with an empty body (405): nothing on stdout, exit 6, the status on stderr', async () => {
    const r = await cli([...f.target(), 'raw', 'delete', '/redfish/v1/Systems/1'], { env: ADMIN });
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/DELETE \/redfish\/v1\/Systems\/1 answered 405/);
    expectSessionsLeft(f.sim);
  });

  it('a POST to the Sessions collection is refused with exit 2 and makes no second session', async () => {
    const loginsBefore = logins(f.sim);
    const r = await cli([...f.target(), 'raw', 'post', '/redfish/v1/SessionService/Sessions', '--data', '{}'], { env: ADMIN });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/second session/);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(logins(f.sim) - loginsBefore).toBeLessThanOrEqual(1); // at most the CLI's own login
    expectSessionsLeft(f.sim);
  });

  it('a POST to the Sessions collection is refused before anything is sent (no login at all)', async () => {
    // raw.ts: "Everything is checked before the login"; errors.ts: InvalidInputError = nothing was sent.
    const before = sent(f.sim);
    const r = await cli([...f.target(), 'raw', 'post', '/redfish/v1/SessionService/Sessions', '--data', '{}'], { env: ADMIN });
    expect(r.code).toBe(2);
    expect(sent(f.sim)).toBe(before);
    expectSessionsLeft(f.sim);
  });

  it.each([
    '/redfish/v1/Sessions/',
    '/redfish/v1/sessionservice/sessions?x=1',
    '/redfish/v1//SessionService/Sessions',
    '/redfish/v1/SessionService/%53essions',
  ])('refuses a session POST spelled %s: no session is left behind', async (path) => {
    const credentials = JSON.stringify({ UserName: 'Administrator', Password: 'password' });
    const r = await cli([...f.target(), 'raw', 'post', path, '--data', credentials], { env: ADMIN });
    expectSessionsLeft(f.sim); // a session made by this POST would stay until its idle timeout
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/second session/);
  });
});

// ---- list ------------------------------------------------------------------------------------

describe('list', () => {
  const f = simulatorFor();

  it('prints the member paths of a collection', async () => {
    const r = await cli([...f.target(), 'list', '/redfish/v1/Systems'], { env: ADMIN });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('["/redfish/v1/Systems/1"]\n');
    expectSessionsLeft(f.sim);
  });

  it('--expand prints the bodies of the members', async () => {
    const expected = await direct(f, '/redfish/v1/Systems/1');
    const r = await cli([...f.target(), 'list', '/redfish/v1/Systems', '--expand'], { env: ADMIN });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([expected]);
    expectSessionsLeft(f.sim);
  });

  it('a resource that is not a collection: exit 6, nothing on stdout', async () => {
    const r = await cli([...f.target(), 'list', '/redfish/v1/Systems/1'], { env: ADMIN });
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/not a collection/);
    expectSessionsLeft(f.sim);
  });

  describe('paging (Members@odata.nextLink)', () => {
    const paged = {} as Fixture;
    const things = [1, 2, 3, 4, 5].map((n) => `/redfish/v1/Things/${n}`);

    beforeAll(async () => {
      const dir = tempDir('mockup');
      const put = (uri: string, body: object) => {
        const folder = join(dir, ...uri.split('/').filter(Boolean));
        mkdirSync(folder, { recursive: true });
        writeFileSync(join(folder, 'index.json'), JSON.stringify(body));
      };
      const member = (id: string) => ({ '@odata.id': id });
      put('/redfish/v1', {
        '@odata.id': '/redfish/v1',
        '@odata.type': '#ServiceRoot.v1_5_0.ServiceRoot',
        Id: 'RootService',
        Name: 'Root Service',
        RedfishVersion: '1.6.0',
        Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } },
      });
      put('/redfish/v1/Things', {
        '@odata.id': '/redfish/v1/Things',
        '@odata.type': '#ThingCollection.ThingCollection',
        Name: 'Things',
        'Members@odata.count': things.length,
        Members: things.slice(0, 3).map(member),
        'Members@odata.nextLink': '/redfish/v1/Things/Page2',
      });
      put('/redfish/v1/Elsewhere', {
        '@odata.id': '/redfish/v1/Elsewhere',
        '@odata.type': '#ThingCollection.ThingCollection',
        Members: things.slice(0, 1).map(member),
        'Members@odata.nextLink': 'https://evil.example/redfish/v1/Things/Page2',
      });
      put('/redfish/v1/Things/Page2', {
        '@odata.id': '/redfish/v1/Things/Page2',
        '@odata.type': '#ThingCollection.ThingCollection',
        Name: 'Things',
        'Members@odata.count': things.length,
        Members: things.slice(3).map(member),
      });
      for (const [i, id] of things.entries()) put(id, { '@odata.id': id, '@odata.type': '#Thing.v1_0_0.Thing', Id: String(i + 1), Name: `Thing ${i + 1}` });

      paged.sim = await startSimulator({ loginFailureDelayMs: 0, mockupDir: dir });
      paged.caFile = tempFile('paged-ca.pem', paged.sim.ca);
      paged.http = client(paged.sim);
      paged.target = () => ['--url', paged.sim.url, '--ca-cert', paged.caFile];
    });
    afterAll(async () => {
      paged.http?.close();
      await paged.sim?.close();
    });

    it('follows the next link and returns the members of both pages in order', async () => {
      const r = await cli([...paged.target(), 'list', '/redfish/v1/Things'], { env: ADMIN });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(things);
      expectSessionsLeft(paged.sim);
    });

    it('a next link to another host: exit 6 (an answer no Redfish service gives), not a usage error; nothing sent there', async () => {
      const r = await cli([...paged.target(), 'list', '/redfish/v1/Elsewhere'], { env: ADMIN });
      expect(r.code).toBe(6);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/\/redfish\/v1\/Elsewhere links to "https:\/\/evil\.example\/redfish\/v1\/Things\/Page2", which is not on this iLO/);
      expectSessionsLeft(paged.sim);
    });

    it('--expand across pages keeps the order', async () => {
      const r = await cli([...paged.target(), 'list', '/redfish/v1/Things', '--expand', '--concurrency', '2'], { env: ADMIN });
      expect(r.code).toBe(0);
      expect((JSON.parse(r.stdout) as Array<{ '@odata.id': string }>).map((b) => b['@odata.id'])).toEqual(things);
      expectSessionsLeft(paged.sim);
    });
  });
});

// ---- sessions --------------------------------------------------------------------------------

interface Row {
  id: string;
  path: string;
  user: string | null;
  tag: string | null;
  ours: boolean;
  [key: string]: unknown;
}

describe('sessions', () => {
  const f = simulatorFor({ users: { Administrator: 'password', operator: 'op' } });
  afterEach(() => {
    f.sim.expireSessions();
  });

  it('list: every session, ours marked, with all the fields', async () => {
    const other = await foreignSession(f);
    const r = await cli([...f.target(), 'sessions', 'list'], { env: ADMIN });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Row[];
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(['accessTime', 'expires', 'id', 'ip', 'loginTime', 'ours', 'path', 'tag', 'type', 'user'].sort());
    }
    const ours = rows.filter((row) => row.ours);
    expect(ours).toHaveLength(1);
    expect(ours[0]?.id).not.toBe(other.id);
    expect(ours[0]).toMatchObject({ user: 'Administrator', tag: 'REST', ip: '127.0.0.1' });
    const theirs = rows.find((row) => row.id === other.id);
    expect(theirs).toMatchObject({ id: other.id, path: other.path, user: 'Administrator', tag: 'REST', type: 'Local', ip: '127.0.0.1', ours: false });
    expect(theirs?.loginTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(theirs?.accessTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(theirs?.expires).toMatch(/^\d{4}-\d\d-\d\dT/);
    expectSessionsLeft(f.sim, [other.id]);
  });

  it('delete <id> deletes another session', async () => {
    const other = await foreignSession(f);
    const r = await cli([...f.target(), 'sessions', 'delete', other.id], { env: ADMIN });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ deleted: other.path });
    expectSessionsLeft(f.sim);
  });

  it('delete <path> deletes another session', async () => {
    const other = await foreignSession(f, 'operator', 'op');
    const r = await cli([...f.target(), 'sessions', 'delete', other.path], { env: ADMIN });
    expect(r.code).toBe(0);
    expectSessionsLeft(f.sim);
  });

  it('delete of an unknown id: exit 6, nothing else deleted', async () => {
    const other = await foreignSession(f);
    const r = await cli([...f.target(), 'sessions', 'delete', 'administrator00000000deadbeef0badf00d'], { env: ADMIN });
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('ResourceMissingAtURI');
    expectSessionsLeft(f.sim, [other.id]);
  });

  it('prune without a filter: exit 2, nothing sent', async () => {
    const other = await foreignSession(f);
    const before = sent(f.sim);
    const r = await cli([...f.target(), 'sessions', 'prune'], { env: ADMIN });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/--user, --tag, --older-than, --idle-for, or --all/);
    expect(sent(f.sim)).toBe(before);
    expectSessionsLeft(f.sim, [other.id]);
  });

  it('prune --user without --yes is a dry run: shows what matches, deletes nothing, hints at --yes', async () => {
    const a = await foreignSession(f);
    const b = await foreignSession(f);
    const op = await foreignSession(f, 'operator', 'op');
    const r = await cli([...f.target(), 'sessions', 'prune', '--user', 'Administrator'], { env: ADMIN });
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { dryRun: boolean; sessions: Row[]; deleted: Row[] };
    expect(result.dryRun).toBe(true);
    expect(result.sessions.map((s) => s.id).sort()).toEqual([a.id, b.id].sort()); // not ours, not operator's
    expect(result.deleted).toEqual([]);
    expect(r.stderr).toMatch(/--yes/);
    expectSessionsLeft(f.sim, [a.id, b.id, op.id]);
  });

  it('prune --user Administrator --yes deletes the matching foreign sessions, never our own', async () => {
    const a = await foreignSession(f);
    const b = await foreignSession(f);
    const op = await foreignSession(f, 'operator', 'op');
    const r = await cli([...f.target(), 'sessions', 'prune', '--user', 'Administrator', '--yes'], { env: ADMIN });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { dryRun: boolean; sessions: Row[]; deleted: Row[]; failed: unknown[] };
    expect(result.dryRun).toBe(false);
    expect(result.deleted.map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
    expect(result.deleted.some((s) => s.ours)).toBe(false);
    expect(result.failed).toEqual([]);
    expectSessionsLeft(f.sim, [op.id]);
  });

  it('prune --user operator --yes deletes only that user\'s sessions', async () => {
    const admin = await foreignSession(f);
    const op1 = await foreignSession(f, 'operator', 'op');
    const op2 = await foreignSession(f, 'operator', 'op');
    const r = await cli([...f.target(), 'sessions', 'prune', '--user', 'operator', '--yes'], { env: ADMIN });
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { deleted: Row[] };
    expect(result.deleted.map((s) => s.id).sort()).toEqual([op1.id, op2.id].sort());
    expect(result.deleted.every((s) => s.user === 'operator')).toBe(true);
    expectSessionsLeft(f.sim, [admin.id]);
  });

  it('prune --older-than 1h --yes matches no fresh session', async () => {
    const a = await foreignSession(f);
    const op = await foreignSession(f, 'operator', 'op');
    const r = await cli([...f.target(), 'sessions', 'prune', '--older-than', '1h', '--yes'], { env: ADMIN });
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { sessions: Row[]; deleted: Row[] };
    expect(result.sessions).toEqual([]);
    expect(result.deleted).toEqual([]);
    expectSessionsLeft(f.sim, [a.id, op.id]);
  });
});

describe('sessions prune --idle-for', () => {
  // The simulator's clock moves when the test says: "idle for 20 minutes" without waiting for them.
  let now = Date.now();
  const f = simulatorFor({ clock: () => now, users: { Administrator: 'password', operator: 'op' } });
  afterEach(() => {
    f.sim.expireSessions();
  });

  it('matches by AccessTime on the iLO\'s clock: an idle session goes, a busy one as old stays', async () => {
    const idle = await foreignSession(f);
    const busy = await foreignSession(f, 'operator', 'op');
    now += 20 * 60_000;
    const used = await f.http.call('GET', '/redfish/v1/Systems/1', { token: busy.token });
    expect(used.status).toBe(200);
    const dry = await cli([...f.target(), 'sessions', 'prune', '--older-than', '10m'], { env: ADMIN });
    expect(dry.code).toBe(0);
    expect((JSON.parse(dry.stdout) as { sessions: Row[] }).sessions.map((s) => s.id).sort()).toEqual([idle.id, busy.id].sort());
    const r = await cli([...f.target(), 'sessions', 'prune', '--idle-for', '10m', '--yes'], { env: ADMIN });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { deleted: Row[] }).deleted.map((s) => s.id)).toEqual([idle.id]);
    expectSessionsLeft(f.sim, [busy.id]);
  });

  it('a duration longer than any idle time matches nothing; a bad one is exit 2', async () => {
    const other = await foreignSession(f);
    now += 5 * 60_000;
    const r = await cli([...f.target(), 'sessions', 'prune', '--idle-for', '6m', '--yes'], { env: ADMIN });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { sessions: Row[] }).sessions.filter((s) => s.id === other.id)).toEqual([]);
    const bad = await cli([...f.target(), 'sessions', 'prune', '--idle-for', 'soon'], { env: ADMIN });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
  });
});

// ---- info ------------------------------------------------------------------------------------

describe('info', () => {
  const f = simulatorFor();

  it('shows generation, firmware, session timeout and transport', async () => {
    const r = await cli([...f.target(), 'info'], { env: ADMIN });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as Record<string, unknown> & { session: { id: string; path: string } };
    expect(info.generation).toBe('iLO 6');
    expect(info.firmware).toBe('1.66');
    expect(info.sessionTimeoutMinutes).toBe(30);
    expect(info.transport).toMatch(/^https https:\/\/127\.0\.0\.1:\d+$/);
    expect(info.transport).toBe(`https ${f.sim.url}`);
    expect(info.session.id).toMatch(/^administrator0{8}[0-9a-f]+$/);
    expectSessionsLeft(f.sim); // the session it reported is gone
  });

  it('shows the server facts people look for first, as the iLO gives them', async () => {
    const system = await direct(f, '/redfish/v1/Systems/1');
    const manager = await direct(f, '/redfish/v1/Managers/1');
    const r = await cli([...f.target(), 'info'], { env: ADMIN });
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(info).toMatchObject({
      model: system.Model,
      serialNumber: system.SerialNumber,
      hostName: system.HostName ?? null,
      powerState: system.PowerState,
      postState: (system.Oem as { Hpe: { PostState: string } }).Hpe.PostState,
      biosVersion: system.BiosVersion,
      iloFirmwareVersion: manager.FirmwareVersion,
    });
    for (const key of ['model', 'serialNumber', 'powerState', 'postState', 'biosVersion', 'iloFirmwareVersion']) expect(typeof info[key]).toBe('string');
  });
});

describe('info when the iLO refuses the system and manager resources', () => {
  const f = simulatorFor({
    faults: ['/redfish/v1/Systems/1', '/redfish/v1/Managers/1'].map((path) => ({ type: 'status404' as const, on: 'request' as const, method: 'GET', path })),
  });

  it('the facts it lacks are null, never an error', async () => {
    const r = await cli([...f.target(), 'info'], { env: ADMIN });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(info).toMatchObject({ model: null, serialNumber: null, hostName: null, powerState: null, postState: null, biosVersion: null, iloFirmwareVersion: null, generation: 'iLO 6' });
    expectSessionsLeft(f.sim);
  });
});

// ---- exit codes of failures ------------------------------------------------------------------

describe('failures and their exit codes', () => {
  const f = simulatorFor();

  it('3 for a wrong password, which is never shown', async () => {
    const wrong = 'Wr0ng-pa55-7f3a';
    const r = await cli([...f.target(), 'get', '/redfish/v1/Systems/1'], { env: { ILO_USERNAME: 'Administrator', ILO_PASSWORD: wrong } });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('UnauthorizedLoginAttempt');
    expect(r.stdout + r.stderr).not.toContain(wrong);
    expect(r.stderr).not.toMatch(NO_STACK);
    expectSessionsLeft(f.sim);
  });

  it('4 at the session cap, pointing at "sessions prune"', async () => {
    const full = await startSimulator({ loginFailureDelayMs: 0, maxSessions: 1 });
    const c = client(full);
    try {
      const occupant = await c.login();
      expect(occupant.res.status).toBe(201);
      const occupantId = new URL(occupant.location).pathname.split('/').pop() as string;
      const r = await cli(['--url', full.url, '--ca-cert', tempFile('full-ca.pem', full.ca), 'get', '/redfish/v1/Systems/1'], { env: ADMIN });
      expect(r.code).toBe(4);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/sessions prune/);
      expectSessionsLeft(full, [occupantId]);
    } finally {
      c.close();
      await full.close();
    }
  });

  it('5 when nothing listens at the address', async () => {
    const gone = await startSimulator();
    const url = gone.url;
    await gone.close();
    const r = await cli(['--url', url, '--ca-cert', f.caFile, 'get', '/redfish/v1/Systems/1'], { env: ADMIN });
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/cannot reach the iLO .*ECONNREFUSED/);
    expect(r.stderr).not.toMatch(NO_STACK);
  });

  it('6 when the iLO answers bytes that are not HTTP (a control character in the login\'s token), naming the parser\'s complaint', async () => {
    const { cert, key } = makeSelfSignedCertificate();
    const server = createTlsServer({ cert, key }, (socket) => {
      socket.on('error', () => undefined);
      socket.on('data', () => socket.write('HTTP/1.1 201 Created\r\nX-Auth-Token: ab\u0001cd\r\nLocation: /redfish/v1/SessionService/Sessions/x\r\nContent-Length: 2\r\n\r\n{}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await cli(['--url', url, '--ca-cert', tempFile('raw-ca.pem', cert), '--no-guardian', 'get', '/redfish/v1/Systems/1'], { env: ADMIN });
      expect(r.code).toBe(6);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/the iLO's answer is not valid HTTP \(Invalid header value char; HPE_INVALID_HEADER_TOKEN\)/);
      expect(r.stderr).not.toMatch(/cannot reach|ECONNRESET/);
      expect(r.stderr).not.toMatch(NO_STACK);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('5 when the certificate cannot be verified (no --ca-cert), with a hint; no credentials sent', async () => {
    const before = sent(f.sim);
    const r = await cli(['--url', f.sim.url, 'get', '/redfish/v1/Systems/1'], { env: ADMIN });
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/--ca-cert/);
    expect(sent(f.sim)).toBe(before);
    expectSessionsLeft(f.sim);
  });

  it('5 on a timeout, and the session is still deleted', async () => {
    f.sim.faults.inject({ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' });
    try {
      const r = await cli([...f.target(), '--timeout', '1s', 'get', '/redfish/v1/Systems/1'], { env: ADMIN });
      expect(r.code).toBe(5);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/within 1 s/);
      expect(f.sim.faults.held).toBe(1); // the request really hung: the timeout was the client's
      expectSessionsLeft(f.sim);
    } finally {
      f.sim.faults.clear();
      f.sim.faults.release();
    }
  });
});

// ---- password sources ------------------------------------------------------------------------

describe('password sources', () => {
  const SECRET = 'Zq9-canary-secret';
  const WIDE = 'Zq9-pässwörd-€😀'; // beyond ASCII and beyond 16 bits: each encoding really decoded
  const f = simulatorFor({ users: { canary: SECRET, wide: WIDE } });
  const USER = { ILO_USERNAME: 'canary' };
  const get = () => [...f.target(), 'get', '/redfish/v1/Systems/1'];

  const expectOk = (r: Result) => {
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Record<string, unknown>)['@odata.id']).toBe('/redfish/v1/Systems/1');
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expectSessionsLeft(f.sim);
  };

  it('--password-file FILE (first line)', async () => {
    // only the first line is the password: a CRLF ending or a second line is not part of it
    const file = tempFile('password', `${SECRET}\r\nnot the password\n`);
    const r = await cli([...get(), '--password-file', file], { env: USER });
    expect(r.stderr).toBe('');
    expectOk(r);
  });

  it('--password-stdin', async () => {
    const r = await cli([...get(), '--password-stdin'], { env: USER, stdin: `${SECRET}\nnot the password\n` });
    expect(r.stderr).toBe('');
    expectOk(r);
  });

  // Windows tools: Notepad's UTF-8 with a byte-order mark, PowerShell 5.1's `Out-File` UTF-16 LE.
  const utf16le = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  it.each([
    ['UTF-8 with a byte-order mark', () => Buffer.from(`\ufeff${WIDE}\r\n`)],
    ['UTF-16 LE with its mark', () => utf16le(`${WIDE}\r\n`)],
    ['UTF-16 BE with its mark', () => utf16le(`${WIDE}\r\n`).swap16()],
  ])('--password-file in %s: the login succeeds', async (_name, bytes) => {
    const file = join(TMP, `${++tmpCount}-password`);
    writeFileSync(file, bytes());
    const r = await cli([...get(), '--password-file', file], { env: { ILO_USERNAME: 'wide' } });
    expect(r.stderr).toBe('');
    expectOk(r);
    expect(r.stdout + r.stderr).not.toContain(WIDE);
  });

  it('--password-stdin in UTF-16 LE with its mark: the login succeeds', async () => {
    const r = await cli([...get(), '--password-stdin'], { env: { ILO_USERNAME: 'wide' }, stdin: utf16le(`${WIDE}\r\n`) });
    expect(r.stderr).toBe('');
    expectOk(r);
  });

  it('a password file that is not UTF-8 (Latin-1), or UTF-16 without its mark: exit 2 naming the encoding, nothing sent, no password shown', async () => {
    for (const [bytes, message] of [
      [Buffer.from('Zq9-pässwörd\n', 'latin1'), /is not valid UTF-8 text \(nor UTF-16 with a byte-order mark\)/],
      [Buffer.from(`${WIDE}\n`, 'utf16le'), /holds NUL characters: UTF-16 without a byte-order mark\?/],
    ] as const) {
      const file = join(TMP, `${++tmpCount}-password`);
      writeFileSync(file, bytes);
      const before = sent(f.sim);
      const r = await cli([...get(), '--password-file', file], { env: { ILO_USERNAME: 'wide' } });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(file);
      expect(r.stdout + r.stderr).not.toMatch(/Zq9|pässw|€/);
      expect(sent(f.sim)).toBe(before);
    }
  });

  it('-p works but warns that it is visible to other users', async () => {
    const r = await cli([...get(), '-p', SECRET], { env: USER });
    expect(r.stderr).toMatch(/visible to other users/);
    expectOk(r);
  });

  it('ILO_PASSWORD', async () => {
    const r = await cli(get(), { env: { ...USER, ILO_PASSWORD: SECRET } });
    expect(r.stderr).toBe('');
    expectOk(r);
  });

  it.each([
    ['-p and --password-file', () => ['-p', SECRET, '--password-file', tempFile('pw', SECRET)], /--password-file and --password/],
    ['--password-stdin and -p', () => ['--password-stdin', '-p', SECRET], /--password-stdin and --password/],
    ['--password-stdin and --password-file', () => ['--password-stdin', '--password-file', tempFile('pw', SECRET)], /--password-stdin and --password-file/],
  ])('two sources at once (%s): exit 2, nothing sent', async (_name, extra, message) => {
    const before = sent(f.sim);
    const r = await cli([...get(), ...extra()], { env: { ...USER, ILO_PASSWORD: SECRET }, stdin: `${SECRET}\n` });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give the password one way only/);
    expect(r.stderr).toMatch(message);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(sent(f.sim)).toBe(before);
  });

  it('standard input cannot carry both the password and the body: exit 2, nothing sent', async () => {
    const before = sent(f.sim);
    const r = await cli([...f.target(), '--password-stdin', 'raw', 'patch', '/redfish/v1/Systems/1', '--data-file', '-'], { env: USER, stdin: '{"AssetTag":"x"}' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/standard input can carry only one thing/);
    expect(sent(f.sim)).toBe(before);
  });

  it('a wrong password from a file: exit 3, neither password shown', async () => {
    const file = tempFile('wrong-password', 'Zq9-wrong-canary\n');
    const r = await cli([...get(), '--password-file', file], { env: USER });
    expect(r.code).toBe(3);
    expect(r.stdout + r.stderr).not.toContain('Zq9-wrong-canary');
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expectSessionsLeft(f.sim);
  });
});

// ---- --insecure ------------------------------------------------------------------------------

describe('--insecure', () => {
  const f = simulatorFor();

  it('works without --ca-cert and warns on stderr', async () => {
    const r = await cli(['--url', f.sim.url, '--insecure', 'get', '/redfish/v1/Systems/1'], { env: ADMIN });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(await direct(f, '/redfish/v1/Systems/1'));
    expect(r.stderr).toMatch(/warning: --insecure/);
    expect(r.stderr).toMatch(/not verified/);
    expectSessionsLeft(f.sim);
  });
});

// ---- nothing on disk -------------------------------------------------------------------------

describe('no file is written', () => {
  const f = simulatorFor();

  it('get and sessions list leave HOME, the working directory and TMPDIR empty', async () => {
    const home = tempDir('home');
    const cwd = tempDir('cwd');
    const tmp = tempDir('tmp');
    const env = { ...ADMIN, HOME: home, TMPDIR: tmp, XDG_CONFIG_HOME: undefined, XDG_CACHE_HOME: undefined, XDG_DATA_HOME: undefined, XDG_STATE_HOME: undefined };
    for (const args of [['get', '/redfish/v1/Systems/1'], ['sessions', 'list'], ['--log-level', 'trace', 'info']]) {
      const r = await cli([...f.target(), ...args], { env, cwd });
      expect(r.code).toBe(0);
      expectSessionsLeft(f.sim);
    }
    expect(readdirSync(home)).toEqual([]);
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

// ---- secrets never shown ---------------------------------------------------------------------

/**
 * An HTTPS relay in front of the simulator that records every session token it sees and, like
 * some web front-ends, echoes the token in X-Auth-Token and Set-Cookie on every answer. The CLI
 * must show neither, whatever the log level.
 */
async function startTokenSpy(upstream: { url: string; ca: string }) {
  const { cert, key } = makeSelfSignedCertificate(['127.0.0.1']);
  const tokens = new Set<string>();
  const agent = new Agent({ ca: upstream.ca, keepAlive: true });
  const server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: IncomingHttpHeaders = { ...req.headers };
      delete headers.host;
      const up = request(new URL(req.url ?? '/', upstream.url), { method: req.method, headers, agent }, (upRes) => {
        const token = String(upRes.headers['x-auth-token'] ?? req.headers['x-auth-token'] ?? '');
        const out: IncomingHttpHeaders = { ...upRes.headers, 'x-spy': 'relayed' };
        if (token) {
          tokens.add(token);
          out['x-auth-token'] = token;
          out['set-cookie'] = [`sessionKey=${token}; Path=/; Secure; HttpOnly`];
        }
        res.writeHead(upRes.statusCode ?? 502, out);
        upRes.pipe(res);
      });
      up.on('error', (error) => res.destroy(error));
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    ca: cert,
    tokens,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('the session token is never shown', () => {
  const f = simulatorFor();
  let spy: Awaited<ReturnType<typeof startTokenSpy>>;
  let spyArgs: string[];
  beforeAll(async () => {
    spy = await startTokenSpy(f.sim);
    spyArgs = ['--url', spy.url, '--ca-cert', tempFile('spy-ca.pem', spy.ca)];
  });
  afterAll(async () => {
    await spy?.close();
  });
  afterEach(() => {
    f.sim.expireSessions();
  });

  /** stderr at trace level: JSON lines only, no token, no 32-hex value outside session Ids. */
  const expectNoToken = (r: Result, known: Iterable<string>) => {
    for (const token of known) {
      expect(r.stdout).not.toContain(token);
      expect(r.stderr).not.toContain(token);
    }
    const lines = r.stderr.split('\n').filter(Boolean);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    const withoutIds = r.stderr.replace(/[a-z]+0{8}[0-9a-f]+/gi, '<session-id>');
    expect(withoutIds).not.toMatch(/[0-9a-f]{32}/i);
    expect(r.stderr.toLowerCase()).not.toMatch(/x-auth-token"?\s*[:=]\s*"?[0-9a-f]{32}/);
  };

  it('get at --log-level trace: logs are JSON lines, the token appears nowhere', async () => {
    const r = await cli([...spyArgs, '--log-level', 'trace', 'get', '/redfish/v1/Systems/1'], { env: ADMIN });
    expect(r.code).toBe(0);
    expect(spy.tokens.size).toBeGreaterThan(0); // the relay did see (and echo) a token
    expect(r.stderr).toMatch(/session created/);
    expectNoToken(r, spy.tokens);
    expectSessionsLeft(f.sim);
  });

  it('raw --include drops X-Auth-Token and Set-Cookie but shows the other headers', async () => {
    const r = await cli([...spyArgs, '--log-level', 'trace', 'raw', 'get', '/redfish/v1/Systems/1', '--include'], { env: ADMIN });
    expect(r.code).toBe(0);
    const shown = JSON.parse(r.stdout) as { headers: Record<string, string> };
    expect(shown.headers['x-spy']).toBe('relayed');
    const names = Object.keys(shown.headers).map((h) => h.toLowerCase());
    expect(names).not.toContain('x-auth-token');
    expect(names).not.toContain('set-cookie');
    expectNoToken(r, spy.tokens);
    expectSessionsLeft(f.sim);
  });

  it('sessions list and an error answer at trace level show no token, ours nor another\'s', async () => {
    const other = await foreignSession(f);
    const list = await cli([...spyArgs, '--log-level', 'trace', 'sessions', 'list'], { env: ADMIN });
    expect(list.code).toBe(0);
    expectNoToken(list, [...spy.tokens, other.token]);
    const failed = await cli([...spyArgs, '--log-level', 'trace', 'raw', 'patch', '/redfish/v1/Systems/1', '--data', '{"Frob":1}'], { env: ADMIN });
    expect(failed.code).toBe(6);
    expect(failed.stderr).toContain('PropertyNotWritableOrUnknown');
    // the error line is plain text (not a log record); check the token only
    for (const token of [...spy.tokens, other.token]) expect(failed.stdout + failed.stderr).not.toContain(token);
    expectSessionsLeft(f.sim, [other.id]);
  });
});

describe('a one-shot that resets the iLO', () => {
  const f = simulatorFor({ resetSeconds: 3 });

  it('exits 0 and says the reset ended the session (no DELETE, no exit 6); after the reset, sessions list works', async () => {
    const r = await cli([...f.target(), 'raw', 'post', '/redfish/v1/Managers/1/Actions/Manager.Reset', '--data', '{"ResetType":"GracefulRestart"}'], { env: ADMIN });
    expect(r.stderr).toMatch(/the iLO reset \(Manager\.Reset\) ended the session/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).error['@Message.ExtendedInfo'][0].MessageId).toBe('Base.1.18.Success');
    expectSessionsLeft(f.sim);
    await until(() => !f.sim.resetting, 'the reset to end', 20_000);
    const list = await cli([...f.target(), 'sessions', 'list'], { env: ADMIN });
    expect(list.code).toBe(0);
    expectSessionsLeft(f.sim);
  });
});
