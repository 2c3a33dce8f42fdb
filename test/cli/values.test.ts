// Values without jq (`get`/`raw` --select and --value) and ilorest's raw commands (rawget,
// rawhead, rawdelete, rawpatch/rawpost/rawput FILE), as a user runs them over HTTPS and in-band
// (CHIF through the emulator library). One login per run, no session left, bad input refused
// before anything is sent.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { killLive, runToEnd } from '../helpers/cli.js';
import { client, messageIds } from '../helpers/https-client.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { CLEAN_ENV } from '../helpers/env.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const SYSTEM = '/redfish/v1/Systems/1';
const NO_STACK = /\n\s+at /;

const TMP = mkdtempSync(join(tmpdir(), 'ilo-agent-values-'));
let tmpCount = 0;
function tempFile(name: string, content: string): string {
  const file = join(TMP, `${++tmpCount}-${name}`);
  writeFileSync(file, content);
  return file;
}
afterAll(() => {
  killLive();
  rmSync(TMP, { recursive: true, force: true });
});

describe.each(['https', 'chif'] as const)('over %s', (transport) => {
  let sim: Simulator;
  let caFile: string;
  let http: ReturnType<typeof client>;

  beforeAll(async () => {
    sim = await startSimulator({ chifSocket: join(TMP, `${transport}.sock`), loginFailureDelayMs: 0 });
    caFile = tempFile('ca.pem', sim.ca);
    http = client(sim);
  });
  afterAll(async () => {
    http?.close();
    await sim?.close();
  });
  afterEach(() => {
    sim.expireSessions(); // a failing test must not spill sessions into the next
  });

  const cli = (args: string[], stdin?: string) =>
    transport === 'https'
      ? runToEnd(['--url', sim.url, '--ca-cert', caFile, ...args], { env: { ...CLEAN_ENV, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' }, stdin })
      : runToEnd(args, { env: { ...CLEAN_ENV, ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: sim.chifSocket ?? '' }, stdin });
  const sent = () => sim.state().counters.requests;
  const expectNoSessions = () => expect(sim.sessions()).toEqual([]);
  const direct = async (path = SYSTEM) => {
    const res = await http.call('GET', path, { basic: ['Administrator', 'password'] });
    expect(res.status).toBe(200);
    return res.json as Record<string, unknown> & { Oem: { Hpe: Record<string, unknown> } };
  };

  describe('--value', () => {
    it('a string prints as its text, without quotes or JSON', async () => {
      const r = await cli(['get', SYSTEM, '--value', 'PowerState']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${(await direct()).PowerState as string}\n`);
      expect(r.stdout).not.toContain('"');
      expectNoSessions();
    });

    it('a nested property by a dotted path; a name holding dots (@odata.id) matched whole', async () => {
      const expected = await direct();
      const post = await cli(['get', SYSTEM, '--value', 'Oem.Hpe.PostState']);
      expect(post.code, post.stderr).toBe(0);
      expect(post.stdout).toBe(`${expected.Oem.Hpe.PostState as string}\n`);
      const id = await cli(['get', SYSTEM, '--value', '@odata.id']);
      expect(id.stdout).toBe(`${expected['@odata.id'] as string}\n`);
      expectNoSessions();
    });

    it('an array index, and a value that is not a string printed as JSON', async () => {
      const collection = await direct('/redfish/v1/Systems');
      const first = await cli(['get', '/redfish/v1/Systems', '--value', 'Members.0.@odata.id']);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toBe(`${(collection.Members as { '@odata.id': string }[])[0]?.['@odata.id']}\n`);
      const count = await cli(['get', '/redfish/v1/Systems', '--value', 'Members@odata.count']);
      expect(count.stdout).toBe(`${String(collection['Members@odata.count'])}\n`);
      const object = await cli(['get', SYSTEM, '--value', 'Boot']);
      expect(JSON.parse(object.stdout)).toEqual((await direct()).Boot);
      expectNoSessions();
    });

    it('an absent property: exit 6 naming it, nothing on stdout, no session left', async () => {
      const r = await cli(['get', SYSTEM, '--value', 'Oem.Hpe.NoSuchThing']);
      expect(r.code).toBe(6);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`${SYSTEM} has no Oem.Hpe.NoSuchThing`);
      expect(r.stderr).not.toMatch(NO_STACK);
      expectNoSessions();
    });

    it('a malformed path (empty part): exit 2 before anything is sent', async () => {
      const before = sent();
      const r = await cli(['get', SYSTEM, '--value', 'Oem..Hpe']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('is not a property path');
      expect(sent()).toBe(before);
    });
  });

  describe('--select', () => {
    it('prints an object of just those properties, nested as in the resource', async () => {
      const expected = await direct();
      const r = await cli(['get', SYSTEM, '--select', 'PowerState, Oem.Hpe.PostState,AssetTag']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ PowerState: expected.PowerState, AssetTag: expected.AssetTag, Oem: { Hpe: { PostState: expected.Oem.Hpe.PostState } } });
      expectNoSessions();
    });

    it('any absent path: exit 6 naming every absent one, nothing on stdout (a typo is not missing data)', async () => {
      const r = await cli(['get', SYSTEM, '--select', 'PowerState,PowrState,Oem.Hpe.Nope']);
      expect(r.code).toBe(6);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('has no PowrState, Oem.Hpe.Nope');
      expectNoSessions();
    });

    it('with --value, or twice the same path: exit 2, nothing sent', async () => {
      const before = sent();
      expect((await cli(['get', SYSTEM, '--select', 'PowerState', '--value', 'PowerState'])).code).toBe(2);
      const twice = await cli(['get', SYSTEM, '--select', 'PowerState,PowerState']);
      expect(twice.code).toBe(2);
      expect(twice.stderr).toContain('twice');
      expect(sent()).toBe(before);
    });

    it('works on raw results; raw refuses it with --include', async () => {
      const r = await cli(['raw', 'get', SYSTEM, '--select', 'Id']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ Id: '1' });
      const before = sent();
      const both = await cli(['raw', 'get', SYSTEM, '--include', '--value', 'Id']);
      expect(both.code).toBe(2);
      expect(sent()).toBe(before);
      expectNoSessions();
    });

    it('an error answer shows its envelope whole and exits 6, whatever --value asked', async () => {
      const r = await cli(['raw', 'get', '/redfish/v1/Systems/9', '--value', 'Id']);
      expect(r.code).toBe(6);
      expect(messageIds(JSON.parse(r.stdout))).toContain('Base.1.18.ResourceMissingAtURI');
      expectNoSessions();
    });
  });

  describe("ilorest's raw commands", () => {
    it('rawget PATH prints the body as get does; --value works there too', async () => {
      const r = await cli(['rawget', SYSTEM]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(await direct());
      const value = await cli(['rawget', SYSTEM, '--value', 'Id']);
      expect(value.stdout).toBe('1\n');
      expectNoSessions();
    });

    it('rawhead PATH prints the headers, never the token', async () => {
      const r = await cli(['rawhead', SYSTEM]);
      expect(r.code, r.stderr).toBe(0);
      const headers = JSON.parse(r.stdout) as Record<string, string>;
      expect(Object.keys(headers).map((h) => h.toLowerCase())).toContain('content-type');
      expect(Object.keys(headers).map((h) => h.toLowerCase())).not.toContain('x-auth-token');
      expectNoSessions();
    });

    it('rawpatch FILE sends each {path: body} in file order over one session, one result line each', async () => {
      const file = tempFile('rawpatch.json', JSON.stringify({ [SYSTEM]: { AssetTag: 'from-rawpatch' } }));
      const logins = sim.state().counters.logins;
      const r = await cli(['rawpatch', file]);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { status: number });
      expect(lines.map((l) => l.status)).toEqual([200]);
      expect((await direct()).AssetTag).toBe('from-rawpatch');
      expect(sim.state().counters.logins).toBe(logins + 1);
      expectNoSessions();
    });

    it('rawpost - reads the file from standard input (a reset action)', async () => {
      const r = await cli(['rawpost', '-'], JSON.stringify({ '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset': { ResetType: 'On' } }));
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { status: number }).status).toBe(200);
      expectNoSessions();
    });

    it('rawpatch stops at the first error status: exit 6, the later entries not sent', async () => {
      const before = (await direct()).AssetTag;
      const file = tempFile('rawpatch.json', JSON.stringify({ '/redfish/v1/Systems/9': { AssetTag: 'x' }, [SYSTEM]: { AssetTag: 'never' } }));
      const r = await cli(['rawpatch', file]);
      expect(r.code).toBe(6);
      expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
      expect((await direct()).AssetTag).toBe(before);
      expectNoSessions();
    });

    it.each([
      ['not an object', '[1]', 'must be a JSON object of paths and bodies'],
      ['no entry', '{}', 'holds no request'],
      ['a bad path in the second entry', JSON.stringify({ [SYSTEM]: { AssetTag: 'a' }, 'Systems/1': { AssetTag: 'b' } }), 'entry 2'],
      ['a body that is not an object', JSON.stringify({ [SYSTEM]: 'x' }), 'the body must be a JSON object'],
      ['a POST to the Sessions collection', JSON.stringify({ '/redfish/v1/SessionService/Sessions': { UserName: 'a' } }), 'second session'],
    ])('rawpost FILE with %s: exit 2, nothing sent', async (_what, content, message) => {
      const before = sent();
      const r = await cli(['rawpost', tempFile('bad.json', content)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(NO_STACK);
      expect(sent()).toBe(before);
    });
  });
});
