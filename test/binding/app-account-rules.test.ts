// The app-account binding's own decoding and queueing, with a fake library in place of koffi's: each
// declared function is a record of its declaration, and "calling" it runs a handler that fills the
// out-parameters as the library would (or leaves them). What is asserted: the result decoded from
// the outputs, the arguments passed, and that the serialised wrappers pass calls and results through.
import { describe, expect, it } from 'vitest';
import { bindAppAccount, bindAppAccountManagement, serialised, serialisedManagement, SerialQueue } from '../../src/binding/index.js';
import type { AppAccountBinding, AppAccountManagement } from '../../src/binding/index.js';

type Handler = (...args: unknown[]) => unknown;

/** A library whose functions are named handlers; `lacks` are symbols koffi would not find. */
function fakeLibrary(handlers: Record<string, Handler>, lacks: string[] = []) {
  const calls: Array<{ name: string; args: unknown[] }> = [];
  const nameOf = (declaration: string) => (/(\w+)\(/.exec(declaration) as RegExpExecArray)[1] as string;
  const lib = {
    func(declaration: string) {
      const name = nameOf(declaration);
      if (lacks.includes(name)) throw new Error(`cannot find function '${name}'`);
      return { name };
    },
  };
  const callAsync = async (fn: never, ...args: unknown[]) => {
    const { name } = fn as { name: string };
    calls.push({ name, args: [...args] });
    const handler = handlers[name];
    return handler === undefined ? 0 : handler(...args);
  };
  return { lib, callAsync, calls };
}

describe('bindAppAccount: outputs the library did not fill read as nothing', () => {
  it('GetIPAddress answering no string is null; DetectILO, AppIdExistsinTPM and GetSessionID outputs left alone', async () => {
    const { lib, callAsync } = fakeLibrary({ GetIPAddress: () => undefined });
    const binding = bindAppAccount(lib, callAsync);
    await expect((binding.getIpAddress as () => Promise<string | null>)()).resolves.toBeNull();
    await expect(binding.appIdExistsInTpm('app')).resolves.toEqual({ rc: 0, exists: false });
    await expect(binding.getSessionId('app', 'name', 'salt')).resolves.toEqual({ rc: 0, token: null, location: null });
  });

  it('non-string token or location outputs are null, each on its own', async () => {
    const { lib, callAsync } = fakeLibrary({
      GetSessionID: (_a, _n, _s, id, loc) => {
        (id as unknown[])[0] = 'tok';
        (loc as unknown[])[0] = 7;
        return 0;
      },
    });
    await expect(bindAppAccount(lib, callAsync).getSessionId('a', 'n', 's')).resolves.toEqual({ rc: 0, token: 'tok', location: null });
    const other = fakeLibrary({
      GetSessionID: (_a, _n, _s, id, loc) => {
        (id as unknown[])[0] = 7;
        (loc as unknown[])[0] = '/redfish/v1/SessionService/Sessions/x';
        return 0;
      },
    });
    await expect(bindAppAccount(other.lib, other.callAsync).getSessionId('a', 'n', 's')).resolves.toEqual({
      rc: 0,
      token: null,
      location: '/redfish/v1/SessionService/Sessions/x',
    });
  });

  it('a library without GetIPAddress binds without it', () => {
    const { lib, callAsync } = fakeLibrary({}, ['GetIPAddress']);
    expect('getIpAddress' in bindAppAccount(lib, callAsync)).toBe(false);
  });
});

describe('bindAppAccountManagement: CompareAppIds', () => {
  const IDS = { ptr: 'ids' };
  const NAMES = { ptr: 'names' };
  const TPM = { ptr: 'tpm' };
  const ILO = { ptr: 'ilo' };
  const tables = new Map<unknown, unknown[]>([
    [IDS, ['id-1', 'id-2']],
    [NAMES, ['one', null]],
    [TPM, [1, 0]],
    [ILO, [0, 1]],
  ]);
  const decoded: Array<[unknown, string, number]> = [];
  const decode = (pointer: unknown, type: 'const char *' | 'uint8_t', count: number) => {
    decoded.push([pointer, type, count]);
    return (tables.get(pointer) as unknown[]).slice(0, count);
  };
  /** CompareAppIds filling its outputs with `out` (each a pointer or null) and answering `rc`. */
  const compare = (rc: number, out: { ids?: unknown; names?: unknown; count?: unknown; inTpm?: unknown; inIlo?: unknown }) => {
    const { lib, callAsync, calls } = fakeLibrary({
      CompareAppIds: (_a, _n, _s, ids, names, count, inTpm, inIlo) => {
        (ids as unknown[])[0] = 'ids' in out ? out.ids : IDS;
        (names as unknown[])[0] = 'names' in out ? out.names : NAMES;
        (count as unknown[])[0] = 'count' in out ? out.count : 2;
        (inTpm as unknown[])[0] = 'inTpm' in out ? out.inTpm : TPM;
        (inIlo as unknown[])[0] = 'inIlo' in out ? out.inIlo : ILO;
        return rc;
      },
    });
    decoded.length = 0;
    return { management: bindAppAccountManagement(lib, callAsync, decode, () => true, (name) => new Error(`no ${name}`)), calls };
  };

  it('decodes each account; a name that is no string is empty, 0 bytes are false', async () => {
    const { management, calls } = compare(0, {});
    await expect(management.compareAppIds('app', 'name', 'salt')).resolves.toEqual({
      rc: 0,
      accounts: [
        { id: 'id-1', name: 'one', inTpm: true, inIlo: false },
        { id: 'id-2', name: '', inTpm: false, inIlo: true },
      ],
    });
    expect(calls.map((c) => [c.name, c.args.slice(0, 3)])).toEqual([['CompareAppIds', ['app', 'name', 'salt']]]);
    expect(decoded).toEqual([
      [IDS, 'const char *', 2],
      [NAMES, 'const char *', 2],
      [TPM, 'uint8_t', 2],
      [ILO, 'uint8_t', 2],
    ]);
  });

  // Each condition alone is enough for no accounts, and then nothing is decoded.
  it.each([
    ['a non-zero rc', 1, {}],
    ['a count that is not an integer', 0, { count: 1.5 }],
    ['a count of 0', 0, { count: 0 }],
    ['a negative count', 0, { count: -1 }],
    ['no ids', 0, { ids: null }],
    ['no names', 0, { names: null }],
    ['no inTpm', 0, { inTpm: null }],
    ['no inIlo', 0, { inIlo: null }],
  ])('%s: no accounts, nothing decoded', async (_what, rc, out) => {
    const { management } = compare(rc, out);
    await expect(management.compareAppIds('app', 'name', 'salt')).resolves.toEqual({ rc, accounts: [] });
    expect(decoded).toEqual([]);
  });

  it('a symbol the library lacks: the error made for its name, and no call', async () => {
    const { lib, callAsync, calls } = fakeLibrary({});
    const lacking = ['CompareAppIds', 'DeleteAppTokenUsingCreds'];
    const management = bindAppAccountManagement(lib, callAsync, decode, (name) => !lacking.includes(name), (name) => new Error(`no ${name}`));
    expect(management.missing).toEqual(['DeleteAppTokenUsingCreds', 'CompareAppIds']);
    await expect(management.compareAppIds('a', 'n', 's')).rejects.toThrow(/^no CompareAppIds$/);
    await expect(management.deleteAppTokenUsingCreds('a', 'u', 'p')).rejects.toThrow(/^no DeleteAppTokenUsingCreds$/);
    expect(calls).toEqual([]);
  });

  it('DeleteAppTokenUsingCreds is called with the app id, user and password; its rc is the answer', async () => {
    const { lib, callAsync, calls } = fakeLibrary({ DeleteAppTokenUsingCreds: () => 5 });
    const management = bindAppAccountManagement(lib, callAsync, decode, () => true, (name) => new Error(`no ${name}`));
    await expect(management.deleteAppTokenUsingCreds('app', 'user', 'pw')).resolves.toBe(5);
    expect(calls).toEqual([{ name: 'DeleteAppTokenUsingCreds', args: ['app', 'user', 'pw'] }]);
  });
});

describe('the serialised wrappers pass each call and its result through', () => {
  it('management: every function, with its arguments', async () => {
    const seen: unknown[] = [];
    const inner: AppAccountManagement = {
      missing: ['GenerateAppToken'],
      generateAppToken: async (...args) => (seen.push(['generate', ...args]), 1),
      deleteAppToken: async (...args) => (seen.push(['delete', ...args]), 2),
      deleteAppTokenUsingCreds: async (...args) => (seen.push(['deleteCreds', ...args]), 3),
      compareAppIds: async (...args) => (seen.push(['compare', ...args]), { rc: 4, accounts: [] }),
    };
    const outer = serialisedManagement(inner, new SerialQueue());
    expect(outer.missing).toEqual(['GenerateAppToken']);
    await expect(outer.generateAppToken('a', 'n', 's', 'u', 'p')).resolves.toBe(1);
    await expect(outer.deleteAppToken('a', 'n', 's')).resolves.toBe(2);
    await expect(outer.deleteAppTokenUsingCreds('a', 'u', 'p')).resolves.toBe(3);
    await expect(outer.compareAppIds('a', 'n', 's')).resolves.toEqual({ rc: 4, accounts: [] });
    expect(seen).toEqual([
      ['generate', 'a', 'n', 's', 'u', 'p'],
      ['delete', 'a', 'n', 's'],
      ['deleteCreds', 'a', 'u', 'p'],
      ['compare', 'a', 'n', 's'],
    ]);
  });

  it('login binding: getIpAddress only when the library has it, and then through the queue', async () => {
    const base: AppAccountBinding = {
      detectIlo: async () => ({ rc: 0, iloType: 7, securityState: 3 }),
      readyToUse: async () => 0,
      appIdExistsInTpm: async () => ({ rc: 0, exists: true }),
      getSessionId: async () => ({ rc: 0, token: 't', location: 'l' }),
    };
    expect('getIpAddress' in serialised(base)).toBe(false);
    const withIp = serialised({ ...base, getIpAddress: async () => '16.1.15.1' });
    await expect((withIp.getIpAddress as () => Promise<string | null>)()).resolves.toBe('16.1.15.1');
  });
});
