// `apply FILE` as a user runs it, over HTTPS and in-band (CHIF through the emulator): the file
// checked whole before the login, resources applied in order over one session, BIOS staged in
// its settings object, --check and --detailed-exit as documented, no session left.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { killLive, runToEnd } from '../helpers/cli.js';
import { client } from '../helpers/https-client.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';
import { CLEAN_ENV } from '../helpers/env.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const SYSTEM = '/redfish/v1/Systems/1';
const BIOS = '/redfish/v1/systems/1/bios';
const BIOS_SETTINGS = '/redfish/v1/systems/1/bios/settings';
const NO_STACK = /\n\s+at /;
const TMP = mkdtempSync(join(tmpdir(), 'ilo-agent-apply-'));
let n = 0;
afterAll(() => {
  killLive();
  rmSync(TMP, { recursive: true, force: true });
});
const file = (content: unknown) => {
  const f = join(TMP, `plan-${n++}.json`);
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
};
const plan = (...resources: { path: string; properties: object }[]) => ({ resources });

interface Report {
  changed: boolean;
  rebootRequired: boolean;
  iloResetRequired: boolean;
  failed: number;
  resources: { path: string; status: string; changed: boolean; before: unknown; after: unknown; pending: unknown; rebootRequired: boolean; error?: { code: string; messageIds?: string[] } }[];
}

describe.each(['https', 'chif'] as const)('apply over %s', (transport) => {
  let sim: Simulator;
  let http: ReturnType<typeof client>;
  let caFile: string;

  beforeEach(async () => {
    await sim?.close();
    http?.close();
    sim = await startSimulator({ chifSocket: join(TMP, `${transport}-${n++}.sock`), loginFailureDelayMs: 0 });
    http = client(sim);
    caFile = file(sim.ca);
  });
  afterAll(async () => {
    http?.close();
    await sim?.close();
  });

  const cli = async (args: string[], stdin?: string) => {
    const r =
      transport === 'https'
        ? await runToEnd(['--url', sim.url, '--ca-cert', caFile, ...args], { env: { ...CLEAN_ENV, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' }, stdin })
        : await runToEnd(args, { env: { ...CLEAN_ENV, ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: sim.chifSocket ?? '' }, stdin });
    expect(r.stderr).not.toMatch(NO_STACK);
    return { ...r, report: r.stdout ? (JSON.parse(r.stdout) as Report) : undefined };
  };
  const direct = async (path: string) => {
    const res = await http.call('GET', path, { basic: ['Administrator', 'password'] });
    expect(res.status).toBe(200);
    return res.json as Record<string, unknown> & { Attributes: Record<string, unknown> };
  };
  const desired = () =>
    plan({ path: SYSTEM, properties: { AssetTag: 'rack-42' } }, { path: BIOS, properties: { Attributes: { WorkloadProfile: 'Virtualization-MaxPerformance' } } });

  it('applies in order over one session; BIOS goes to its settings object and waits for a reboot', async () => {
    const r = await cli(['apply', file(desired())]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report).toMatchObject({ changed: true, rebootRequired: true, failed: 0 });
    expect(r.report?.resources.map((x) => [x.path, x.status])).toEqual([
      [SYSTEM, 'changed'],
      [BIOS, 'changed'],
    ]);
    expect(r.report?.resources[1]?.pending).toEqual({ Attributes: { WorkloadProfile: 'Virtualization-MaxPerformance' } });
    expect((await direct(SYSTEM)).AssetTag).toBe('rack-42');
    expect((await direct(BIOS)).Attributes.WorkloadProfile).toBe('GeneralPowerEfficientCompute');
    expect((await direct(BIOS_SETTINGS)).Attributes.WorkloadProfile).toBe('Virtualization-MaxPerformance');
    expect(sim.state().counters.logins).toBe(1);
    expect(sim.sessions()).toEqual([]);
  }, 30_000);

  it('--check afterwards: exit 0, the BIOS change counted as done since it is staged; nothing written', async () => {
    expect((await cli(['apply', file(desired())])).code).toBe(0);
    const tag = (await direct(SYSTEM))['@odata.etag'];
    const r = await cli(['apply', '--check', file(desired())]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report?.resources.map((x) => x.status)).toEqual(['unchanged', 'staged']);
    expect(r.report).toMatchObject({ changed: false, rebootRequired: true });
    expect((await direct(SYSTEM))['@odata.etag']).toBe(tag);
    expect(sim.sessions()).toEqual([]);
  }, 30_000);

  it('--check with a drift: exit 10, what would change shown, nothing written', async () => {
    const r = await cli(['apply', '--check', file(desired())]);
    expect(r.code, r.stderr).toBe(10);
    expect(r.report?.resources.map((x) => x.status)).toEqual(['would-change', 'would-change']);
    expect(r.report?.resources[0]?.after).toEqual({ AssetTag: 'rack-42' });
    expect((await direct(SYSTEM)).AssetTag).not.toBe('rack-42');
    expect((await direct(BIOS_SETTINGS)).Attributes.WorkloadProfile).toBe('GeneralPowerEfficientCompute');
  }, 30_000);

  it('the first failure stops the run: exit 6 with the MessageId, later resources not run, earlier ones applied', async () => {
    const r = await cli(['apply', file(plan({ path: SYSTEM, properties: { AssetTag: 'first' } }, { path: '/redfish/v1/Systems/9', properties: { AssetTag: 'x' } }, { path: '/redfish/v1/Managers/1', properties: { Description: 'never' } }))]);
    expect(r.code).toBe(6);
    expect(r.report?.resources.map((x) => x.status)).toEqual(['changed', 'failed', 'not-run']);
    expect(r.report?.resources[1]?.error?.messageIds?.[0]).toMatch(/ResourceMissingAtURI$/);
    expect((await direct(SYSTEM)).AssetTag).toBe('first');
    expect((await direct('/redfish/v1/Managers/1')).Description).not.toBe('never');
    expect(sim.sessions()).toEqual([]);
  }, 30_000);

  it('a property the iLO refuses stops the run with its MessageId; nothing after it is applied', async () => {
    const r = await cli(['apply', file(plan({ path: SYSTEM, properties: { PowerState: 'Off' } }, { path: '/redfish/v1/Managers/1', properties: { Description: 'never' } }))]);
    expect(r.code).toBe(6);
    expect(r.report?.resources.map((x) => x.status)).toEqual(['failed', 'not-run']);
    expect(r.report?.resources[0]?.error?.messageIds?.[0]).toMatch(/PropertyNotWritableOrUnknown$/);
    expect(r.stderr).toContain('PropertyNotWritableOrUnknown');
    expect((await direct(SYSTEM)).PowerState).toBe('On');
    expect(sim.sessions()).toEqual([]);
  }, 30_000);

  it('a concurrent writer between the read and the write: the stale If-Match gets 412, apply reads again and applies once more', async () => {
    sim.faults.inject({ type: 'hang', on: 'request', method: 'PATCH', path: SYSTEM });
    const run = cli(['apply', file(plan({ path: SYSTEM, properties: { AssetTag: 'mine' } }))]);
    await until(() => sim.faults.held === 1, 'the PATCH is held', 20_000);
    // Someone else changes the resource meanwhile: its ETag moves on.
    const other = await http.call('PATCH', SYSTEM, { basic: ['Administrator', 'password'], body: { AssetTag: 'theirs' } });
    expect(other.status).toBe(200);
    sim.faults.release();
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    expect(r.report?.resources[0]).toMatchObject({ status: 'changed', reread: true, before: { AssetTag: 'theirs' } });
    expect((await direct(SYSTEM)).AssetTag).toBe('mine');
    expect(sim.sessions()).toEqual([]);
  }, 30_000);

  it('--continue-on-error goes on after a failure (exit still 6)', async () => {
    const r = await cli(['apply', '--continue-on-error', file(plan({ path: '/redfish/v1/Systems/9', properties: { AssetTag: 'x' } }, { path: SYSTEM, properties: { AssetTag: 'after' } }))]);
    expect(r.code).toBe(6);
    expect(r.report?.resources.map((x) => x.status)).toEqual(['failed', 'changed']);
    expect((await direct(SYSTEM)).AssetTag).toBe('after');
  }, 30_000);

  it('--detailed-exit: 14 when a reboot is due, 13 when something changed and nothing waits, 0 when nothing changed', async () => {
    expect((await cli(['apply', '--detailed-exit', file(desired())])).code).toBe(14);
    expect((await cli(['apply', '--detailed-exit', file(plan({ path: SYSTEM, properties: { AssetTag: 'other' } }))])).code).toBe(13);
    expect((await cli(['apply', '--detailed-exit', file(plan({ path: SYSTEM, properties: { AssetTag: 'other' } }))])).code).toBe(0);
    // With --check: 14 while the staged BIOS value waits for a reboot, 0 for what is current.
    expect((await cli(['apply', '--check', '--detailed-exit', file(plan({ path: BIOS, properties: { Attributes: { WorkloadProfile: 'Virtualization-MaxPerformance' } } }))])).code).toBe(14);
    expect((await cli(['apply', '--check', '--detailed-exit', file(plan({ path: SYSTEM, properties: { AssetTag: 'other' } }))])).code).toBe(0);
  }, 40_000);

  it('reads the file from standard input with -', async () => {
    const r = await cli(['apply', '-'], JSON.stringify(plan({ path: SYSTEM, properties: { AssetTag: 'stdin' } })));
    expect(r.code, r.stderr).toBe(0);
    expect((await direct(SYSTEM)).AssetTag).toBe('stdin');
  }, 30_000);
});

describe('apply: the file is checked whole before the login (exit 2, nothing sent)', () => {
  it.each([
    ['not JSON', '{', 'not valid JSON'],
    ['no resources', { resources: [] }, 'non-empty array'],
    ['an unknown top key', { resources: [{ path: SYSTEM, properties: { A: 1 } }], extra: 1 }, 'unknown key "extra"'],
    ['a bad path', plan({ path: SYSTEM, properties: { A: 1 } }, { path: 'Systems/1', properties: { A: 1 } }), 'resource 2: not a Redfish path'],
    ['the same resource twice', plan({ path: SYSTEM, properties: { A: 1 } }, { path: '/redfish/v1/systems/1/', properties: { B: 1 } }), 'is also resource 1'],
    ['empty properties', plan({ path: SYSTEM, properties: {} }), 'non-empty object'],
    ['a write-only property', plan({ path: '/redfish/v1/AccountService/Accounts/1', properties: { Password: 'x' } }), 'Password is write-only'],
    ['a number JSON would change', `{"resources":[{"path":"${SYSTEM}","properties":{"AssetTag":1e400}}]}`, '1e400'],
  ])('%s', async (_what, content, message) => {
    // No iLO at all: a run that tried to connect would fail with 5, not 2.
    const r = await runToEnd(['--url', 'https://127.0.0.1:9', 'apply', file(content)], { env: { ...CLEAN_ENV, ILO_USERNAME: 'a', ILO_PASSWORD: 'b' } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });
});
