// `batch` and `set` as a user runs them, over HTTPS and in-band (CHIF through the emulator
// library): the built bin spawned in its own process group against an in-process simulator.
// One login per run, no session left, bad input refused before anything is sent.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { killLive, runToEnd } from '../helpers/cli.js';
import { client, messageIds } from '../helpers/https-client.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const SYSTEM = '/redfish/v1/Systems/1';
const ACCOUNT = '/redfish/v1/AccountService/Accounts/1';
const RESET = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
const NO_STACK = /\n\s+at /;

/** The test process may carry ILO_* variables: every run starts without them. */
const CLEAN_ENV: NodeJS.ProcessEnv = {
  ILO_URL: undefined,
  ILO_USERNAME: undefined,
  ILO_PASSWORD: undefined,
  ILO_AGENT_DEBUG: undefined,
  ILO_AGENT_SOCKET: undefined,
  ILO_CHIF_LIB: undefined,
  ILO_CHIF_EMULATOR_SOCKET: undefined,
};

type Result = Awaited<ReturnType<typeof runToEnd>>;

const TMP = mkdtempSync(join(tmpdir(), 'ilo-agent-batch-set-'));
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

function run(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<Result> {
  return runToEnd(args, { env, stdin });
}

interface Shown {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}
interface ErrorLine {
  line: number;
  error: { code: string; message: string };
}
type OutLine = Shown | ErrorLine;

const jsonLines = (text: string): OutLine[] => text.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as OutLine);
const jsonl = (...requests: object[]) => requests.map((r) => JSON.stringify(r)).join('\n') + '\n';
const isError = (l: OutLine | undefined): l is ErrorLine => !!l && 'error' in l;
const shown = (l: OutLine | undefined): Shown => {
  if (!l || isError(l)) throw new Error(`expected a response, got ${JSON.stringify(l)}`);
  return l;
};

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
    sim.faults.clear();
    sim.faults.release();
    sim.expireSessions(); // a failing test must not spill sessions into the next
  });

  /** Global flags and environment of this transport: --url and credentials, or the emulator library. */
  const cli = (args: string[], stdin?: string) =>
    transport === 'https'
      ? run(['--url', sim.url, '--ca-cert', caFile, ...args], { ...CLEAN_ENV, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' }, stdin)
      : run(args, { ...CLEAN_ENV, ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: sim.chifSocket ?? '' }, stdin);

  const sent = () => sim.state().counters.requests;
  const logins = () => sim.state().counters.logins;
  const exchanges = () => sim.state().chif.counters.frames.exchange;
  const expectNoSessions = () => expect(sim.sessions()).toEqual([]);

  /** The resource as it is, read with Basic credentials over HTTPS (not through the CLI). */
  const direct = async (path = SYSTEM) => {
    const res = await http.call('GET', path, { basic: ['Administrator', 'password'] });
    expect(res.status).toBe(200);
    return res.json as Record<string, unknown> & { Boot: Record<string, unknown> };
  };
  const directPatch = async (body: object, path = SYSTEM) => {
    const res = await http.call('PATCH', path, { basic: ['Administrator', 'password'], body });
    expect(res.status).toBe(200);
  };
  /** Requests a `get` of SYSTEM costs on this transport (login, GET, logout): the baseline of a run without a PATCH. */
  const getCost = async () => {
    const before = sent();
    const r = await cli(['get', SYSTEM]);
    expect(r.code).toBe(0);
    return sent() - before;
  };

  // ---- batch -----------------------------------------------------------------------------

  describe('batch', () => {
    it('mixed GET/PATCH/POST lines: results in input order, one login, no session left', async () => {
      const loginsBefore = logins();
      const exchangesBefore = exchanges();
      const input = jsonl(
        { method: 'get', path: SYSTEM },
        { method: 'PATCH', path: SYSTEM, body: { AssetTag: `batch-${transport}` } },
        { method: 'Get', path: SYSTEM },
        { method: 'post', path: RESET, body: { ResetType: 'ForceOff' } },
        { method: 'get', path: SYSTEM },
        { method: 'post', path: RESET, body: { ResetType: 'On' } },
        { method: 'head', path: '/redfish/v1' },
      );
      const r = await cli(['batch', tempFile('mixed.jsonl', input)]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = jsonLines(r.stdout).map(shown);
      expect(out.map((l) => l.status)).toEqual([200, 200, 200, 200, 200, 200, 200]);
      for (const l of out) {
        expect(Object.keys(l).sort()).toEqual(['body', 'headers', 'status']);
        for (const name of Object.keys(l.headers)) expect(name).toBe(name.toLowerCase());
        expect(l.headers).not.toHaveProperty('x-auth-token');
        expect(l.headers).not.toHaveProperty('set-cookie');
      }
      expect(out[0]?.headers['content-type']).toMatch(/^application\/json/);
      expect((out[0]?.body as { '@odata.id': string })['@odata.id']).toBe(SYSTEM);
      expect(messageIds(out[1]?.body)).toEqual(['Base.1.18.Success']);
      // each line saw the lines before it: run in order
      expect((out[2]?.body as { AssetTag: string }).AssetTag).toBe(`batch-${transport}`);
      expect((out[4]?.body as { PowerState: string }).PowerState).toBe('Off');
      expect(out[6]?.body).toBeNull(); // HEAD: no body
      expect((await direct()).PowerState).toBe('On');
      expect(logins() - loginsBefore).toBe(1);
      // really the transport under test: in-band exchanges only for chif
      if (transport === 'chif') expect(exchanges() - exchangesBefore).toBeGreaterThanOrEqual(9);
      else expect(exchanges()).toBe(exchangesBefore);
      expectNoSessions();
    });

    it('invalid lines become error lines (numbered as in the file) and the other lines still run; exit 6', async () => {
      const loginsBefore = logins();
      const input = [
        JSON.stringify({ method: 'GET', path: SYSTEM }), // 1
        '', // 2: empty lines are skipped, but counted
        '{"method": "GET", "path": ', // 3: bad JSON
        JSON.stringify({ method: 'FROB', path: SYSTEM }), // 4
        JSON.stringify({ method: 'GET', path: '/v1/Systems/1' }), // 5
        JSON.stringify({ method: 'GET', path: SYSTEM, body: {} }), // 6
        JSON.stringify({ method: 'delete', path: SYSTEM, body: null }), // 7
        JSON.stringify({ method: 'POST', path: '/redfish/v1/SessionService/Sessions', body: { UserName: 'Administrator', Password: 'password' } }), // 8
        JSON.stringify({ method: 'PATCH', path: SYSTEM, bdy: { AssetTag: 'typo' } }), // 9
        JSON.stringify({ method: 'PATCH', path: SYSTEM, body: { AssetTag: `valid-${transport}` } }), // 10
      ].join('\r\n');
      const r = await cli(['batch'], input);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/7 of 9 lines did not succeed/);
      expect(r.stderr).not.toMatch(NO_STACK);
      const out = jsonLines(r.stdout);
      expect(out).toHaveLength(9);
      expect(shown(out[0]).status).toBe(200);
      const errors = out.slice(1, 8);
      expect(errors.map((l) => (l as ErrorLine).line)).toEqual([3, 4, 5, 6, 7, 8, 9]);
      expect(errors.every((l) => isError(l) && l.error.code === 'E_INPUT')).toBe(true);
      expect(errors.map((l) => (l as ErrorLine).error.message)).toEqual([
        expect.stringMatching(/not valid JSON/),
        expect.stringMatching(/unknown method "FROB"/),
        expect.stringMatching(/not a Redfish path/),
        expect.stringMatching(/GET takes no body/),
        expect.stringMatching(/DELETE takes no body/),
        expect.stringMatching(/second session/),
        expect.stringMatching(/unknown key "bdy"/),
      ]);
      expect(shown(out[8]).status).toBe(200);
      expect((await direct()).AssetTag).toBe(`valid-${transport}`);
      expect(logins() - loginsBefore).toBe(1); // the session POST line made no second session
      expectNoSessions();
    });

    it('a body number JSON would change (1e400 as null) is an invalid line, never sent', async () => {
      const before = sent();
      const r = await cli(['batch', '-'], jsonl({ method: 'patch', path: SYSTEM, body: { AssetTag: 'x' } }).replace('"x"', '1e400'));
      expect(r.code).toBe(2);
      expect(jsonLines(r.stdout)).toEqual([{ line: 1, error: { code: 'E_INPUT', message: expect.stringMatching(/the number 1e400 would be sent as null/) } }]);
      expect(sent()).toBe(before);
    });

    it('--fail-fast with an invalid line: exit 2, nothing sent, nothing on stdout', async () => {
      const tag = (await direct()).AssetTag;
      const before = sent();
      const input = jsonl({ method: 'PATCH', path: SYSTEM, body: { AssetTag: 'never' } }, { method: 'GET', path: '/v1/nope' });
      const r = await cli(['batch', '--fail-fast', tempFile('invalid.jsonl', input)]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/nothing was sent \(--fail-fast\): line 2: not a Redfish path/);
      expect(r.stderr).not.toMatch(NO_STACK);
      expect(sent()).toBe(before);
      expect((await direct()).AssetTag).toBe(tag);
      expectNoSessions();
    });

    it('only invalid lines: error lines, exit 2, no login', async () => {
      const before = sent();
      const r = await cli(['batch', '-'], 'nope\n{"method":"GET"}\n');
      expect(r.code).toBe(2);
      expect(jsonLines(r.stdout)).toEqual([
        { line: 1, error: { code: 'E_INPUT', message: expect.stringMatching(/not valid JSON/) } },
        { line: 2, error: { code: 'E_INPUT', message: expect.stringMatching(/"path" is required/) } },
      ]);
      expect(sent()).toBe(before);
    });

    it('a 404 line is a result with its status; the batch goes on; exit 6', async () => {
      const input = jsonl(
        { method: 'GET', path: '/redfish/v1/Systems/9' },
        { method: 'PATCH', path: SYSTEM, body: { AssetTag: `after-404-${transport}` } },
        { method: 'GET', path: SYSTEM },
      );
      const r = await cli(['batch', tempFile('404.jsonl', input)]);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/1 of 3 lines did not succeed \(line 1: 404\)/);
      const out = jsonLines(r.stdout).map(shown);
      expect(out.map((l) => l.status)).toEqual([404, 200, 200]);
      expect(messageIds(out[0]?.body)).toEqual(['Base.1.18.ResourceMissingAtURI']);
      expect((out[2]?.body as { AssetTag: string }).AssetTag).toBe(`after-404-${transport}`);
      expectNoSessions();
    });

    it('--fail-fast stops at the first error status: later lines are not sent; exit 6 with the MessageId', async () => {
      const tag = (await direct()).AssetTag;
      const input = jsonl(
        { method: 'GET', path: SYSTEM },
        { method: 'GET', path: '/redfish/v1/Systems/9' },
        { method: 'PATCH', path: SYSTEM, body: { AssetTag: 'not-after-fail-fast' } },
      );
      const r = await cli(['batch', '--fail-fast'], input);
      expect(r.code).toBe(6);
      expect(r.stderr).toContain('Base.1.18.ResourceMissingAtURI');
      expect(r.stderr).not.toMatch(NO_STACK);
      expect(jsonLines(r.stdout).map((l) => shown(l).status)).toEqual([200, 404]);
      expect((await direct()).AssetTag).toBe(tag);
      expectNoSessions();
    });

    it('a failed request (not an error status) becomes an error line with its code, and the batch goes on', async () => {
      sim.faults.inject({ type: 'garble', method: 'GET', path: '/redfish/v1/Managers/1' });
      const input = jsonl({ method: 'GET', path: '/redfish/v1/Managers/1' }, { method: 'GET', path: '/redfish/v1/Chassis/1' });
      const r = await cli(['batch'], input);
      // A garbled body is still an answer: shown as text. Then a truncated answer: a failure.
      expect(jsonLines(r.stdout).map((l) => shown(l).status)).toEqual([200, 200]);
      expect(typeof shown(jsonLines(r.stdout)[0]).body).toBe('string');
      expect(r.code).toBe(0);

      sim.faults.inject({ type: 'drop', method: 'GET', path: '/redfish/v1/Managers/1', times: 0 });
      const failed = await cli(['--timeout', '3s', 'batch'], input);
      const out = jsonLines(failed.stdout);
      expect(out).toHaveLength(2);
      expect(isError(out[0])).toBe(true);
      expect((out[0] as ErrorLine).line).toBe(1);
      expect((out[0] as ErrorLine).error.code).toBe(transport === 'https' ? 'E_CONNECT' : 'E_CHIF'); // the connection cut mid-answer
      expect(shown(out[1]).status).toBe(200);
      expect(failed.code).toBe(6);
      sim.faults.clear();
      expectNoSessions();
    });

    it('the same batch from a file, from "-" and from standard input without an argument gives the same output', async () => {
      const input = jsonl({ method: 'GET', path: '/redfish/v1/Managers/1' }, { method: 'GET', path: '/redfish/v1/Chassis/1' });
      const fromFile = await cli(['batch', tempFile('same.jsonl', input)]);
      const fromDash = await cli(['batch', '-'], input);
      const fromStdin = await cli(['batch'], input);
      for (const r of [fromFile, fromDash, fromStdin]) {
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      }
      const bodies = (r: Result) => jsonLines(r.stdout).map((l) => shown(l).body);
      expect(bodies(fromDash)).toEqual(bodies(fromFile));
      expect(bodies(fromStdin)).toEqual(bodies(fromFile));
      expect(bodies(fromFile).map((b) => (b as { '@odata.id': string })['@odata.id'])).toEqual(['/redfish/v1/Managers/1', '/redfish/v1/Chassis/1']);
      expectNoSessions();
    });

    it('a file that cannot be read: exit 2, nothing sent', async () => {
      const before = sent();
      const r = await cli(['batch', join(TMP, 'absent.jsonl')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/cannot read the batch .*absent\.jsonl: ENOENT/);
      expect(r.stdout).toBe('');
      expect(sent()).toBe(before);
    });

    it('an empty batch: nothing to do, no login, exit 0', async () => {
      const before = sent();
      const r = await cli(['batch'], '\n  \n');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('');
      expect(sent()).toBe(before);
    });

    it('200 lines over one session, in order', async () => {
      const loginsBefore = logins();
      const requests = Array.from({ length: 200 }, (_, i) =>
        i % 2 === 0 ? { method: 'PATCH', path: SYSTEM, body: { AssetTag: `tag-${i}` } } : { method: 'GET', path: SYSTEM },
      );
      const r = await cli(['batch', tempFile('200.jsonl', jsonl(...requests))]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = jsonLines(r.stdout).map(shown);
      expect(out).toHaveLength(200);
      expect(out.every((l) => l.status === 200)).toBe(true);
      out.forEach((l, i) => {
        if (i % 2 === 1) expect((l.body as { AssetTag: string }).AssetTag).toBe(`tag-${i - 1}`);
      });
      expect(logins() - loginsBefore).toBe(1);
      expectNoSessions();
    }, 60_000);
  });

  // ---- set -------------------------------------------------------------------------------

  describe('set', () => {
    it('changes only what differs (unchanged read-only properties are not sent), and reads back', async () => {
      const old = (await direct()).AssetTag;
      // Id and Status are read-only: sending them would be refused (400). They already match.
      const r = await cli(['set', SYSTEM, `AssetTag=set-${transport}`, 'Id="1"', 'Status.Health=OK']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        changed: true,
        before: { AssetTag: old, Id: '1', Status: { Health: 'OK' } },
        after: { AssetTag: `set-${transport}`, Id: '1', Status: { Health: 'OK' } },
      });
      expect((await direct()).AssetTag).toBe(`set-${transport}`);
      expectNoSessions();
    });

    it('a second identical set sends no PATCH: the same requests as a get, the ETag unchanged', async () => {
      const args = ['set', SYSTEM, `AssetTag=same-${transport}`, 'IndicatorLED=Lit'];
      const first = await cli(args);
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout).changed).toBe(true);
      const etag = (await direct())['@odata.etag'];
      const baseline = await getCost();
      const before = sent();
      const second = await cli(args);
      expect(second.stderr).toBe('');
      expect(second.code).toBe(0);
      expect(sent() - before).toBe(baseline); // login, GET, logout: no PATCH, no read-back
      const result = JSON.parse(second.stdout);
      expect(result).toEqual({ changed: false, before: { AssetTag: `same-${transport}`, IndicatorLED: 'Lit' }, after: { AssetTag: `same-${transport}`, IndicatorLED: 'Lit' } });
      expect((await direct())['@odata.etag']).toBe(etag);
      expectNoSessions();
    });

    it('a nested property: Boot.BootSourceOverrideTarget=Pxe, the rest of Boot untouched', async () => {
      await directPatch({ Boot: { BootSourceOverrideTarget: 'None' } });
      const bootBefore = (await direct()).Boot;
      const r = await cli(['set', SYSTEM, 'Boot.BootSourceOverrideTarget=Pxe']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ changed: true, before: { Boot: { BootSourceOverrideTarget: 'None' } }, after: { Boot: { BootSourceOverrideTarget: 'Pxe' } } });
      expect((await direct()).Boot).toEqual({ ...bootBefore, BootSourceOverrideTarget: 'Pxe' });
      expectNoSessions();
    });

    it('--data gives the desired object; key=value applies on top', async () => {
      await directPatch({ Boot: { BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideTarget: 'None' } });
      const data = JSON.stringify({ Boot: { BootSourceOverrideEnabled: 'Once', BootSourceOverrideTarget: 'Hdd' }, AssetTag: `data-${transport}` });
      const r = await cli(['set', SYSTEM, '--data', data, 'Boot.BootSourceOverrideTarget=Cd']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const result = JSON.parse(r.stdout);
      expect(result.changed).toBe(true);
      expect(result.after).toEqual({ Boot: { BootSourceOverrideEnabled: 'Once', BootSourceOverrideTarget: 'Cd' }, AssetTag: `data-${transport}` });
      const now = await direct();
      expect(now.Boot).toMatchObject({ BootSourceOverrideEnabled: 'Once', BootSourceOverrideTarget: 'Cd' });
      expect(now.AssetTag).toBe(`data-${transport}`);
      expectNoSessions();
    });

    it('--check: exit 0 when the resource matches, 10 when it would change; nothing is changed', async () => {
      await directPatch({ AssetTag: 'checked', Boot: { BootSourceOverrideTarget: 'None' } });
      const etag = (await direct())['@odata.etag'];
      const baseline = await getCost();

      let before = sent();
      const matching = await cli(['set', '--check', SYSTEM, 'AssetTag=checked']);
      expect(matching.stderr).toBe('');
      expect(matching.code).toBe(0);
      expect(JSON.parse(matching.stdout)).toEqual({ changed: false, before: { AssetTag: 'checked' }, after: { AssetTag: 'checked' } });
      expect(sent() - before).toBe(baseline);

      before = sent();
      const differs = await cli(['set', SYSTEM, '--check', 'AssetTag=checked', 'Boot.BootSourceOverrideTarget=Pxe']);
      expect(differs.stderr).toBe('');
      expect(differs.code).toBe(10);
      expect(JSON.parse(differs.stdout)).toEqual({
        changed: true,
        before: { AssetTag: 'checked', Boot: { BootSourceOverrideTarget: 'None' } },
        after: { AssetTag: 'checked', Boot: { BootSourceOverrideTarget: 'Pxe' } },
      });
      expect(sent() - before).toBe(baseline); // no PATCH
      const now = await direct();
      expect(now.Boot.BootSourceOverrideTarget).toBe('None');
      expect(now['@odata.etag']).toBe(etag);
      expectNoSessions();
    });

    it('--check of a property the resource lacks: exit 6 naming it (and the likely key), not "would change"; nothing sent but the GET', async () => {
      const baseline = await getCost();
      const before = sent();
      const r = await cli(['set', '--check', SYSTEM, 'AssetTag=x', 'Boot.BootSourceOverideTarget=Pxe', 'Frobnicate=1']);
      expect(r.code, r.stderr).toBe(6);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `ilo-agent: ${SYSTEM} has no Boot.BootSourceOverideTarget (did you mean Boot.BootSourceOverrideTarget?), Frobnicate: --check cannot match a property the resource lacks (misspelt, or not on this iLO)\n`,
      );
      expect(sent() - before).toBe(baseline);
      expectNoSessions();
    });

    it('--data-file FILE and --data-file - (standard input) give the desired object', async () => {
      const fromFile = await cli(['set', SYSTEM, '--data-file', tempFile('desired.json', JSON.stringify({ AssetTag: `file-${transport}` }))]);
      expect(fromFile.code, fromFile.stderr).toBe(0);
      expect(JSON.parse(fromFile.stdout).after).toEqual({ AssetTag: `file-${transport}` });
      expect((await direct()).AssetTag).toBe(`file-${transport}`);
      const fromStdin = await cli(['set', '--check', SYSTEM, '--data-file', '-'], JSON.stringify({ AssetTag: `file-${transport}` }));
      expect(fromStdin.code, fromStdin.stderr).toBe(0);
      expect(JSON.parse(fromStdin.stdout).changed).toBe(false);
      const before = sent();
      const both = await cli(['set', SYSTEM, '--data', '{}', '--data-file', tempFile('d.json', '{}')]);
      expect(both.code).toBe(2);
      expect(both.stderr).toMatch(/give the properties with --data or --data-file, not both/);
      const notObject = await cli(['set', SYSTEM, '--data-file', tempFile('list.json', '[1]')]);
      expect(notObject.code).toBe(2);
      expect(notObject.stderr).toMatch(/--data-file must be a JSON object/);
      expect(sent()).toBe(before);
      expectNoSessions();
    });

    it('a property the iLO rejects: exit 6 with its MessageId on stderr, nothing applied', async () => {
      const old = (await direct()).AssetTag;
      const r = await cli(['set', SYSTEM, 'AssetTag=rejected', 'Frob=1']);
      expect(r.code).toBe(6);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('iLO.2.30.PropertyNotWritableOrUnknown');
      expect(r.stderr).not.toMatch(NO_STACK);
      expect((await direct()).AssetTag).toBe(old);
      expectNoSessions();
    });

    it('a value outside the resource\'s AllowableValues: exit 6 with PropertyValueNotInList and the value on stderr, nothing applied', async () => {
      await directPatch({ Boot: { BootSourceOverrideTarget: 'None' } });
      const r = await cli(['set', SYSTEM, 'Boot.BootSourceOverrideTarget=Pxee']);
      expect(r.code).toBe(6);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('Base.1.18.PropertyValueNotInList');
      expect(r.stderr).toContain('Pxee');
      expect(r.stderr).not.toMatch(NO_STACK);
      expect((await direct()).Boot.BootSourceOverrideTarget).toBe('None');
      expectNoSessions();
    });

    it('a value the iLO reports differently after the PATCH: changed, the read-back value, a "pending" note, exit 0', async () => {
      await directPatch({ IndicatorLED: 'Off' });
      // The PATCH is applied, then its answer is held while the value changes again behind it
      // (as a setting that applies at reboot reads back its old value).
      sim.faults.inject({ type: 'hang', method: 'PATCH', path: SYSTEM, stage: 'after' });
      const running = cli(['set', SYSTEM, 'IndicatorLED=Blinking']);
      await until(() => sim.faults.held === 1, 'the PATCH is held', 10_000);
      await directPatch({ IndicatorLED: 'Off' });
      sim.faults.release();
      const r = await running;
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ changed: true, before: { IndicatorLED: 'Off' }, after: { IndicatorLED: 'Off' } });
      expect(r.stderr).toMatch(/^ilo-agent: pending: the iLO reports a different value until .*: IndicatorLED\n$/);
      expectNoSessions();
    });

    it('a numeric value within what JSON carries goes out as written (1.50e2 is 150)', async () => {
      const r = await cli(['set', SYSTEM, 'Boot={"X":[1.50e2, 9007199254740991, -0.5]}']);
      // The iLO refuses the unknown Boot.X (exit 6): what matters is that nothing was refused here.
      expect(r.stderr).not.toMatch(/would be sent as/);
      expect(r.code).toBe(6);
      expectNoSessions();
    });

    it('a write-only property (Password) is sent as text and never printed: null as the iLO shows it, no "pending"', async () => {
      const r = await cli(['set', ACCOUNT, 'Password=123456']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      // The simulator, unlike an iLO, reads the value back: the output must not show it either.
      expect((await direct(ACCOUNT)).Password).toBe('123456');
      expect(JSON.parse(r.stdout)).toEqual({ changed: true, before: { Password: null }, after: { Password: null } });
      expect(r.stdout).not.toContain('123456');
      expectNoSessions();
      await directPatch({ Password: 'reset-by-the-test' }, ACCOUNT); // the next run must change it again
    });

    it('a missing resource: exit 6, nothing on stdout', async () => {
      const r = await cli(['set', '/redfish/v1/Systems/9', 'AssetTag=x']);
      expect(r.code).toBe(6);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('ResourceMissingAtURI');
      expectNoSessions();
    });

    it.each([
      ['no key=value and no --data', ['set', SYSTEM], /nothing to set/],
      ['an argument without =', ['set', SYSTEM, 'AssetTag'], /expected key=value/],
      ['=x', ['set', SYSTEM, '=x'], /property name is missing/],
      ['a key given twice with different values', ['set', SYSTEM, 'AssetTag=a', 'AssetTag=b'], /AssetTag is given twice with different values/],
      ['a property given whole and in part', ['set', SYSTEM, 'Boot={"BootSourceOverrideTarget":"Pxe"}', 'Boot.BootSourceOverrideTarget=Cd'], /given both on its own and inside Boot/],
      ['invalid --data JSON', ['set', SYSTEM, '--data', '{"AssetTag":'], /--data is not valid JSON/],
      ['--data that is not an object', ['set', SYSTEM, '--data', '["AssetTag"]'], /--data must be a JSON object/],
      ['an empty --data', ['set', SYSTEM, '--data', '{}'], /nothing to set/],
      ['a path not under /redfish', ['set', '/v1/Systems/1', 'AssetTag=x'], /not a Redfish path/],
      // Numbers JSON would change on the way (JSON.stringify(Infinity) is null; 2^53 and beyond lose digits).
      ['a number that overflows', ['set', SYSTEM, 'AssetTag=1e400'], /AssetTag=1e400: the number 1e400 would be sent as null.*AssetTag='"1e400"'/],
      ['an integer past 2^53', ['set', SYSTEM, 'AssetTag=12345678901234567890'], /the number 12345678901234567890 would be sent as 12345678901234567000/],
      ['a decimal with more digits than a double holds', ['set', SYSTEM, 'AssetTag=0.10000000000000000001'], /would be sent as 0\.1\b/],
      ['a number that underflows', ['set', SYSTEM, 'AssetTag=1e-400'], /would be sent as 0\b/],
      ['an overflowing number inside a JSON value', ['set', SYSTEM, 'Boot={"X":[1,-2e308]}'], /the number -2e308 would be sent as null/],
      ['an overflowing number in --data', ['set', SYSTEM, '--data', '{"AssetTag":1e400}'], /--data: the number 1e400 would be sent as null/],
      // A write-only property never reads back: --check could only ever say "would change".
      ['--check of a write-only property', ['set', '--check', ACCOUNT, 'Password=N3wS3cret'], /Password is write-only: the iLO never shows its value.*--check cannot tell/],
      ['--check of a nested write-only property', ['set', '--check', '/redfish/v1/AccountService', '--data', '{"LDAP":{"Authentication":{"Password":"N3wS3cret"}}}'], /LDAP\.Authentication\.Password is write-only/],
      ['a write-only property given twice', ['set', ACCOUNT, 'Password=N3wS3cret', 'Password=0therS3cret'], /^ilo-agent: Password is given twice with different values\n$/],
    ])('refuses %s: exit 2, nothing sent', async (_name, args, message) => {
      const before = sent();
      const r = await cli(args);
      expect(r.stderr).not.toContain('S3cret');
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toMatch(NO_STACK);
      expect(sent()).toBe(before);
      expectNoSessions();
    });
  });
});
