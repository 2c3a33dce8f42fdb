// The koffi declarations of HPE's app-account functions against a small C library with HPE's
// exact prototypes (python-ilorest-library vnichpilo.py): out-strings allocated by the library
// and never freed by the caller, bool and int out-parameters. The emulator answers these with
// "no" only, so string outputs are checked here. Needs a C compiler (skips visibly without, fails
// when CI=true).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindAppAccount } from '../../src/binding/index.js';

const SOURCE = String.raw`
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
static int calls;
int DetectILO(const char *appid, int *iloType, int *securityState) {
  if (!appid || !iloType || !securityState) return -2;
  if (strcmp(appid, "self_register") != 0) return -2;
  *iloType = 7; *securityState = 3; return 0;
}
int ReadyToUse(void) { return 0; }
int AppIdExistsinTPM(const char *appid, bool *exists) {
  if (!exists) return -2;
  *exists = strcmp(appid, "self_register") == 0; return 0;
}
int GetSessionID(const char *appid, const char *appname, const char *salt, char **sessionId, char **sessionLocation) {
  if (strcmp(appid, "self_register") || strcmp(appname, "self_register") || strcmp(salt, "self_register")) return -9;
  calls++;
  if (calls == 1) { *sessionId = NULL; *sessionLocation = NULL; return 0; }
  *sessionId = strdup("c3c5f437f94bc24428fe930bbf50904f");
  *sessionLocation = strdup("https://16.1.15.1/redfish/v1/SessionService/Sessions/ilorest00000000a1b2c3d4/");
  return 0;
}
#ifdef WITH_GETIPADDRESS
#include <wchar.h>
static int addressCalls;
const wchar_t *GetIPAddress(void) { return addressCalls++ == 0 ? NULL : L"16.1.15.9"; }
#endif
`;

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasCc && process.env.CI === 'true') {
  it('needs a C compiler (required when CI=true)', () => {
    throw new Error('no cc: install gcc');
  });
}

describe.skipIf(!hasCc || process.platform !== 'linux')(hasCc ? 'HPE app-account ABI through koffi' : 'SKIPPED: no C compiler (cc)', () => {
  let dir: string;
  let library: string;
  let withAddress: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ilo-agent-appabi-'));
    writeFileSync(join(dir, 'stub.c'), SOURCE);
    library = join(dir, 'stub.so');
    execFileSync('cc', ['-shared', '-fPIC', '-o', library, join(dir, 'stub.c')]);
    withAddress = join(dir, 'stub-address.so');
    execFileSync('cc', ['-shared', '-fPIC', '-DWITH_GETIPADDRESS', '-o', withAddress, join(dir, 'stub.c')]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips DetectILO, ReadyToUse, AppIdExistsinTPM and GetSessionID (NULL outputs, then strings)', async () => {
    type Fn = ((...a: unknown[]) => unknown) & { async: (...a: unknown[]) => void };
    const callAsync = (fn: never, ...args: unknown[]) =>
      new Promise<unknown>((resolve, reject) => (fn as Fn).async(...args, (error: unknown, result: unknown) => (error ? reject(error) : resolve(result))));
    const binding = bindAppAccount(koffi.load(library), callAsync);
    expect(await binding.detectIlo('self_register')).toEqual({ rc: 0, iloType: 7, securityState: 3 });
    expect(await binding.detectIlo('other')).toMatchObject({ rc: -2 });
    expect(await binding.readyToUse()).toBe(0);
    expect(await binding.appIdExistsInTpm('self_register')).toEqual({ rc: 0, exists: true });
    expect(await binding.appIdExistsInTpm('other')).toEqual({ rc: 0, exists: false });
    expect(await binding.getSessionId('self_register', 'self_register', 'self_register')).toEqual({ rc: 0, token: null, location: null });
    expect(await binding.getSessionId('self_register', 'self_register', 'self_register')).toEqual({
      rc: 0,
      token: 'c3c5f437f94bc24428fe930bbf50904f',
      location: 'https://16.1.15.1/redfish/v1/SessionService/Sessions/ilorest00000000a1b2c3d4/',
    });
    expect(await binding.getSessionId('x', 'self_register', 'self_register')).toEqual({ rc: -9, token: null, location: null });
    // GetIPAddress is optional: this library lacks it.
    expect(binding.getIpAddress).toBeUndefined();
  });

  it('GetIPAddress (const wchar_t *): NULL, then the address as a JS string', async () => {
    type Fn = ((...a: unknown[]) => unknown) & { async: (...a: unknown[]) => void };
    const callAsync = (fn: never, ...args: unknown[]) =>
      new Promise<unknown>((resolve, reject) => (fn as Fn).async(...args, (error: unknown, result: unknown) => (error ? reject(error) : resolve(result))));
    const binding = bindAppAccount(koffi.load(withAddress), callAsync);
    expect(await binding.getIpAddress?.()).toBeNull();
    expect(await binding.getIpAddress?.()).toBe('16.1.15.9');
  });
});
