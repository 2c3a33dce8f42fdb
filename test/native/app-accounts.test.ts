// The emulator library's iLO 7 application-account exports, called through koffi with the
// declarations HPE's ABI needs (docs/reference/ilo7-inband.md §2.4), against a real simulator in this process. The
// simulator answers on this event loop, so every call that reaches it uses koffi's async form.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import type { IKoffiLib } from 'koffi';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { killIfRunning, runCli, type Running } from '../helpers/cli.js';
import { client } from '../helpers/https-client.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';

const LIB = join(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const SOCKET_ENV = 'ILO_CHIF_EMULATOR_SOCKET';
const SELF = 'self_register';

type Fn = ReturnType<IKoffiLib['func']>;

function later<T>(fn: Fn, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => fn.async(...args, (err: unknown, rc: T) => (err ? reject(err) : resolve(rc))));
}

const skip = process.platform !== 'linux';

describe.skipIf(skip)('emulator app-account exports', () => {
  let dir: string;
  let lib: IKoffiLib;
  let sim: Simulator | undefined;
  const fns = new Map<string, Fn>();
  const f = (name: string): Fn => {
    const fn = fns.get(name);
    if (!fn) throw new Error(`${name} is not declared`);
    return fn;
  };

  beforeAll(() => {
    if (!existsSync(LIB)) throw new Error(`${LIB} is missing: run npm run build`);
    try {
      koffi.config({ ...koffi.config(), async_stack_size: 8 << 20, sync_stack_size: 8 << 20 });
    } catch {
      // a library was loaded first in this worker; default stacks do
    }
    lib = koffi.load(LIB);
    dir = mkdtempSync(join(tmpdir(), 'app-accounts-'));
    // docs/reference/ilo7-inband.md §2.4, as the agent side declares them.
    const decl = [
      'int DetectILO(const char *appid, _Out_ int *iloType, _Out_ int *securityState)',
      'int ReadyToUse(void)',
      'int AppIdExistsinTPM(const char *appid, _Out_ bool *exists)',
      'int GetSessionID(const char *appid, const char *appname, const char *salt, _Out_ const char **id, _Out_ const char **loc)',
      'const wchar_t *GetIPAddress(void)',
      'int ExpandAppid(const char *appid4, _Out_ const char **expanded)',
      'int CompareAppIds(const char *a, const char *n, const char *s, _Out_ void **ids, _Out_ void **names, _Out_ int *count, _Out_ void **inTpm, _Out_ void **inIlo)',
      'int GenerateAppToken(const char *a, const char *n, const char *s, const char *u, const char *p, const char *ownerAuth)',
      'int ReactivateAppToken(const char *a, const char *n, const char *s, const char *u, const char *p, const char *ownerAuth)',
      'int DeleteAppToken(const char *a, const char *n, const char *s)',
      'int DeleteAppTokenUsingCreds(const char *a, const char *u, const char *p)',
      'bool enabledebugoutput(const char *dir)',
      'uint32_t ChifCreate(_Out_ void **out)',
      'uint32_t ChifClose(void *h)',
      'void ChifSetRecvTimeout(void *h, int ms)',
    ];
    for (const d of decl) fns.set(/(\w+)\(/.exec(d)?.[1] as string, lib.func(d));
    // ilorest 6.3's 5-argument declaration of the same symbol.
    fns.set('GenerateAppToken5', lib.func('int GenerateAppToken(const char *a, const char *n, const char *s, const char *u, const char *p)'));
  });

  afterEach(async () => {
    delete process.env[SOCKET_ENV];
    await sim?.close();
    sim = undefined;
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let count = 0;
  async function start(options: SimulatorOptions = {}): Promise<Simulator> {
    sim = await startSimulator({ profile: 'ilo7', chifSocket: join(dir, `s${count++}.sock`), loginFailureDelayMs: 0, ...options });
    process.env[SOCKET_ENV] = sim.chifSocket as string;
    return sim;
  }

  const detect = async (appid: string | null = SELF) => {
    const type = [-99];
    const state = [-99];
    const rc = await later<number>(f('DetectILO'), appid, type, state);
    return [rc, type[0], state[0]];
  };
  const exists = async (appid = SELF) => {
    const out = [null as boolean | null];
    const rc = await later<number>(f('AppIdExistsinTPM'), appid, out);
    return [rc, out[0]];
  };
  const session = async (appid = SELF, name = SELF, salt = SELF) => {
    const id: (string | null)[] = ['x'];
    const loc: (string | null)[] = ['y'];
    const rc = await later<number>(f('GetSessionID'), appid, name, salt, id, loc);
    return { rc, token: id[0], location: loc[0] };
  };
  const generate = (user: string, password: string, fn = 'GenerateAppToken') =>
    later<number>(f(fn), SELF, SELF, SELF, user, password, ...(fn.endsWith('5') ? [] : ['']));
  const compare = async (appid = SELF) => {
    const ids: unknown[] = [null];
    const names: unknown[] = [null];
    const n = [-1];
    const tpm: unknown[] = [null];
    const ilo: unknown[] = [null];
    const rc = await later<number>(f('CompareAppIds'), appid, SELF, SELF, ids, names, n, tpm, ilo);
    const length = n[0] as number;
    if (length <= 0) return { rc, count: length, rows: [], nulls: [ids[0], names[0], tpm[0], ilo[0]] };
    const decode = (p: unknown, type: string) => koffi.decode(p, koffi.array(type, length)) as unknown[];
    const [i, m, t, l] = [decode(ids[0], 'const char *'), decode(names[0], 'const char *'), decode(tpm[0], 'uint8_t'), decode(ilo[0], 'uint8_t')];
    return { rc, count: length, rows: i.map((id, k) => ({ id, name: m[k], inTpm: t[k], inIlo: l[k] })) };
  };
  const vnic = (s: Simulator) => {
    const c = client({ url: s.vnicUrl as string, ca: s.vnicCa as string });
    const agent = new Agent({ ca: s.vnicCa as string, servername: 'ilo-simulator.local' });
    return { call: (method: string, path: string, token: string) => c.call(method, path, { token, agent }), close: () => (c.close(), agent.destroy()) };
  };

  describe('DetectILO', () => {
    it('ilo7 with the vNIC on: 0, type 7; an unknown appid: -2; NULL out-parameters: -2', async () => {
      await start();
      expect(await detect()).toEqual([0, 7, 0]);
      expect(await detect('00b5')).toEqual([0, 7, 0]); // the 4-digit form of iLOrest's id
      expect(await detect('not-an-app')).toEqual([-2, 0, 0]);
      expect(await detect('beef')).toEqual([-2, 0, 0]);
      expect(await later(f('DetectILO'), SELF, null, [0])).toBe(-2);
      expect(await later(f('DetectILO'), SELF, [0], null)).toBe(-2);
      // no CHIF on iLO 7: a channel cannot be made
      const out: unknown[] = [null];
      expect(await later(f('ChifCreate'), out)).toBe(19);
    });

    it('ilo7 with the vNIC off: -50, type 101', async () => {
      await start({ vnic: 'off' });
      expect(await detect()).toEqual([-50, 101, 0]);
    });

    it('follows the vNIC setting after an iLO reset: -50 / 101, ReadyToUse -1', async () => {
      const s = await start();
      const c = client(s);
      const basic: [string, string] = ['Administrator', 'password'];
      try {
        await c.call('PATCH', '/redfish/v1/Managers/1', { basic, body: { Oem: { Hpe: { VirtualNICEnabled: false } } } });
        expect(await detect()).toEqual([0, 7, 0]); // not before the reset
        await c.call('POST', '/redfish/v1/Managers/1/Actions/Manager.Reset', { basic, body: { ResetType: 'ForceRestart' } });
      } finally {
        c.close();
      }
      await until(() => s.vnicUrl === null, 'the vNIC to go');
      expect(await detect()).toEqual([-50, 101, 0]);
      expect(await later(f('ReadyToUse'))).toBe(-1);
    });

    it.each([
      ['ilo6', 'production', [0, 6, 3]],
      ['ilo6', 'highsecurity', [0, 6, 4]],
      ['ilo5', 'fips', [0, 5, 5]],
    ] as const)('%s in %s: 0 with its type and state, and CHIF still works', async (profile, securityState, answer) => {
      await start({ profile, securityState });
      expect(await detect()).toEqual(answer);
      const out: unknown[] = [null];
      expect(await later(f('ChifCreate'), out)).toBe(0);
      expect(await later(f('ChifClose'), out[0])).toBe(0);
    });

    it('iLO 5/6 whose CHIF driver is missing (ping knob 19), and no simulator at all: -1, type 100', async () => {
      const s = await start({ profile: 'ilo6' });
      s.chif.setFaults({ ping: 19 });
      expect(await detect()).toEqual([-1, 100, 0]);
      await s.close();
      delete process.env[SOCKET_ENV];
      expect(f('DetectILO')(SELF, [0], [0])).toBe(-1);
      const type = [0];
      f('DetectILO')(SELF, type, [0]);
      expect(type[0]).toBe(100);
    });
  });

  it('ReadyToUse: 0 while the vNIC listens; -1 when it is down, off, or on iLO 6', async () => {
    const s = await start();
    expect(await later(f('ReadyToUse'))).toBe(0);
    await s.app.setFaults({ vnicDown: true });
    expect(await later(f('ReadyToUse'))).toBe(-1);
    await s.close();
    await start({ vnic: 'off' });
    expect(await later(f('ReadyToUse'))).toBe(-1);
    await sim?.close();
    await start({ profile: 'ilo6' });
    expect(await later(f('ReadyToUse'))).toBe(-1);
    await sim?.close();
    delete process.env[SOCKET_ENV];
    expect(f('ReadyToUse')()).toBe(-1);
  });

  it('AppIdExistsinTPM: from the TPM store; inactive tokens still exist; a call-error knob', async () => {
    const s = await start();
    expect(await exists()).toEqual([0, true]);
    expect(await exists('00b5')).toEqual([0, true]);
    expect(await exists('feed')).toEqual([0, false]);
    s.app.setAccount('inactive');
    expect(await exists()).toEqual([0, true]);
    s.app.setAccount('orphan');
    expect(await exists()).toEqual([0, false]);
    await s.app.setFaults({ existsRc: -5 });
    expect((await exists())[0]).toBe(-5);
    expect(await later(f('AppIdExistsinTPM'), SELF, null)).toBe(-2);
  });

  describe('GetSessionID', () => {
    it('makes an ordinary session: token and absolute vNIC location, usable and deletable over the vNIC', async () => {
      const s = await start();
      const { rc, token, location } = await session();
      expect(rc).toBe(0);
      expect(token).toMatch(/^[0-9a-f]{32}$/);
      expect(location).toMatch(new RegExp(`^${s.vnicUrl}/redfish/v1/SessionService/Sessions/ilorest[0-9a-f]+$`));
      expect(s.sessions()).toEqual([expect.objectContaining({ user: 'iLORest', transport: 'vnic', userIp: '16.1.15.2', transient: false })]);
      const v = vnic(s);
      try {
        expect((await v.call('GET', '/redfish/v1/Systems/1', token as string)).status).toBe(200);
        expect((await v.call('DELETE', new URL(location as string).pathname, token as string)).status).toBe(200);
      } finally {
        v.close();
      }
      s.assertNoSessions();
      // each call makes a new session, counted against the one cap
      await session();
      await session();
      expect(s.sessions()).toHaveLength(2);
    });

    it('inactive token: 2; no token: non-zero; both with NULL outputs and no session', async () => {
      const s = await start({ appAccount: 'inactive' });
      expect(await session()).toEqual({ rc: 2, token: null, location: null });
      s.app.setAccount('absent');
      const none = await session();
      expect(none.rc).not.toBe(0);
      expect([none.token, none.location]).toEqual([null, null]);
      s.app.setAccount('orphan');
      expect((await session()).rc).not.toBe(0);
      expect((await session(SELF, SELF, 'other salt')).rc).not.toBe(0);
      s.assertNoSessions();
    });

    it('contention knob: 0 with NULL outputs once, no session; the retry works', async () => {
      const s = await start({ appFaults: { sessionContention: 1 } });
      expect(await session()).toEqual({ rc: 0, token: null, location: null });
      s.assertNoSessions();
      const retry = await session();
      expect(retry.rc).toBe(0);
      expect(retry.token).toMatch(/^[0-9a-f]{32}$/);
      expect(s.app.faults()).toEqual({});
    });

    it('create-then-fail knob: the session exists, the call fails (the leak a client must report)', async () => {
      const s = await start();
      await s.app.setFaults({ sessionCreateThenFail: -7 });
      expect(await session()).toEqual({ rc: -7, token: null, location: null });
      expect(s.sessions()).toEqual([expect.objectContaining({ user: 'iLORest' })]);
      expect((await session()).rc).toBe(0); // once
    });

    it('gives up with -1 after the handle-less receive timeout (ChifSetRecvTimeout(NULL, ms))', async () => {
      const s = await start({ appFaults: { sessionDelayMs: 5_000 } });
      f('ChifSetRecvTimeout')(null, 200);
      try {
        expect(await session()).toEqual({ rc: -1, token: null, location: null });
        // It gave up before the simulator answered (its session comes only after the delay).
        expect(s.sessions()).toEqual([]);
      } finally {
        f('ChifSetRecvTimeout')(null, 60_000);
      }
      // the simulator went on: the session a client that timed out may have left behind
      await until(() => s.sessions().length === 1, 'the late session', 20_000);
    }, 30_000);

    it('fails with the vNIC down, at the session cap, and after a delay knob it still answers', async () => {
      const s = await start({ maxSessions: 1 });
      await s.app.setFaults({ vnicDown: true });
      expect((await session()).rc).toBe(-1);
      await s.app.setFaults({ vnicDown: null, sessionDelayMs: 200 });
      const started = Date.now();
      expect((await session()).rc).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(180);
      expect((await session()).rc).toBe(-1); // cap of 1 reached
      expect(s.sessions()).toHaveLength(1);
    });
  });

  describe('GenerateAppToken, ReactivateAppToken, DeleteAppToken(UsingCreds)', () => {
    it('create: -8 on wrong credentials, 0 with them (TPM + iLO account), -55 when present', async () => {
      const s = await start({ appAccount: 'absent' });
      expect(await generate('Administrator', 'wrong')).toBe(-8);
      expect(await generate('nobody', 'password')).toBe(-8);
      expect(s.app.accounts()).toEqual({ tpm: [], ilo: [] });
      expect(await generate('Administrator', 'password')).toBe(0);
      expect(s.app.accounts()).toMatchObject({ tpm: [{ name: SELF, active: true }], ilo: [{ hostAppName: 'iLORest' }] });
      expect(await generate('Administrator', 'password')).toBe(-55);
      expect((await session()).rc).toBe(0);
    });

    it('accepts a 5-argument call (ilorest 6.3): ownerAuth is never read', async () => {
      const s = await start({ appAccount: 'absent' });
      expect(await generate('Administrator', 'password', 'GenerateAppToken5')).toBe(0);
      expect(s.app.accounts().tpm).toHaveLength(1);
    });

    it('an orphan (in iLO, not in the TPM) fails with -54 until its iLO account is deleted', async () => {
      const s = await start({ appAccount: 'orphan' });
      expect(await generate('Administrator', 'password')).toBe(-54);
      const memberId = s.app.accounts().ilo[0]?.memberId as string;
      // the clean-up HPE's tool does: DELETE the iLO account over the vNIC (Basic here)
      const c = client({ url: s.vnicUrl as string, ca: s.vnicCa as string });
      const agent = new Agent({ ca: s.vnicCa as string, servername: 'ilo-simulator.local' });
      try {
        const path = `/redfish/v1/AccountService/Oem/Hpe/AppAccounts/${memberId}`;
        expect((await c.call('DELETE', path, { basic: ['Administrator', 'password'], agent })).status).toBe(200);
      } finally {
        c.close();
        agent.destroy();
      }
      expect(await generate('Administrator', 'password')).toBe(0);
    });

    it('generateRc knob: the next call answers the code and does nothing', async () => {
      const s = await start({ appAccount: 'absent' });
      for (const code of [-53, -54, -63, 1]) {
        await s.app.setFaults({ generateRc: code });
        expect(await generate('Administrator', 'password')).toBe(code);
        expect(s.app.accounts().tpm).toHaveLength(0);
      }
      expect(await generate('Administrator', 'password')).toBe(0);
    });

    it('reactivate: -8 on wrong credentials; 0 makes an inactive token usable', async () => {
      await start({ appAccount: 'inactive' });
      expect((await session()).rc).toBe(2);
      expect(await later(f('ReactivateAppToken'), SELF, SELF, SELF, 'Administrator', 'bad', '')).toBe(-8);
      expect(await later(f('ReactivateAppToken'), SELF, SELF, SELF, 'Administrator', 'password', '')).toBe(0);
      expect((await session()).rc).toBe(0);
      sim?.app.setAccount('absent');
      expect(await later(f('ReactivateAppToken'), SELF, SELF, SELF, 'Administrator', 'password', '')).not.toBe(0);
    });

    it('delete: removes the TPM token and leaves iLO alone (unless the knob says both)', async () => {
      const s = await start();
      expect(await later(f('DeleteAppToken'), SELF, SELF, SELF)).toBe(0);
      expect(s.app.accounts()).toMatchObject({ tpm: [], ilo: [{ hostAppName: 'iLORest' }] });
      expect(await later(f('DeleteAppToken'), SELF, SELF, SELF)).not.toBe(0);
      expect(await exists()).toEqual([0, false]);

      s.app.setAccount('present');
      expect(await later(f('DeleteAppTokenUsingCreds'), SELF, 'Administrator', 'wrong')).toBe(-8);
      expect(s.app.accounts().tpm).toHaveLength(1);
      await s.app.setFaults({ deleteRemovesIlo: true });
      expect(await later(f('DeleteAppTokenUsingCreds'), SELF, 'Administrator', 'password')).toBe(0);
      expect(s.app.accounts()).toEqual({ tpm: [], ilo: [] });
    });

    it('refuses on iLO 6 (no application accounts before iLO 7)', async () => {
      const s = await start({ profile: 'ilo6' });
      expect(await generate('Administrator', 'password')).toBe(-1);
      expect(s.app.accounts().tpm).toHaveLength(0);
      expect((await compare()).rc).toBe(-8);
    });
  });

  it('ExpandAppid: a 4-digit id to the full TPM id; unknown: -1 and NULL', async () => {
    const s = await start();
    const out: (string | null)[] = ['x'];
    expect(await later(f('ExpandAppid'), '00b5', out)).toBe(0);
    expect(out[0]).toBe(s.app.accounts().tpm[0]?.id);
    expect(out[0]).toMatch(/^[0-9a-f]{30}00b5$/);
    expect(await later(f('ExpandAppid'), 'abcd', out)).toBe(-1);
    expect(out[0]).toBeNull();
    expect(await later(f('ExpandAppid'), '00b5', null)).toBe(-2);
  });

  it('GetIPAddress: the vNIC host as a wide string; the documented address without a simulator', async () => {
    await start();
    expect(await later(f('GetIPAddress'))).toBe('127.0.0.1');
    delete process.env[SOCKET_ENV];
    expect(f('GetIPAddress')()).toBe('16.1.15.1');
  });

  it('CompareAppIds: the union of TPM and iLO; -8 when empty; -62 for an inactive token', async () => {
    const s = await start();
    const id = s.app.accounts().tpm[0]?.id;
    expect(await compare()).toEqual({ rc: 0, count: 1, rows: [{ id, name: 'iLORest', inTpm: 1, inIlo: 1 }] });
    s.app.setAccount('orphan');
    expect((await compare()).rows).toEqual([{ id, name: 'iLORest', inTpm: 0, inIlo: 1 }]);
    s.app.setAccount('absent');
    expect(await compare()).toEqual({ rc: -8, count: 0, rows: [], nulls: [null, null, null, null] });
    s.app.setAccount('inactive');
    expect((await compare()).rc).toBe(-62);
  });

  it('against `ilo-agent simulate --profile ilo7 --chif-socket`: a session from the token, deleted over the vNIC', async () => {
    let running: Running | undefined;
    try {
      const socket = join(dir, 'cli.sock');
      running = runCli(['simulate', '--profile', 'ilo7', '--chif-socket', socket]);
      const ready = JSON.parse(await running.firstLine) as { url: string; ca: string; control: string; chifSocket: string; vnicUrl: string; vnicCa: string };
      expect(ready.chifSocket).toBe(socket);
      process.env[SOCKET_ENV] = socket;
      // the simulator is another process: plain synchronous calls, as a CLI makes them
      const type = [0];
      expect(f('DetectILO')(SELF, type, [0])).toBe(0);
      expect(type[0]).toBe(7);
      expect(f('ReadyToUse')()).toBe(0);
      const id: (string | null)[] = [null];
      const loc: (string | null)[] = [null];
      expect(f('GetSessionID')(SELF, SELF, SELF, id, loc)).toBe(0);
      expect(loc[0]?.startsWith(`${ready.vnicUrl}/redfish/v1/SessionService/Sessions/`)).toBe(true);
      const s = { vnicUrl: ready.vnicUrl, vnicCa: ready.vnicCa } as Simulator;
      const v = vnic(s);
      const main = client(ready);
      try {
        expect((await v.call('GET', '/redfish/v1/Systems/1', id[0] as string)).status).toBe(200);
        const state = await main.call('GET', '/__sim/state', { headers: { 'X-Sim-Control': ready.control } });
        expect(state.json.sessions).toEqual([expect.objectContaining({ user: 'iLORest', transport: 'vnic' })]);
        expect((await v.call('DELETE', new URL(loc[0] as string).pathname, id[0] as string)).status).toBe(200);
        expect((await main.call('GET', '/__sim/state', { headers: { 'X-Sim-Control': ready.control } })).json.sessions).toEqual([]);
      } finally {
        v.close();
        main.close();
      }
      running.signal('SIGTERM');
      expect((await running.exited).code).toBe(0);
      expect(running.stderr()).toContain('app-token session created');
      expect(running.stderr()).not.toContain(id[0] as string); // the token is never logged
    } finally {
      await killIfRunning(running);
    }
  });

  it('enabledebugoutput does nothing and answers false', () => {
    expect(f('enabledebugoutput')(dir)).toBe(false);
  });
});
