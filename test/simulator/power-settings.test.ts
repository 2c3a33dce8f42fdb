// What an iLO refuses on PATCH (a value outside @Redfish.AllowableValues), settings objects that
// apply at the next boot, and power / POST moving through a reset over postSeconds of the
// simulator's clock.
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { client, messageIds } from '../helpers/https-client.js';
import { sharedPath, skipReason } from '../helpers/shared.js';

const SYSTEM = '/redfish/v1/Systems/1';
const RESET = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
const BIOS = '/redfish/v1/Systems/1/Bios';
const BIOS_SETTINGS = '/redfish/v1/Systems/1/Bios/Settings';

let s: Simulator | undefined;
let c: ReturnType<typeof client> | undefined;
afterEach(async () => {
  c?.close();
  await s?.close();
  s = undefined;
});

async function start(options: SimulatorOptions = {}) {
  s = await startSimulator({ loginFailureDelayMs: 0, ...options });
  c = client(s);
  const { token } = await c.login();
  const call = (method: string, path: string, body?: unknown) => (c as ReturnType<typeof client>).call(method, path, { token, ...(body === undefined ? {} : { body }) });
  const system = async () => (await call('GET', SYSTEM)).json;
  const state = async () => {
    const json = await system();
    return { power: json.PowerState, post: json.Oem.Hpe.PostState, progress: json.BootProgress?.LastState };
  };
  return { call, system, state };
}

describe('PATCH and @Redfish.AllowableValues', () => {
  it('a value outside the list is 400 PropertyValueNotInList, and nothing of the PATCH is applied', async () => {
    const { call, system } = await start();
    const before = await system();
    const res = await call('PATCH', SYSTEM, { AssetTag: 'rack-7', Boot: { BootSourceOverrideTarget: 'Pxee' } });
    expect(res.status).toBe(400);
    expect(res.json.error['@Message.ExtendedInfo']).toEqual([{ MessageId: 'Base.1.18.PropertyValueNotInList', MessageArgs: ['Pxee', 'BootSourceOverrideTarget'] }]);
    expect(await system()).toEqual(before);
    const ok = await call('PATCH', SYSTEM, { Boot: { BootSourceOverrideTarget: 'Pxe' } });
    expect(ok.status).toBe(200);
    expect((await system()).Boot.BootSourceOverrideTarget).toBe('Pxe');
  });

  it('all refusals of one PATCH are named together', async () => {
    const { call } = await start();
    const res = await call('PATCH', SYSTEM, { Bogus: 1, Boot: { BootSourceOverrideTarget: 'Floppy' } });
    expect(res.status).toBe(400);
    expect(messageIds(res.json)).toEqual(['iLO.2.30.PropertyNotWritableOrUnknown', 'Base.1.18.PropertyValueNotInList']);
  });

  const MOCKUP = 'mockups/ilo6-dl380a';
  const dir = sharedPath(MOCKUP);
  it.skipIf(!dir)(dir ? 'on the iLO 6 mockup, its own list (SDCard allowed there, Floppy not)' : skipReason(MOCKUP), async () => {
    const { call, system } = await start({ mockupDir: dir as string });
    const refused = await call('PATCH', SYSTEM, { Boot: { BootSourceOverrideTarget: 'Floppy' } });
    expect(refused.status).toBe(400);
    expect(messageIds(refused.json)).toEqual([expect.stringMatching(/^Base\.\d+\.\d+\.PropertyValueNotInList$/)]);
    expect((await call('PATCH', SYSTEM, { Boot: { BootSourceOverrideTarget: 'SDCard' } })).status).toBe(200);
    expect((await system()).Boot.BootSourceOverrideTarget).toBe('SDCard');
  });
});

describe('settings objects apply at the next boot', () => {
  it('BIOS: staged in Bios/Settings, unchanged through a power-off, applied by the boot after; then Settings mirrors Bios', async () => {
    let now = Date.parse('2026-01-02T03:04:05Z');
    const { call } = await start({ clock: () => now });
    expect((await call('PATCH', BIOS_SETTINGS, { Attributes: { WorkloadProfile: 'Virtualization-MaxPerformance' } })).status).toBe(200);
    expect((await call('PATCH', BIOS_SETTINGS, { Attributes: { ProcHyperthreading: 'Disabled' } })).status).toBe(200);
    expect((await call('GET', BIOS)).json.Attributes.WorkloadProfile).toBe('GeneralPowerEfficientCompute');
    // Power off does not boot: nothing applies.
    expect((await call('POST', RESET, { ResetType: 'ForceOff' })).status).toBe(200);
    expect((await call('GET', BIOS)).json.Attributes.WorkloadProfile).toBe('GeneralPowerEfficientCompute');
    now += 60_000;
    expect((await call('POST', RESET, { ResetType: 'On' })).status).toBe(200);
    const bios = (await call('GET', BIOS)).json;
    expect(bios.Attributes).toMatchObject({ WorkloadProfile: 'Virtualization-MaxPerformance', ProcHyperthreading: 'Disabled', BootMode: 'Uefi' });
    expect(bios['@Redfish.Settings']).toMatchObject({ Time: '2026-01-02T03:05:05+00:00', Messages: [{ MessageId: 'Base.1.0.Success' }], SettingsObject: { '@odata.id': '/redfish/v1/systems/1/bios/settings' } });
    expect(bios['@Redfish.Settings'].ETag).toMatch(/^[0-9A-F]{8}$/);
    const settings = (await call('GET', BIOS_SETTINGS)).json;
    expect(settings.Attributes).toEqual(bios.Attributes);
    expect(settings.Name).toBe('BIOS Pending Settings');
  });

  it.each(['ForceRestart', 'GracefulRestart', 'PushPowerButton'])('%s boots and applies (PushPowerButton from Off)', async (type) => {
    const { call } = await start();
    if (type === 'PushPowerButton') await call('POST', RESET, { ResetType: 'ForceOff' });
    await call('PATCH', BIOS_SETTINGS, { Attributes: { AdminName: 'ops' } });
    expect((await call('POST', RESET, { ResetType: type })).status).toBe(200);
    expect((await call('GET', BIOS)).json.Attributes.AdminName).toBe('ops');
  });

  it('Nmi and On while On do not boot: nothing applies', async () => {
    const { call } = await start();
    await call('PATCH', BIOS_SETTINGS, { Attributes: { AdminName: 'ops' } });
    for (const type of ['Nmi', 'On']) expect((await call('POST', RESET, { ResetType: type })).status).toBe(200);
    expect((await call('GET', BIOS)).json.Attributes.AdminName).toBe('');
    expect((await call('GET', BIOS_SETTINGS)).json.Attributes.AdminName).toBe('ops');
  });

  const MOCKUP = 'mockups/ilo5-dl365-gen10plus';
  const dir = sharedPath(MOCKUP);
  it.skipIf(!dir)(dir ? 'on the iLO 5 mockup: BIOS applied, UnmodifiedETag the ETag the settings object now carries' : skipReason(MOCKUP), async () => {
    const { call } = await start({ mockupDir: dir as string });
    const bios = '/redfish/v1/systems/1/bios/';
    const before = (await call('GET', bios)).json;
    const name = Object.keys(before.Attributes).find((k) => before.Attributes[k] === 'Enabled') as string;
    expect((await call('PATCH', `${bios}settings/`, { Attributes: { [name]: 'Disabled' } })).status).toBe(200);
    expect((await call('GET', bios)).json.Attributes[name]).toBe('Enabled');
    await call('POST', RESET, { ResetType: 'ForceRestart' });
    const after = (await call('GET', bios)).json;
    expect(after.Attributes[name]).toBe('Disabled');
    const mirror = await call('GET', `${bios}settings/`);
    expect(mirror.json.Attributes).toEqual(after.Attributes);
    expect(after.Oem.Hpe.SettingsObject.UnmodifiedETag).toBe(mirror.headers.etag);
  });
  const ILO6 = 'mockups/ilo6-dl380a';
  const ilo6 = sharedPath(ILO6);
  it.skipIf(!ilo6)(ilo6 ? 'on the iLO 6 mockup: a value its attribute registry does not allow is taken, then not applied, and named in @Redfish.Settings.Messages' : skipReason(ILO6), async () => {
    const { call } = await start({ mockupDir: ilo6 as string });
    const bios = '/redfish/v1/systems/1/bios';
    const before = (await call('GET', bios)).json;
    const registry = (await call('GET', '/redfish/v1/registrystore/registries/en/biosattributeregistryu58.v1_2_44')).json;
    const entry = registry.RegistryEntries.Attributes.find(
      (a: { AttributeName: string; Type: string; ReadOnly: boolean; Value?: { ValueName: string }[] }) =>
        a.Type === 'Enumeration' && !a.ReadOnly && a.AttributeName !== 'WorkloadProfile' && (a.Value ?? []).some((v) => v.ValueName !== before.Attributes[a.AttributeName]),
    );
    const name = entry.AttributeName as string;
    const other = (entry.Value as { ValueName: string }[]).find((v) => v.ValueName !== before.Attributes[name])?.ValueName;
    const staged = await call('PATCH', `${bios}/settings`, { Attributes: { WorkloadProfile: 'Bogus', [name]: other } });
    expect(staged.status).toBe(200);
    await call('POST', RESET, { ResetType: 'ForceRestart' });
    const after = (await call('GET', bios)).json;
    expect(after.Attributes[name]).toBe(other);
    expect(after.Attributes.WorkloadProfile).toBe(before.Attributes.WorkloadProfile);
    expect(after['@Redfish.Settings'].Messages).toEqual([
      { MessageId: 'Base.1.0.PropertyValueNotInList', MessageArgs: ['Bogus', 'WorkloadProfile'], RelatedProperties: ['#/Attributes/WorkloadProfile'] },
    ]);
    expect((await call('GET', `${bios}/settings`)).json.Attributes.WorkloadProfile).toBe(before.Attributes.WorkloadProfile);
  });
});

describe('power and POST through a reset', () => {
  it('a restart: On throughout, PostState InPost → InPostDiscoveryComplete → FinishedPost, BootProgress to OSRunning over postSeconds', async () => {
    let now = 1_700_000_000_000;
    const { call, state } = await start({ clock: () => now, postSeconds: 20 });
    expect(await state()).toEqual({ power: 'On', post: 'FinishedPost', progress: 'OSRunning' });
    await call('PATCH', BIOS_SETTINGS, { Attributes: { AdminName: 'ops' } });
    expect((await call('POST', RESET, { ResetType: 'ForceRestart' })).status).toBe(200);
    const seen = [await state()];
    for (const seconds of [5, 5, 5, 3, 2]) {
      now += seconds * 1000;
      seen.push(await state());
      // The staged BIOS value shows once POST has finished, not before.
      expect((await call('GET', BIOS)).json.Attributes.AdminName, `${seen.length}`).toBe(seen.at(-1)?.post === 'FinishedPost' ? 'ops' : '');
    }
    expect(seen).toEqual([
      { power: 'On', post: 'InPost', progress: 'PrimaryProcessorInitializationStarted' },
      { power: 'On', post: 'InPost', progress: 'MemoryInitializationStarted' },
      { power: 'On', post: 'InPostDiscoveryComplete', progress: 'PCIResourceConfigStarted' },
      { power: 'On', post: 'InPostDiscoveryComplete', progress: 'SystemHardwareInitializationComplete' },
      { power: 'On', post: 'FinishedPost', progress: 'OSBootStarted' },
      { power: 'On', post: 'FinishedPost', progress: 'OSRunning' },
    ]);
  });

  it('ForceOff and GracefulShutdown: Off at once, PostState PowerOff, LastState None; On boots again', async () => {
    let now = 1_700_000_000_000;
    const { call, state } = await start({ clock: () => now, postSeconds: 10 });
    for (const type of ['ForceOff', 'GracefulShutdown']) {
      await call('POST', RESET, { ResetType: 'On' });
      now += 10_000;
      expect(await state()).toEqual({ power: 'On', post: 'FinishedPost', progress: 'OSRunning' });
      await call('POST', RESET, { ResetType: type });
      expect(await state()).toEqual({ power: 'Off', post: 'PowerOff', progress: 'None' });
    }
    await call('POST', RESET, { ResetType: 'On' });
    expect(await state()).toEqual({ power: 'On', post: 'InPost', progress: 'PrimaryProcessorInitializationStarted' });
  });

  it('the ETag follows the state (a conditional GET sees the boot move on)', async () => {
    let now = 1_700_000_000_000;
    const { call } = await start({ clock: () => now, postSeconds: 10 });
    await call('POST', RESET, { ResetType: 'ForceRestart' });
    const first = await call('GET', SYSTEM);
    now += 6_000;
    const second = await call('GET', SYSTEM);
    expect(second.headers.etag).not.toBe(first.headers.etag);
  });
});
