// In-band through real FFI: koffi → the emulator .so → the simulator's CHIF endpoint. The same
// session logic as over HTTPS; every size, packet and status goes through the library's ABI.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSession, withSession, type ConnectOptions } from '../../src/client/index.js';
import { blobKey } from '../../src/transport/chif/blobstore.js';
import { loadChifLibrary, type AppAccountBinding } from '../../src/transport/index.js';
import { InvalidInputError, ProtocolError, RedfishError } from '../../src/errors.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { rejectionOf } from '../helpers/wait.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { BIN, runCli, runProgram, runToEnd } from '../helpers/cli.js';
import { plantLibrary, requireRoot } from '../helpers/planted-library.js';
import { until } from '../helpers/wait.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
let dir: string;
let sim: Simulator | undefined;
let socketCount = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-inband-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  sim?.faults.release();
  await sim?.close();
  sim = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  const chifSocket = join(dir, `s${socketCount++}.sock`);
  sim = await startSimulator({ loginFailureDelayMs: 0, chifSocket, ...options });
  process.env.ILO_CHIF_EMULATOR_SOCKET = chifSocket;
  return sim;
}

const inband = (extra: Partial<ConnectOptions> = {}): ConnectOptions => ({ chifLibrary: EMULATOR, timeoutMs: 10_000, ...extra });

describe('in-band requests', () => {
  it('GET through CHIF, with a RESTHost session of "system administrator" that is deleted at the end', async () => {
    const s = await start();
    const system = await withSession(inband(), async (client) => {
      expect(client.transportDescription).toBe(`chif via ${EMULATOR}`);
      expect(s.sessions()).toEqual([expect.objectContaining({ user: 'system administrator', tag: 'RESTHost', transport: 'chif' })]);
      expect(client.session.id).toMatch(/^system%20administrator00000000[0-9a-f]{8}/);
      return client.get('/redfish/v1/Systems/1');
    });
    expect(system.Id).toBe('1');
    expect(s.sessions()).toEqual([]);
    expect(s.chif.blobCount).toBe(0);
  });

  it('a header that cannot be sent is a rejection (never a throw), nothing goes out, and the session goes on', async () => {
    const s = await start();
    await withSession(inband(), async (client) => {
      const before = s.state().counters.requests;
      let pending: Promise<unknown> | undefined;
      expect(() => {
        pending = client.get('/redfish/v1/Systems/1', { headers: { 'X-A': 'a\r\nX-Injected: 1' } });
      }).not.toThrow();
      // The same error as over HTTPS (test/transport/https-transport.test.ts): the client checks headers above the transports.
      expect(await rejectionOf(pending as Promise<unknown>)).toBeInstanceOf(InvalidInputError);
      expect(s.state().counters.requests).toBe(before);
      expect((await client.get('/redfish/v1/Systems/1')).Id).toBe('1');
    });
    expect(s.sessions()).toEqual([]);
  });

  it('shares one session table with HTTPS clients', async () => {
    const s = await start();
    await withSession(inband(), async () => {
      await withSession({ url: s.url, ca: s.ca, username: 'Administrator', password: 'password' }, async (https) => {
        const rows = await https.members('/redfish/v1/SessionService/Sessions');
        expect(rows).toHaveLength(2);
      });
    });
    expect(s.sessions()).toEqual([]);
  });

  it.each(['path', 'absolute'] as const)('deletes its session whatever form the in-band Location takes (%s)', async (inbandLocation) => {
    const s = await start({ inbandLocation });
    await withSession(inband(), async (client) => {
      expect(client.session.path).toMatch(/^\/redfish\/v1\/SessionService\/Sessions\/system%20administrator/);
    });
    expect(s.sessions()).toEqual([]);
  });

  it('a 1 MB request body goes through a request blob, a 5 MB answer comes back in fragments', async () => {
    const mockup = join(dir, 'big-mockup');
    const write = (path: string, json: unknown) => {
      mkdirSync(join(mockup, path), { recursive: true });
      writeFileSync(join(mockup, path, 'index.json'), JSON.stringify(json));
    };
    const big = 'x'.repeat(5 * 1024 * 1024);
    write('redfish/v1', { '@odata.id': '/redfish/v1', Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } } });
    write('redfish/v1/SessionService', { '@odata.id': '/redfish/v1/SessionService', SessionTimeout: 30 });
    write('redfish/v1/Big', { '@odata.id': '/redfish/v1/Big', Id: 'Big', Payload: big, Note: '' });
    const s = await start({ mockupDir: mockup });
    const megabyte = 'y'.repeat(1_000_000); // 1 MB (the simulator refuses bodies over 1 MiB, as an iLO has limits)
    await withSession(inband(), async (client) => {
      const before = s.chif.counters().commands;
      await client.patch('/redfish/v1/Big', { Note: megabyte });
      const after = s.chif.counters().commands;
      expect(after.write - before.write).toBeGreaterThan(290); // 1 MB in 3400-byte fragments
      expect(after.restBlob - before.restBlob).toBe(1);
      const answer = await client.get<{ Payload: string; Note: string }>('/redfish/v1/Big');
      expect(answer.Payload.length).toBe(big.length);
      expect(answer.Note).toBe(megabyte);
      expect(s.chif.counters().commands.read - after.read).toBeGreaterThan(1000); // ~6 MB in 3904-byte reads
    });
    expect(s.sessions()).toEqual([]);
    expect(s.chif.blobCount).toBe(0); // request and response blobs deleted
  }, 60_000);

  it('50 parallel requests in one process all succeed, one exchange at a time', async () => {
    const s = await start();
    await withSession(inband(), async (client) => {
      const paths = Array.from({ length: 50 }, (_, i) => ['/redfish/v1/Systems/1', '/redfish/v1/Managers/1', '/redfish/v1/Chassis/1'][i % 3] as string);
      const bodies = await Promise.all(paths.map((p) => client.get(p)));
      bodies.forEach((b, i) => expect(b['@odata.id']).toBe(paths[i]));
      expect(s.sessions()).toHaveLength(1);
    });
    expect(s.sessions()).toEqual([]);
  });
});

describe('answers as an iLO frames them, and a 412, in-band', () => {
  it.each([
    ['chunked (iLO 5 and later)', false, 'chunked'],
    ['with Content-Length', true, undefined],
  ] as const)('reads answers %s, a large one included (request and response blobs)', async (_name, contentLength, transferEncoding) => {
    const s = await start({ contentLength });
    const tag = 'z'.repeat(20_000);
    await withSession(inband(), async (client) => {
      await client.patch('/redfish/v1/Systems/1', { AssetTag: tag });
      const raw = await client.request('GET', '/redfish/v1/Systems/1');
      expect(raw.headers['transfer-encoding']).toBe(transferEncoding);
      expect((await client.get('/redfish/v1/Systems/1')).AssetTag).toBe(tag);
      expect((await client.head('/redfish/v1/Systems/1')).allow).toBe('GET, HEAD, PATCH');
    });
    expect(s.sessions()).toEqual([]);
    expect(s.chif.blobCount).toBe(0);
  });

  it('a stale If-Match is a RedfishError 412 (exit 6), nothing applied, and the session is still deleted', async () => {
    const s = await start();
    const error = await rejectionOf(
      withSession(inband(), async (client) => {
        const etag = (await client.head('/redfish/v1/Systems/1')).etag as string;
        await client.patch('/redfish/v1/Systems/1', { AssetTag: 'first' });
        await client.patch('/redfish/v1/Systems/1', { AssetTag: 'second' }, { headers: { 'If-Match': etag } });
      }),
    );
    expect(error).toBeInstanceOf(RedfishError);
    expect((error as RedfishError).status).toBe(412);
    expect((error as RedfishError).messageIds).toEqual(['Base.1.18.PreconditionFailed']);
    expect(exitCodeFor(error)).toBe(6);
    expect(s.sessions()).toEqual([]);
    await withSession(inband(), async (client) => expect((await client.get('/redfish/v1/Systems/1')).AssetTag).toBe('first'));
  });
});

describe('an iLO reset, in-band', () => {
  it('a one-shot that resets the iLO: the reset ended the session, no DELETE is sent; during the reset an exchange fails with ENODEV', async () => {
    const s = await start({ resetSeconds: 30 });
    await withSession(inband(), async (client) => {
      await client.post('/redfish/v1/Managers/1/Actions/Manager.Reset', { ResetType: 'GracefulRestart' });
    });
    await until(() => s.resetting, 'the reset to start');
    expect(s.sessions()).toEqual([]);
    const error = await rejectionOf(withSession(inband({ timeoutMs: 3_000 }), async (client) => client.get('/redfish/v1/Systems/1')));
    expect(error.code).toBe('E_CHIF');
    expect(error.message).toMatch(/status 19/);
    expect(s.sessions()).toEqual([]);
  });
});

describe('security states', () => {
  it.each(['highsecurity', 'fips'] as const)('%s without credentials: ChifCredentialsError (exit 8), no session', async (securityState) => {
    const s = await start({ securityState });
    const error = await rejectionOf(openSession(inband()));
    expect(error.code).toBe('E_CHIF_CREDENTIALS');
    expect(error.message).toMatch(/requires credentials/);
    expect(error.message).toContain(securityState === 'fips' ? 'FIPS' : 'HighSecurity');
    expect(s.sessions()).toEqual([]);
  });

  it.each(['highsecurity', 'fips'] as const)('%s with credentials: verified at channel level, a RESTHost session of that user', async (securityState) => {
    const s = await start({ securityState });
    await withSession(inband({ username: 'Administrator', password: 'password' }), async (client) => {
      await client.get('/redfish/v1/Systems/1');
      expect(s.sessions()).toEqual([expect.objectContaining({ user: 'Administrator', tag: 'RESTHost', transport: 'chif' })]);
    });
    expect(s.sessions()).toEqual([]);
  });

  it('highsecurity with a wrong password: AuthError (exit 3), without the password in the message', async () => {
    const s = await start({ securityState: 'highsecurity' });
    const error = await rejectionOf(openSession(inband({ username: 'Administrator', password: 'Zq9-wrong' })));
    expect(error.code).toBe('E_AUTH');
    expect(error.message).not.toContain('Zq9-wrong');
    expect(s.sessions()).toEqual([]);
  });

  it('production with credentials: a session of that user; a wrong password is refused by the login', async () => {
    const s = await start();
    await withSession(inband({ username: 'Administrator', password: 'password' }), async () => {
      expect(s.sessions()).toEqual([expect.objectContaining({ user: 'Administrator', tag: 'RESTHost' })]);
    });
    const error = await rejectionOf(openSession(inband({ username: 'Administrator', password: 'nope' })));
    expect(error.code).toBe('E_AUTH');
    expect(s.sessions()).toEqual([]);
  });
});

/** A mockup with a 20 kB resource: its answer takes the response blob (recvmode 1). */
function midMockup(name: string): string {
  const mockup = join(dir, name);
  mkdirSync(join(mockup, 'redfish/v1/Mid'), { recursive: true });
  writeFileSync(join(mockup, 'redfish/v1/index.json'), JSON.stringify({ '@odata.id': '/redfish/v1' }));
  writeFileSync(join(mockup, 'redfish/v1/Mid/index.json'), JSON.stringify({ '@odata.id': '/redfish/v1/Mid', Data: 'z'.repeat(20_000) }));
  return mockup;
}

describe('fault knobs', () => {
  it.each([
    [{ ping: 19 }, 'E_CHIF_LIBRARY', /driver is not available/],
    [{ ping: 13 }, 'E_CHIF_LIBRARY', /not permitted: run as root/],
    [{ ping: 8 }, 'E_CHIF_CREDENTIALS', /requires credentials/],
    [{ ping: 32 }, 'E_CHIF_LIBRARY', /status 32/],
    [{ create: 5 }, 'E_CHIF_LIBRARY', /could not be created \(status 5\)/],
    [{ securityRequired: -1 }, 'E_CHIF', /security state/],
    [{ exchange: { rc: 8, times: 0 } }, 'E_CHIF_CREDENTIALS', /status 8/],
  ])('%j → %s', async (faults, code, message) => {
    const s = await start({ chifFaults: faults });
    const error = await rejectionOf(openSession(inband()));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(s.sessions()).toEqual([]);
  });

  it('an exchange that fails once is retried on a fresh channel (the old one closed, a new one made)', async () => {
    const s = await start();
    await withSession(inband(), async (client) => {
      s.chif.setFaults({ exchange: { rc: 5, times: 1 } });
      const before = s.chif.counters();
      expect((await client.get('/redfish/v1/Systems/1'))['@odata.id']).toBe('/redfish/v1/Systems/1');
      const after = s.chif.counters();
      expect(after.faulted - before.faulted).toBe(1);
      expect(after.frames.close - before.frames.close).toBe(1);
      expect(after.frames.create - before.frames.create).toBe(1);
      expect(after.commands.restImmediate - before.commands.restImmediate).toBe(1);
    });
    expect(s.sessions()).toEqual([]);
  });

  it.each(['POST', 'PATCH'] as const)('an exchange of a %s that fails: ChifError, and it is not sent again (the iLO may have done it)', async (method) => {
    const s = await start();
    const error = await rejectionOf(
      withSession(inband(), async (client) => {
        s.chif.setFaults({ exchange: { rc: 5, times: 1 } });
        const before = s.chif.counters();
        try {
          return method === 'POST'
            ? await client.post('/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { ResetType: 'PushPowerButton' })
            : await client.patch('/redfish/v1/Systems/1', { AssetTag: 'once' });
        } finally {
          const after = s.chif.counters();
          expect(after.faulted - before.faulted).toBe(1);
          expect(after.frames.exchange - before.frames.exchange).toBe(1); // the failed one, no other
          expect(after.commands.restImmediate - before.commands.restImmediate).toBe(0);
        }
      }),
    );
    expect(error.code).toBe('E_CHIF');
    expect(error.message).toMatch(/the CHIF exchange failed with status 5/);
    expect(s.sessions()).toEqual([]);
  });

  it('a one-shot sequence mismatch on a GET (another packet\'s answer comes back) is not taken: the GET is sent again', async () => {
    const s = await start();
    await withSession(inband(), async (client) => {
      await client.get('/redfish/v1/Managers/1'); // the answer the mismatched exchange carries
      s.chif.setFaults({ sequenceMismatch: true });
      const before = s.chif.counters();
      expect((await client.get('/redfish/v1/Systems/1'))['@odata.id']).toBe('/redfish/v1/Systems/1');
      const after = s.chif.counters();
      expect(after.frames.exchange - before.frames.exchange).toBe(2);
      expect(after.commands.restImmediate - before.commands.restImmediate).toBe(2);
    });
    expect(s.sessions()).toEqual([]);
  });

  it('a sequence mismatch on a POST: ChifError, and the POST is not sent again (it may have been done)', async () => {
    const s = await start();
    const action = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
    const error = await rejectionOf(
      withSession(inband(), async (client) => {
        s.chif.setFaults({ sequenceMismatch: true });
        const before = s.chif.counters().commands.restImmediate;
        try {
          return await client.post(action, { ResetType: 'PushPowerButton' });
        } finally {
          expect(s.chif.counters().commands.restImmediate - before).toBe(1);
        }
      }),
    );
    expect(error.code).toBe('E_CHIF');
    expect(error.message).toMatch(/another packet's sequence number/);
    // done once by the iLO: one press of the button (twice would have put it back On)
    await withSession(inband(), async (client) => expect((await client.get('/redfish/v1/Systems/1')).PowerState).toBe('Off'));
    expect(s.sessions()).toEqual([]);
  });

  it('bodies around the inline limit (one packet) go inline or through a blob, each accepted', async () => {
    const s = await start();
    await withSession(inband(), async (client) => {
      const before = s.chif.counters().commands;
      for (let n = 3300; n <= 4300; n += 37) {
        await client.patch('/redfish/v1/Systems/1', { AssetTag: 'a'.repeat(n) });
        expect((await client.get('/redfish/v1/Systems/1')).AssetTag).toHaveLength(n);
      }
      const after = s.chif.counters().commands;
      // both sides of the boundary were crossed
      expect(after.restBlob - before.restBlob).toBeGreaterThan(0);
      expect(after.restImmediate - before.restImmediate).toBeGreaterThan(28);
    });
    expect(s.sessions()).toEqual([]);
  }, 60_000);

  it('blob status 2 (another local user) on a response blob is waited out', async () => {
    const s = await start({ mockupDir: midMockup('mid-mockup') });
    await withSession(inband(), async (client) => {
      s.chif.setFaults({ blobStatus: { status: 2, times: 2 }, zeroRead: 1 });
      expect(((await client.get('/redfish/v1/Mid')).Data as string).length).toBe(20_000);
    });
    expect(s.sessions()).toEqual([]);
    expect(s.chif.blobCount).toBe(0);
  });

  it('an answer that keeps coming back empty: ChifError after four passes, not an endless loop; blob and session deleted', async () => {
    const s = await start({ mockupDir: midMockup('mid-mockup-empty') });
    const error = await rejectionOf(
      withSession(inband(), async (client) => {
        s.chif.setFaults({ zeroRead: 1000 });
        const infos = s.chif.counters().commands.info;
        try {
          return await client.get('/redfish/v1/Mid');
        } finally {
          // the size was read again before each of the four passes
          expect(s.chif.counters().commands.info - infos).toBe(4);
          s.chif.setFaults({ zeroRead: null });
        }
      }),
    );
    expect(error.code).toBe('E_CHIF');
    expect(error.message).toBe('the iLO kept answering empty fragments while its answer was read');
    expect(s.sessions()).toEqual([]);
    expect(s.chif.blobCount).toBe(0);
  });

  it('a blob store that stays busy (status 2) past the deadline: ChifError saying so, not an endless wait', async () => {
    const s = await start({ mockupDir: midMockup('mid-mockup-busy') });
    const error = await rejectionOf(
      withSession(inband({ timeoutMs: 3_000 }), async (client) => {
        s.chif.setFaults({ blobStatus: { status: 2, times: 0 } });
        try {
          return await client.get('/redfish/v1/Mid');
        } finally {
          s.chif.setFaults({ blobStatus: null });
        }
      }),
    );
    expect(error.code).toBe('E_CHIF');
    expect(error.message).toMatch(/another local client keeps the iLO's blob store busy \(status 2\); try again/);
    expect(s.sessions()).toEqual([]);
  }, 60_000);

  it('blob status 12 on the answer\'s blob is a ChifError (exit 5), and the session is still deleted', async () => {
    const s = await start({ mockupDir: midMockup('mid-mockup-12') });
    const error = await rejectionOf(
      withSession(inband(), async (client) => {
        s.chif.setFaults({ blobStatus: { status: 12, times: 1 } });
        return client.get('/redfish/v1/Mid');
      }),
    );
    expect(error.code).toBe('E_CHIF');
    expect(s.sessions()).toEqual([]);
  });

  it('an answer announced larger than 64 MiB is refused before a byte is read (ProtocolError, exit 6); blob and session deleted', async () => {
    const s = await start({ mockupDir: midMockup('mid-mockup-huge') });
    const error = await rejectionOf(
      withSession(inband(), async (client) => {
        s.chif.setFaults({ announceBlobSize: 0xfffffff0 });
        const reads = s.chif.counters().commands.read;
        try {
          return await client.get('/redfish/v1/Mid');
        } finally {
          expect(s.chif.counters().commands.read).toBe(reads);
          s.chif.setFaults({ announceBlobSize: null });
        }
      }),
    );
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.message).toMatch(/announced a 4294967280-byte answer over CHIF, more than the 67174400 a Redfish answer may take/);
    expect(s.sessions()).toEqual([]);
    expect(s.chif.blobCount).toBe(0);
  });

  it('a slow ChifClose does not hold up the work', async () => {
    const s = await start({ chifFaults: { closeDelayMs: 1000 } });
    expect((await withSession(inband(), (client) => client.get('/redfish/v1/Systems/1')))['@odata.id']).toBe('/redfish/v1/Systems/1');
    expect(s.chif.counters().frames.close).toBeGreaterThanOrEqual(1);
    expect(s.sessions()).toEqual([]);
  });

  it('no driver (no emulator socket): ChifLibraryError naming the driver', async () => {
    delete process.env.ILO_CHIF_EMULATOR_SOCKET;
    const error = await rejectionOf(openSession(inband()));
    expect(error.code).toBe('E_CHIF_LIBRARY');
    expect(error.message).toMatch(/hpilo/);
  });

  it('a library that is not there: ChifLibraryError naming what was looked for', async () => {
    const error = await rejectionOf(openSession(inband({ chifLibrary: join(dir, 'nope.so') })));
    expect(error.code).toBe('E_CHIF_LIBRARY');
    expect(error.message).toContain(`looked for ${join(dir, 'nope.so')} (ENOENT)`);
  });
});

describe('in-band selection with the real library (koffi), DetectILO\'s answer replaced', () => {
  const withDetect = (answer: { rc: number; iloType: number }) => async () => {
    const real = await loadChifLibrary(EMULATOR);
    const appAccount = real.appAccount as AppAccountBinding;
    return { ...real, appAccount: { ...appAccount, detectIlo: async () => ({ ...answer, securityState: 0 }) } };
  };

  it('"no CHIF driver" (-1, type 100) while a channel opens: refused, not guessed; nothing logged in', async () => {
    const s = await start();
    const error = await rejectionOf(openSession(inband({ loadLibrary: withDetect({ rc: -1, iloType: 100 }) })));
    expect(error.code).toBe('E_CHIF_LIBRARY');
    expect(error.message).toMatch(/reports no CHIF driver \(no CHIF driver: DetectILO answered -1, type 100\), yet a channel opened/);
    expect(s.state().counters.logins).toBe(0);
  });

  it('an iLO 7 goes to the vNIC, never to CHIF (here: no host side of the vNIC, exit 7)', async () => {
    const s = await start();
    const error = await rejectionOf(openSession(inband({ loadLibrary: withDetect({ rc: 0, iloType: 7 }), networkInterfaces: () => ({}) })));
    expect(error.code).toBe('E_VNIC');
    expect(error.message).toMatch(/host side of the vNIC is not configured: no address of this host shares a \/30 with 16\.1\.15\.1/);
    // No CHIF exchange reached the iLO: the vNIC was chosen before anything was opened.
    expect(Object.values(s.chif.counters().commands).reduce((a, b) => a + b, 0)).toBe(0);
    expect(s.state().counters.requests).toBe(0);
  });
});

describe('REST answers no simulator knob gives, made by the real library wrapped', () => {
  /** The emulator library, with the answer of the next exchange after arm() rewritten by `tamper`. */
  const tampering = (tamper: (response: Buffer) => void) => {
    let armed = false;
    const loadLibrary = async () => {
      const real = await loadChifLibrary(EMULATOR);
      return {
        ...real,
        exchange: async (handle: Parameters<typeof real.exchange>[0], packet: Buffer) => {
          const result = await real.exchange(handle, packet);
          if (armed && result.rc === 0) {
            armed = false;
            tamper(result.response);
          }
          return result;
        },
      };
    };
    return { loadLibrary, arm: () => void (armed = true), armed: () => armed };
  };

  it.each([
    ['an unknown receive mode', (r: Buffer) => r.writeUInt32LE(7, 12), /the iLO answered with an unknown receive mode 7/],
    ['an inline length past the end of the packet', (r: Buffer) => r.writeUInt32LE(r.length, 16), /the iLO's inline answer claims \d+ bytes, more than a packet holds/],
  ] as const)('%s: ChifError naming it, nothing taken from the packet; the session is still deleted', async (_what, tamper, message) => {
    const s = await start();
    const library = tampering(tamper);
    const error = await rejectionOf(
      withSession(inband({ loadLibrary: library.loadLibrary }), async (client) => {
        library.arm();
        return client.get('/redfish/v1/Systems/1');
      }),
    );
    expect(library.armed()).toBe(false); // the GET's answer was the one rewritten
    expect(error.code).toBe('E_CHIF');
    expect(error.message).toMatch(message);
    expect(s.sessions()).toEqual([]);
  });

  it('an exchange that never returns, past the library\'s own receive timeout: TimeoutError from the backstop; the DELETE goes on a fresh channel', async () => {
    const s = await start();
    let hang = false;
    let hung = 0;
    let channelsBefore = 0;
    const loadLibrary = async () => {
      const real = await loadChifLibrary(EMULATOR);
      return {
        ...real,
        // A library whose receive timeout does not end the call (what the backstop is for).
        exchange: (handle: Parameters<typeof real.exchange>[0], packet: Buffer) => {
          if (!hang) return real.exchange(handle, packet);
          hang = false;
          hung++;
          return new Promise<never>(() => undefined);
        },
      };
    };
    const error = await rejectionOf(
      withSession(inband({ loadLibrary, timeoutMs: 2000 }), async (client) => {
        channelsBefore = s.chif.counters().frames.create;
        hang = true;
        return client.get('/redfish/v1/Systems/1');
      }),
    );
    expect(hung).toBe(1);
    expect(s.chif.counters().frames.create - channelsBefore).toBe(1); // the hung one is left to itself
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.message).toMatch(/GET \/redfish\/v1\/Systems\/1: no answer over CHIF within 2 s/);
    expect(s.sessions()).toEqual([]);
    expect(s.endedSessions().map((e) => e.how)).toEqual(['own-token']);
  });
});

describe('the CLI in-band', () => {
  const env = () => ({ ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: process.env.ILO_CHIF_EMULATOR_SOCKET });

  it('get works without --url, and leaves nothing', async () => {
    const s = await start();
    const r = await runToEnd(['get', '/redfish/v1/Systems/1'], { env: env() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).Id).toBe('1');
    expect(s.sessions()).toEqual([]);
  });

  it.each([
    ['no library', () => ({ ...env(), ILO_CHIF_LIB: join(dir, 'absent.so') }), {}, 7, /CHIF library was not found/],
    ['no driver', () => ({ ...env(), ILO_CHIF_EMULATOR_SOCKET: join(dir, 'absent.sock') }), {}, 7, /hpilo/],
    ['high security without credentials', env, { securityState: 'highsecurity' }, 8, /requires credentials/],
    ['not root', env, { chifFaults: { ping: 13 } }, 7, /run as root/],
  ] as const)('%s: exit %s with a clear message', async (_name, makeEnv, options, code, message) => {
    const s = await start(options as SimulatorOptions);
    const r = await runToEnd(['get', '/redfish/v1/Systems/1'], { env: makeEnv() });
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
    expect(s.sessions()).toEqual([]);
  });

  it('an endless answer (4 GiB announced, filler on every read): exit 6 at once, session and blob deleted', async () => {
    const s = await start({ mockupDir: midMockup('mid-mockup-endless'), chifFaults: { announceBlobSize: 0xfffffff0 } });
    const r = await runToEnd(['--timeout', '15s', 'get', '/redfish/v1/Mid'], { env: env() });
    expect(r.stderr).toMatch(/announced a 4294967280-byte answer over CHIF/);
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('');
    expect(s.state().chif.counters.commands.read).toBe(0);
    expect(s.sessions()).toEqual([]);
    expect(s.chif.blobCount).toBe(0);
  }, 60_000);

  it('--timeout shorter than a hung answer: the library\'s receive timeout (ETIMEDOUT) is a timeout (exit 5), not a failed exchange to retry; the session is deleted', async () => {
    const s = await start();
    s.faults.inject({ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' });
    const r = await runToEnd(['--timeout', '2s', 'get', '/redfish/v1/Systems/1'], { env: env() });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/no answer over CHIF within 2 s/);
    expect(r.stderr).not.toMatch(/CHIF exchange failed|status 110/);
    expect(r.stdout).toBe('');
    expect(s.faults.held).toBe(1); // sent once, not again on a fresh channel
    expect(s.sessions()).toEqual([]);
  }, 60_000);

  it('never falls back: with --url it is HTTPS even when the CHIF library is there', async () => {
    const s = await start();
    const r = await runToEnd(['--url', 'https://127.0.0.1:1', 'get', '/redfish/v1/Systems/1'], { env: { ...env(), ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' } });
    expect(r.code).toBe(5);
    expect(s.state().chif.counters.frames.create).toBe(0);
  });
});

describe('where the CLI looks for the library (no --chif-lib)', () => {
  // No ILO_CHIF_LIB: the search runs. LD_LIBRARY_PATH is the test's to set.
  const searchEnv = (extra: NodeJS.ProcessEnv = {}) => ({
    ILO_URL: '',
    ILO_USERNAME: '',
    ILO_PASSWORD: '',
    ILO_CHIF_LIB: '',
    LD_LIBRARY_PATH: '',
    ILO_CHIF_EMULATOR_SOCKET: process.env.ILO_CHIF_EMULATOR_SOCKET,
    ...extra,
  });
  const folder = (name: string, mode = 0o755): string => {
    const path = join(dir, name);
    mkdirSync(path, { recursive: true });
    chmodSync(path, mode);
    return path;
  };

  it('never loads a library from the working directory, even one that would pass every check', async () => {
    const cwd = folder('cwd-planted');
    const markers = ['ilorest_chif_dev.so', 'ilorest_chif.so'].map((name) => plantLibrary(join(cwd, name)));
    const r = await runToEnd(['get', '/redfish/v1/Systems/1'], { env: searchEnv(), cwd });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/CHIF library was not found \(looked for \/opt\/ilorest/);
    expect(r.stderr).not.toContain(cwd);
    for (const marker of markers) expect(existsSync(marker)).toBe(false);
  });

  it('a deleted working directory: no crash, the search goes on (exit 7, naming where it looked)', async () => {
    const gone = folder('cwd-gone');
    const r = runProgram('/bin/sh', ['-c', 'cd "$1" && rmdir "$1" && exec "$2" "$3" get /redfish/v1/Systems/1', 'sh', gone, process.execPath, BIN], { env: searchEnv() });
    const { code } = await r.exited;
    expect(r.stderr()).not.toMatch(/internal error|uv_cwd/);
    expect(r.stderr()).toMatch(/CHIF library was not found/);
    expect(code).toBe(7);
  });

  it('a deleted working directory with the library named: the run works (guardian included); a relative name is refused clearly', async () => {
    const s = await start();
    const gone = folder('cwd-gone-named');
    const inGone = (lib: string) =>
      runProgram('/bin/sh', ['-c', 'cd "$1" && rmdir "$1" && exec "$2" "$3" get /redfish/v1/Systems/1', 'sh', gone, process.execPath, BIN], { env: searchEnv({ ILO_CHIF_LIB: lib }) });
    const ok = inGone(EMULATOR);
    expect((await ok.exited).code).toBe(0);
    expect(JSON.parse(ok.stdout()).Id).toBe('1');
    expect(s.sessions()).toEqual([]);
    mkdirSync(gone);
    const relative = inGone('libilorestchif.so');
    expect((await relative.exited).code).toBe(7);
    expect(relative.stderr()).toMatch(/CHIF library path libilorestchif.so is relative and the working directory is gone .*give an absolute path/);
  });

  describe.runIf(requireRoot('the planted-library search tests'))('as root (SKIPPED when not root)', () => {
    it('a candidate other users can write to is skipped with a warning naming it, and never loaded', async () => {
      const open = folder('ld-group-writable', 0o775);
      const lib = join(open, 'ilorest_chif.so');
      const marker = plantLibrary(lib);
      const r = await runToEnd(['get', '/redfish/v1/Systems/1'], { env: searchEnv({ LD_LIBRARY_PATH: open }) });
      expect(r.stderr).toContain(`skipping the CHIF library ${lib}: directory ${open} is writable by its group (mode 0775)`);
      expect(r.stderr).toMatch(/CHIF library was not found .*refused as unsafe: /);
      expect(r.stderr).not.toContain(`skipping the CHIF library ${join(open, 'libilorestchif.so')}`); // not there: nothing to say
      expect(r.code).toBe(7);
      expect(existsSync(marker)).toBe(false);
    });

    it('a safe library found through LD_LIBRARY_PATH is used, and the guardian loads that very file: SIGKILL, and it deletes the session', async () => {
      const s = await start({ faults: [{ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' }] });
      const safe = folder('ld-safe');
      const lib = join(safe, 'ilorest_chif.so');
      copyFileSync(EMULATOR, lib);
      chmodSync(lib, 0o755);
      const r = runCli(['--log-level', 'debug', 'get', '/redfish/v1/Systems/1'], { env: searchEnv({ LD_LIBRARY_PATH: safe }) });
      await until(() => s.faults.held === 1 && s.sessions().length === 1, 'the GET is held', 15_000);
      await until(() => r.stderr().includes('guardian watching'), 'the guardian runs', 15_000);
      expect(r.stderr()).toContain(`"library":"${lib}"`);
      r.signal('SIGKILL');
      await r.exited;
      await until(() => s.sessions().length === 0, 'the guardian deleted the session', 15_000);
    }, 40_000);
  });
});

describe('blob keys', () => {
  it('are ten characters of [A-Za-z0-9], as HPE\'s, fresh each time and using all 62 characters', () => {
    const keys = Array.from({ length: 5000 }, () => blobKey());
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9]{10}$/);
    expect(new Set(keys).size).toBe(keys.length);
    // 50,000 characters drawn: each of the 62 should come up about 806 times; a biased or
    // truncated alphabet shows here.
    const counts = new Map<string, number>();
    for (const key of keys) for (const c of key) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const n of counts.values()) expect(n).toBeGreaterThan(600);
  });
});
