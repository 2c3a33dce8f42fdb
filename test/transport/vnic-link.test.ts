// Link-bound TLS on the vNIC chooses the local address from the host's interface list: tested
// here with fake lists (what os.networkInterfaces() answers), and the binding's serialisation
// and koffi declarations against the CHIF emulator (HPE's ABI).
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SerialQueue, serialised } from '../../src/binding/index.js';
import { encodeMessage, parseMessage } from '../../src/guardian/protocol.js';
import { TlsError } from '../../src/errors.js';
import { startSimulator } from '../../src/simulator/index.js';
import { findVnicLink, loadChifLibrary, openHttpsTransport, openVnicTransport, planVnic, type AppAccountBinding, type InterfaceAddress } from '../../src/transport/index.js';
import { hasMlKem, vnicHandshakeHint } from '../../src/transport/vnic/tls-hint.js';
import { rejectionOf } from '../helpers/wait.js';
import { PROJECT_ROOT } from '../helpers/shared.js';

const v4 = (address: string, netmask: string): InterfaceAddress => ({ address, netmask, family: 'IPv4' });

describe('findVnicLink', () => {
  it('finds the host\'s address in the vNIC\'s /30 (per the interface\'s netmask)', () => {
    const interfaces = { lo: [v4('127.0.0.1', '255.0.0.0')], eth0: [v4('10.0.0.5', '255.255.255.0')], usb0: [v4('16.1.15.2', '255.255.255.252'), { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6' }] };
    expect(findVnicLink('16.1.15.1', interfaces)).toEqual({ address: '16.1.15.2', name: 'usb0', prefix: 30 });
  });

  it.each([
    ['no interface on the link', { eth0: [v4('10.0.0.5', '255.255.255.0')] }],
    // a routed network that happens to hold 16.1.15.1 is not the vNIC link
    ['a wider subnet', { eth0: [v4('16.1.15.2', '255.0.0.0')] }],
    ['a /30 next door', { usb0: [v4('16.1.15.6', '255.255.255.252')] }],
    ['the vNIC\'s own address', { usb0: [v4('16.1.15.1', '255.255.255.252')] }],
    ['a malformed netmask', { usb0: [v4('16.1.15.2', '255.0.255.252')] }],
    ['nothing', {}],
  ])('%s: null', (_name, interfaces) => {
    expect(findVnicLink('16.1.15.1', interfaces)).toBeNull();
  });

  it('a vNIC address that is not IPv4 has no link', () => {
    expect(findVnicLink('ilo.example.com', { usb0: [v4('16.1.15.2', '255.255.255.252')] })).toBeNull();
  });
});

describe('planVnic', () => {
  const up = () => ({ usb0: [v4('16.1.15.2', '255.255.255.252')] });
  it('default: link-bound, bound to the host address, the certificate accepted on that link', () => {
    const plan = planVnic('https://16.1.15.1', {}, {}, up);
    expect(plan.tlsMode).toBe('link-bound');
    expect(plan.https).toMatchObject({ url: 'https://16.1.15.1', localAddress: '16.1.15.2', insecure: true });
  });
  it('opt-ins win over the link, and do not need it', () => {
    const down = () => ({});
    expect(planVnic('https://16.1.15.1', { pin: `sha256:${'AB:'.repeat(31)}AB` }, {}, down).https.pin).toBe('ab'.repeat(32));
    expect(planVnic('https://16.1.15.1', { ca: 'PEM', servername: 'ilo7' }, {}, down).https).toMatchObject({ ca: 'PEM', servername: 'ilo7' });
    expect(planVnic('https://16.1.15.1', { insecure: true }, {}, down).tlsMode).toBe('insecure');
  });
  it('conflicting or incomplete trust options are usage errors', () => {
    expect(() => planVnic('https://16.1.15.1', { servername: 'ilo7' }, {}, up)).toThrow(/--tls-servername goes with --ca-cert/);
    expect(() => planVnic('https://16.1.15.1', { pin: `sha256:${'a'.repeat(64)}`, insecure: true }, {}, up)).toThrow(/--pin replaces/);
  });
});

describe('the guardian gets the vNIC\'s TLS trust', () => {
  it('localAddress, pin and servername round-trip; empty values are refused', () => {
    const hello = {
      type: 'hello',
      version: 1,
      agentPid: 1,
      logLevel: 'silent',
      transport: { kind: 'https', url: 'https://16.1.15.1', ca: null, insecure: true, localAddress: '16.1.15.2', pin: 'ab'.repeat(32), servername: 'ilo7' },
      credentials: null,
    } as const;
    expect(parseMessage(encodeMessage(hello))).toMatchObject({ transport: hello.transport });
    expect(parseMessage(encodeMessage({ ...hello, transport: { ...hello.transport, pin: '' } }))).toBeUndefined();
  });
});

describe('the app-account binding', () => {
  it('serialised: one call at a time, in order', async () => {
    let active = 0;
    let most = 0;
    const order: string[] = [];
    const slow = async <T>(name: string, value: T): Promise<T> => {
      active++;
      most = Math.max(most, active);
      await new Promise((r) => setTimeout(r, 5));
      order.push(name);
      active--;
      return value;
    };
    const inner: AppAccountBinding = {
      detectIlo: () => slow('detect', { rc: 0, iloType: 7, securityState: 0 }),
      readyToUse: () => slow('ready', 0),
      appIdExistsInTpm: () => slow('tpm', { rc: 0, exists: true }),
      getSessionId: () => slow('get', { rc: 0, token: 't', location: 'l' }),
    };
    const queue = new SerialQueue();
    const a = serialised(inner, queue);
    const b = serialised(inner, queue);
    await Promise.all([a.getSessionId('x', 'y', 'z'), b.readyToUse(), a.detectIlo('x'), b.appIdExistsInTpm('x')]);
    expect(most).toBe(1);
    expect(order).toEqual(['get', 'ready', 'detect', 'tpm']);
  });

  it.skipIf(process.platform !== 'linux')('koffi declarations of HPE\'s prototypes round-trip against the emulator (no simulator: its documented "no" answers)', async () => {
    const library = await loadChifLibrary(resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so'));
    const binding = library.appAccount as AppAccountBinding;
    expect(library.appAccountMissing).toEqual([]);
    const saved = process.env.ILO_CHIF_EMULATOR_SOCKET;
    delete process.env.ILO_CHIF_EMULATOR_SOCKET;
    try {
      expect(await binding.detectIlo('self_register')).toEqual({ rc: -1, iloType: 100, securityState: 0 });
      expect(typeof (await binding.readyToUse())).toBe('number');
      const tpm = await binding.appIdExistsInTpm('self_register');
      expect(typeof tpm.rc).toBe('number');
      expect(typeof tpm.exists).toBe('boolean');
      const got = await binding.getSessionId('self_register', 'self_register', 'self_register');
      expect(typeof got.rc).toBe('number');
      if (got.rc !== 0) expect(got).toMatchObject({ token: null, location: null });
    } finally {
      if (saved !== undefined) process.env.ILO_CHIF_EMULATOR_SOCKET = saved;
    }
  });
});

describe('a failed TLS handshake', () => {
  it('over HTTPS: a TlsError naming what failed and this client, without the vNIC\'s hint; on the vNIC, with it', async () => {
    const sim = await startSimulator({ profile: 'ilo7', loginFailureDelayMs: 0, appFaults: { vnicTlsRefuse: true } });
    try {
      const plain = openHttpsTransport({ url: sim.vnicUrl as string, insecure: true });
      const error = await rejectionOf(plain.request({ method: 'GET', path: '/redfish/v1/' }));
      await plain.close();
      expect(error).toBeInstanceOf(TlsError);
      expect(error.message).toBe(
        `the TLS handshake with the iLO at ${sim.vnicUrl} failed (EPROTO: tlsv1 alert protocol version): the iLO and this client agree on no TLS version, cipher or key-exchange group, or it does not speak TLS there; ` +
          `this client is Node ${process.version} with OpenSSL ${process.versions.openssl}, offering TLS 1.2 to 1.3`,
      );
      const vnic = openVnicTransport(planVnic(sim.vnicUrl as string, { insecure: true }));
      const withHint = await rejectionOf(vnic.request({ method: 'GET', path: '/redfish/v1/' }));
      await vnic.close();
      expect(withHint).toBeInstanceOf(TlsError);
      expect(withHint.message).toBe(`${error.message}; ${vnicHandshakeHint()}`);
    } finally {
      await sim.close();
    }
  });

  it('the vNIC\'s hint suggests a newer Node only where this OpenSSL lacks ML-KEM', () => {
    expect(vnicHandshakeHint(() => true)).toMatch(/CNSA.*ML-KEM.*; this client offers ML-KEM already$/);
    expect(vnicHandshakeHint(() => false)).toMatch(
      new RegExp(`which OpenSSL ${process.versions.openssl.replace(/\./g, '\\.')} lacks \\(ML-KEM needs OpenSSL 3\\.5 or later\\): run ilo-agent's single executable \\(built on Node 24, with OpenSSL 3\\.5\\)`),
    );
    // Node 20 ships OpenSSL 3.0 (no ML-KEM), Node 24 OpenSSL 3.5.
    const [major, minor] = process.versions.openssl.split('.').map(Number) as [number, number];
    expect(hasMlKem()).toBe(major > 3 || (major === 3 && minor >= 5));
  });
});
