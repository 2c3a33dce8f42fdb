// In-band on iLO 7: the path is chosen once (DetectILO) and the vNIC is the HTTPS transport at the
// vNIC address, with a password or an app token from HPE's library. HPE's library is a per-test
// double of the binding interface (ChifLibrary.appAccount); the simulator's HTTPS front plays the
// vNIC over loopback, with its own certificate.
import { X509Certificate } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openSession, withSession, type ConnectOptions } from '../../src/client/index.js';
import { ChifLibraryError, UsageError } from '../../src/errors.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { AppAccountBinding, ChifLibrary, InterfaceAddress } from '../../src/transport/index.js';
import { client as httpsClient } from '../helpers/https-client.js';
import { rejectionOf } from '../helpers/wait.js';

let sim: Simulator | undefined;
const clients: Array<{ close(): void }> = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await sim?.close();
  sim = undefined;
});

async function start(): Promise<Simulator> {
  sim = await startSimulator({ loginFailureDelayMs: 0 });
  return sim;
}

const fingerprint = (pem: string) => `sha256:${new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase()}`;

/** A host whose vNIC link holds 127.0.0.2/30: the simulator at 127.0.0.1 is "the iLO" on it. */
const linkUp = (): NodeJS.Dict<InterfaceAddress[]> => ({
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4' }],
  usb0: [{ address: '127.0.0.2', netmask: '255.255.255.252', family: 'IPv4' }],
});
const linkDown = (): NodeJS.Dict<InterfaceAddress[]> => ({ lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4' }] });

interface Calls {
  names: string[];
}

/** HPE's library as far as ilo-agent uses it: a double whose GetSessionID makes a real session on the simulator. */
function library(s: Simulator, behaviour: Partial<AppAccountBinding> & { missing?: string[] } = {}, calls: Calls = { names: [] }): () => Promise<ChifLibrary> {
  const http = httpsClient(s);
  clients.push(http);
  const binding: AppAccountBinding = {
    detectIlo: async (appid) => {
      calls.names.push(`DetectILO ${appid}`);
      return { rc: 0, iloType: 7, securityState: 0 };
    },
    readyToUse: async () => {
      calls.names.push('ReadyToUse');
      return 0;
    },
    appIdExistsInTpm: async (appid) => {
      calls.names.push(`AppIdExistsinTPM ${appid}`);
      return { rc: 0, exists: true };
    },
    getSessionId: async (appid, appname, salt) => {
      calls.names.push(`GetSessionID ${appid} ${appname} ${salt}`);
      const { token, location } = await http.login();
      return { rc: 0, token, location: `https://16.1.15.1${new URL(location, s.url).pathname}` };
    },
    ...behaviour,
  };
  const missing = behaviour.missing ?? [];
  return async () => ({ path: '/opt/hpe/double.so', appAccount: missing.length ? null : binding, appAccountMissing: missing }) as unknown as ChifLibrary;
}

const vnic = (s: Simulator, extra: Partial<ConnectOptions> = {}): ConnectOptions => ({
  vnicUrl: s.url,
  networkInterfaces: linkUp,
  timeoutMs: 10_000,
  appTokenRetryPauseMs: 10,
  ...extra,
});

describe('in-band selection', () => {
  it('auto on an iLO 7: DetectILO("self_register") picks the vNIC; app token; link-bound TLS; 0 sessions left', async () => {
    const s = await start();
    const calls: Calls = { names: [] };
    await withSession(vnic(s, { loadLibrary: library(s, {}, calls) }), async (c) => {
      expect(c.connection).toMatchObject({ path: 'vnic', generation: 7, selection: 'iLO 7: DetectILO answered 0, type 7' });
      expect(c.connection?.login).toMatch(/^app token: .*iLOrest's application account.*user iLORest/);
      expect(c.connection?.tls).toMatch(/^link-bound: connections leave from 127\.0\.0\.2 on usb0/);
      expect(c.transportDescription).toBe(`https ${s.url}`);
      expect((await c.get('/redfish/v1/Systems/1')).Id).toBe('1');
      // Bound to the host's address on the link: the iLO sees the session's requests from it.
      expect(s.sessions()).toEqual([expect.objectContaining({ user: 'Administrator' })]);
    });
    expect(calls.names).toEqual(['DetectILO self_register', 'ReadyToUse', 'AppIdExistsinTPM self_register', 'GetSessionID self_register self_register self_register']);
    expect(s.sessions()).toEqual([]);
  });

  it('link-bound: requests leave from the host\'s address on the vNIC link (the iLO sees 127.0.0.2)', async () => {
    const s = await start();
    await withSession(vnic(s, { username: 'Administrator', password: 'password', loadLibrary: library(s) }), async () => {
      expect(s.sessions()).toEqual([expect.objectContaining({ user: 'Administrator', userIp: '127.0.0.2' })]);
    });
    expect(s.sessions()).toEqual([]);
  });

  it('auto on an iLO 5/6 or with an older library: CHIF (the decision is made before any login)', async () => {
    const s = await start();
    const calls: Calls = { names: [] };
    const ilo6 = library(s, { detectIlo: async () => ({ rc: 0, iloType: 6, securityState: 3 }) }, calls);
    // The double has no CHIF side: opening CHIF fails, which proves CHIF was chosen.
    const error = await rejectionOf(openSession(vnic(s, { loadLibrary: ilo6 })));
    expect(error).toBeInstanceOf(TypeError);
    expect(calls.names).toEqual([]);
    const old = await rejectionOf(openSession(vnic(s, { loadLibrary: library(s, { missing: ['DetectILO', 'GetSessionID'] }) })));
    expect(old).toBeInstanceOf(TypeError);
    expect(s.state().counters.logins).toBe(0);
  });

  it.each([
    [{ rc: -50, iloType: 101 }, 'E_VNIC', 7, /virtual NIC is disabled \(HPE's DetectILO answered -50, type 101\).*InterfaceEnabled.*reset the iLO/],
    [{ rc: -7, iloType: 0 }, 'E_CHIF_LIBRARY', 7, /no local iLO it knows \(DetectILO answered -7, type 0\)/],
  ])('DetectILO %j → %s with its number, nothing sent', async (answer, code, _exit, message) => {
    const s = await start();
    const error = await rejectionOf(openSession(vnic(s, { loadLibrary: library(s, { detectIlo: async () => ({ ...answer, securityState: 0 }) }) })));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(s.state().counters.requests).toBe(0);
  });

  it('--inband vnic with a password needs no HPE library; --inband vnic with the app token does', async () => {
    const s = await start();
    const noLibrary = async (): Promise<ChifLibrary> => {
      throw new ChifLibraryError('not here');
    };
    await withSession(vnic(s, { inband: 'vnic', username: 'Administrator', password: 'password', loadLibrary: noLibrary }), async (c) => {
      expect(c.connection).toMatchObject({ path: 'vnic', generation: null, selection: '--inband vnic', login: 'password (Administrator)' });
    });
    expect(s.sessions()).toEqual([]);
    expect((await rejectionOf(openSession(vnic(s, { inband: 'vnic', loadLibrary: noLibrary })))).message).toBe(
      'not here; the app-token login on the vNIC needs HPE\'s library (GetSessionID); or log in with a password: --username NAME, which needs none',
    );
    const old = await rejectionOf(openSession(vnic(s, { inband: 'vnic', loadLibrary: library(s, { missing: ['GetSessionID'] }) })));
    expect(old.code).toBe('E_VNIC');
    expect(old.message).toMatch(/needs HPE's library with GetSessionID, which \/opt\/hpe\/double\.so lacks.*--username/);
  });

  it('--no-app-account without a user is a usage error; with one, a password login', async () => {
    const s = await start();
    const error = await rejectionOf(openSession(vnic(s, { noAppAccount: true, loadLibrary: library(s) })));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/--no-app-account needs a password login/);
    expect(s.state().counters.requests).toBe(0);
  });

  it('--url never loads HPE\'s library; --inband chif|vnic with --url is a usage error', async () => {
    const s = await start();
    let loaded = 0;
    const counting = async (): Promise<ChifLibrary> => {
      loaded++;
      throw new Error('must not load');
    };
    await withSession({ url: s.url, ca: s.ca, username: 'Administrator', password: 'password', loadLibrary: counting }, async (c) => {
      expect(c.connection).toMatchObject({ path: 'https', login: 'password (Administrator)' });
    });
    expect(loaded).toBe(0);
    const error = await rejectionOf(openSession({ url: s.url, ca: s.ca, username: 'Administrator', password: 'password', inband: 'vnic', loadLibrary: counting }));
    expect(error.code).toBe('E_USAGE');
    expect(loaded).toBe(0);
  });
});

describe('TLS on the vNIC', () => {
  it('no host address on the vNIC\'s /30: "host side not configured" (exit 7), nothing sent', async () => {
    const s = await start();
    const error = await rejectionOf(openSession(vnic(s, { networkInterfaces: linkDown, loadLibrary: library(s) })));
    expect(error.code).toBe('E_VNIC');
    expect(error.message).toMatch(/host side of the vNIC is not configured.*16\.1\.15\.2\/30.*nothing was sent.*--pin/);
    expect(s.state().counters.requests).toBe(0);
    expect(s.state().counters.logins).toBe(0);
  });

  it('--pin: the pinned leaf is accepted without a link; another fingerprint is refused before anything is sent', async () => {
    const s = await start();
    await withSession(vnic(s, { networkInterfaces: linkDown, pin: fingerprint(s.ca), username: 'Administrator', password: 'password', loadLibrary: library(s) }), async (c) => {
      expect(c.connection?.tls).toBe(`pinned: the leaf certificate ${fingerprint(s.ca)}`);
      expect((await c.get('/redfish/v1/Systems/1')).Id).toBe('1');
    });
    expect(s.sessions()).toEqual([]);
    const wrong = `sha256:${'ab'.repeat(32)}`;
    const before = s.state().counters.requests;
    const error = await rejectionOf(openSession(vnic(s, { networkInterfaces: linkDown, pin: wrong, username: 'Administrator', password: 'password', loadLibrary: library(s) })));
    expect(error.code).toBe('E_TLS');
    expect(error.message).toContain(`its SHA-256 fingerprint is ${fingerprint(s.ca)}`);
    expect(s.state().counters.requests).toBe(before);
    expect(s.sessions()).toEqual([]);
    const malformed = await rejectionOf(openSession(vnic(s, { pin: 'sha256:xyz', username: 'Administrator', password: 'password', loadLibrary: library(s) })));
    expect(malformed.code).toBe('E_USAGE');
  });

  it('--ca-cert with --tls-servername: the chain is verified against iLO\'s name, not the vNIC address', async () => {
    const s = await start();
    const url = s.url.replace('127.0.0.1', '127.0.0.1'); // the certificate names localhost too
    await withSession(vnic(s, { vnicUrl: url, networkInterfaces: linkDown, ca: s.ca, tlsServername: 'localhost', username: 'Administrator', password: 'password', loadLibrary: library(s) }), async (c) => {
      expect(c.connection?.tls).toBe('verified with --ca-cert against the name localhost');
    });
    const error = await rejectionOf(
      openSession(vnic(s, { networkInterfaces: linkDown, ca: s.ca, tlsServername: 'ilo-7.example.com', username: 'Administrator', password: 'password', loadLibrary: library(s) })),
    );
    expect(error.code).toBe('E_TLS');
    expect(error.message).toMatch(/not for "ilo-7\.example\.com"/);
    expect(s.sessions()).toEqual([]);
  });
});

describe('app-token login failures (docs/reference/ilo7-inband.md §6)', () => {
  it.each([
    ['vNIC not ready', { readyToUse: async () => -3 }, 'E_VNIC', /virtual NIC is not ready \(HPE's ReadyToUse answered -3\)/],
    ['no account in the TPM', { appIdExistsInTpm: async () => ({ rc: 0, exists: false }) }, 'E_APP_ACCOUNT', /TPM holds no application account for iLOrest.*appaccount create.*--username/],
    ['TPM check fails', { appIdExistsInTpm: async () => ({ rc: -9, exists: false }) }, 'E_APP_ACCOUNT', /AppIdExistsinTPM answered -9/],
    ['inactive token', { getSessionId: async () => ({ rc: 2, token: null, location: null }) }, 'E_APP_ACCOUNT', /inactive or expired \(GetSessionID answered 2\).*reactivate.*--username/],
    ['other GetSessionID failure', { getSessionId: async () => ({ rc: -146, token: null, location: null }) }, 'E_APP_ACCOUNT', /GetSessionID failed \(it answered -146\); not retried: the library may have made a session/],
  ] as const)('%s: %s, a clear message with the number', async (_name, behaviour, code, message) => {
    const s = await start();
    const error = await rejectionOf(openSession(vnic(s, { loadLibrary: library(s, behaviour as Partial<AppAccountBinding>) })));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(s.sessions()).toEqual([]);
  });

  it('GetSessionID answering 0 with empty outputs is retried once after a pause; twice is an error that says a session may exist', async () => {
    const s = await start();
    const calls: Calls = { names: [] };
    const real = library(s, {}, calls);
    const binding = (await real()).appAccount as AppAccountBinding;
    let empty = 1;
    const once = library(s, { getSessionId: async (a, n, salt) => (empty-- > 0 ? { rc: 0, token: null, location: null } : binding.getSessionId(a, n, salt)) });
    await withSession(vnic(s, { loadLibrary: once }), async (c) => {
      expect((await c.get('/redfish/v1/Systems/1')).Id).toBe('1');
    });
    expect(s.sessions()).toEqual([]);
    let tries = 0;
    const always = library(s, {
      getSessionId: async () => {
        tries++;
        return { rc: 0, token: '', location: '' };
      },
    });
    const error = await rejectionOf(openSession(vnic(s, { loadLibrary: always })));
    expect(tries).toBe(2);
    expect(error.code).toBe('E_APP_ACCOUNT');
    expect(error.message).toMatch(/answered 0 twice with no session token or location.*a session may exist/);
  });

  it('a stop (SIGINT) while GetSessionID runs: the login is not cut, its session is deleted once adopted', async () => {
    const s = await start();
    const base = (await library(s)()).appAccount as AppAccountBinding;
    const stop = new AbortController();
    const slow = library(s, {
      getSessionId: async (a, n, salt) => {
        const answer = await base.getSessionId(a, n, salt);
        stop.abort('SIGINT');
        await new Promise((r) => setTimeout(r, 50));
        return answer;
      },
    });
    const error = await rejectionOf(openSession(vnic(s, { loadLibrary: slow, signal: stop.signal })));
    expect(error.code).toBe('E_ABORTED');
    expect(s.sessions()).toEqual([]);
  });

  it('a deadline during a GetSessionID that never returns: stops waiting, says the login was cut off', async () => {
    const s = await start();
    const deadline = new AbortController();
    // The deadline comes once GetSessionID runs (a timer could land during the reachability GET instead).
    const hung = library(s, {
      getSessionId: () => {
        setImmediate(() => deadline.abort());
        return new Promise(() => undefined);
      },
    });
    const error = await rejectionOf(openSession(vnic(s, { loadLibrary: hung, closeSignal: deadline.signal })));
    expect(error.code).toBe('E_ABORTED');
    expect(error.message).toMatch(/app-token login was cut off before HPE's GetSessionID answered/);
  });

  it('a GetSessionID that never returns: a timeout after --timeout (exit 5) that says a session may exist', async () => {
    const s = await start();
    const hung = library(s, { getSessionId: () => new Promise(() => undefined) });
    const error = await rejectionOf(openSession(vnic(s, { loadLibrary: hung, timeoutMs: 1_000 })));
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.message).toMatch(/HPE's GetSessionID gave no answer within 1 s; a session may exist/);
  });

  it('a service root that never answers: the transport\'s timeout before any library login call, so no session can exist', async () => {
    const s = await start();
    s.faults.inject({ type: 'hang', method: 'GET', path: '/redfish/v1/' });
    const calls: Calls = { names: [] };
    const error = await rejectionOf(openSession(vnic(s, { loadLibrary: library(s, {}, calls), timeoutMs: 300 })));
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.message).not.toMatch(/a session may exist/);
    expect(calls.names.some((name) => name.startsWith('GetSessionID'))).toBe(false);
    expect(s.sessions()).toEqual([]);
    s.faults.release();
  });

  it('the token is never in an error message or the connection facts', async () => {
    const s = await start();
    let token = '';
    const calls: Calls = { names: [] };
    const base = (await library(s, {}, calls)()).appAccount as AppAccountBinding;
    const spy = library(s, {
      getSessionId: async (a, n, salt) => {
        const r = await base.getSessionId(a, n, salt);
        token = r.token ?? '';
        return r;
      },
    });
    await withSession(vnic(s, { loadLibrary: spy }), async (c) => {
      expect(JSON.stringify(c.connection)).not.toContain(token);
    });
    expect(token).not.toBe('');
  });
});

interface LogLine {
  level: number;
  msg: string;
  libraryAddress?: string;
  vnicUrl?: string;
}

describe('HPE\'s GetIPAddress against the vNIC URL in use', () => {
  /** A logger whose lines are kept (level debug). */
  function captured() {
    const lines: LogLine[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
    // (the double's GetSessionID names 16.1.15.1: its own warning is not this test's)
    const warnings = () => lines.filter((l) => l.level === 40 && !l.msg.startsWith('GetSessionID named')).map((l) => l.msg);
    return { logger, lines, warnings };
  }

  it('another address: a warning naming both (and the fix), the work goes on at the URL given; info shows the library\'s address', async () => {
    const s = await start();
    const log = captured();
    const lib = library(s, { getIpAddress: async () => '16.1.15.1' });
    await withSession(vnic(s, { loadLibrary: lib, logger: log.logger }), async (c) => {
      expect(c.connection?.libraryAddress).toBe('16.1.15.1');
      expect((await c.get('/redfish/v1/Systems/1')).Id).toBe('1');
    });
    const host = new URL(s.url).host;
    expect(log.warnings()).toEqual([
      `HPE's library reports the vNIC at 16.1.15.1 (GetIPAddress), but requests go to https://${host} (--vnic-url / ILO_VNIC_URL); if the vNIC does not answer, try --vnic-url https://16.1.15.1`,
    ]);
    expect(log.lines.find((l) => l.level === 40 && l.msg.includes('GetIPAddress'))).toMatchObject({ libraryAddress: '16.1.15.1', vnicUrl: `https://${host}` });
    expect(s.sessions()).toEqual([]);
  });

  it.each([
    ['the same host', async () => '127.0.0.1', '127.0.0.1', /reports the vNIC address in use/],
    ['the same host as a URL, upper case', async () => 'HTTPS://127.0.0.1/', '127.0.0.1', /reports the vNIC address in use/],
    ['NULL', async () => null, null, /reported no address/],
    ['an empty string', async () => '  ', null, /reported no address/],
    ['a failing call', async () => Promise.reject(new Error('boom')), null, /GetIPAddress failed/],
  ] as Array<[string, () => Promise<string | null>, string | null, RegExp]>)('%s: no warning, said at debug', async (_what, getIpAddress, shown, debug) => {
    const s = await start();
    const log = captured();
    await withSession(vnic(s, { loadLibrary: library(s, { getIpAddress }), logger: log.logger }), async (c) => {
      expect(c.connection?.libraryAddress).toBe(shown);
    });
    expect(log.warnings()).toEqual([]);
    expect(log.lines.some((l) => l.level === 20 && debug.test(l.msg))).toBe(true);
  });

  it('a library without the symbol: not compared, said at debug', async () => {
    const s = await start();
    const log = captured();
    await withSession(vnic(s, { loadLibrary: library(s), logger: log.logger }), async (c) => {
      expect(c.connection?.libraryAddress).toBeNull();
    });
    expect(log.warnings()).toEqual([]);
    expect(log.lines.some((l) => l.level === 20 && /has no GetIPAddress/.test(l.msg))).toBe(true);
  });

  it('a GetIPAddress that never answers: the login goes on after --timeout, nothing compared', async () => {
    const s = await start();
    const log = captured();
    const lib = library(s, { getIpAddress: () => new Promise<string>(() => undefined) });
    await withSession(vnic(s, { loadLibrary: lib, logger: log.logger, timeoutMs: 1_000 }), async (c) => {
      expect(c.connection?.libraryAddress).toBeNull();
    });
    expect(log.lines.some((l) => l.level === 20 && /GetIPAddress gave no answer within 1 s/.test(l.msg))).toBe(true);
    expect(s.sessions()).toEqual([]);
  });
});
