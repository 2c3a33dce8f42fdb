// Where `serve` may listen: the default path, and the checks that keep another local user from
// taking that place (a foreign socket, a planted file or symlink, a directory others can change).
// Run as root so that files can be given to other users; the uid the checks compare with is set
// per test (process.getuid), as the user who would run `serve`.
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkListenPath, defaultSocketPath } from '../../src/agent/index.js';
import { rejectionOf } from '../helpers/wait.js';

const USER = 4242;
const OTHER = 65534;
const reason = process.platform === 'win32' ? 'Unix sockets only' : process.getuid?.() !== 0 ? 'giving a file to another user needs root' : undefined;
if (reason && process.env.CI === 'true') {
  it('runs as root (required when CI=true)', () => {
    throw new Error(reason);
  });
}

let base: string;
let n = 0;
const servers: Server[] = [];
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'ilo-agent-path-'));
  chmodSync(base, 0o755);
});
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(base, { recursive: true, force: true });
});

const asUser = (uid: number) => vi.spyOn(process, 'getuid').mockReturnValue(uid);

/** A fresh directory of `owner` with `mode`. */
function directory(owner: number, mode: number): string {
  const dir = join(base, `d${++n}`);
  mkdirSync(dir);
  chownSync(dir, owner, owner);
  chmodSync(dir, mode);
  return dir;
}

async function listening(path: string): Promise<Server> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((r) => server.listen(path, r));
  return server;
}

/** A socket file nobody listens on (as an agent that died leaves it): a second name of a closed listener's socket. */
async function staleSocket(path: string): Promise<void> {
  const server = await listening(`${path}.tmp`);
  linkSync(`${path}.tmp`, path);
  await new Promise((r) => server.close(r));
}

describe.skipIf(reason !== undefined)(`defaultSocketPath${reason ? ` (SKIPPED: ${reason})` : ''}`, () => {
  it('root: /run/ilo-agent.sock, whatever XDG_RUNTIME_DIR says', () => {
    asUser(0);
    expect(defaultSocketPath({ XDG_RUNTIME_DIR: '/run/user/0' })).toBe('/run/ilo-agent.sock');
  });

  it('a user: in XDG_RUNTIME_DIR when it is absolute, else in a private directory under tmpdir', () => {
    asUser(USER);
    expect(defaultSocketPath({ XDG_RUNTIME_DIR: '/run/user/4242' })).toBe('/run/user/4242/ilo-agent-4242.sock');
    // A relative XDG_RUNTIME_DIR is invalid (XDG Base Directory spec), an empty one unset
    expect(defaultSocketPath({ XDG_RUNTIME_DIR: 'run/user/4242' })).toBe(join(tmpdir(), 'ilo-agent-4242', 'agent.sock'));
    expect(defaultSocketPath({ XDG_RUNTIME_DIR: '' })).toBe(join(tmpdir(), 'ilo-agent-4242', 'agent.sock'));
    expect(defaultSocketPath({})).toBe(join(tmpdir(), 'ilo-agent-4242', 'agent.sock'));
  });
});

describe.skipIf(reason !== undefined)(`checkListenPath${reason ? ` (SKIPPED: ${reason})` : ''}`, () => {
  it('a free name in a directory of ours (or root\'s) that only its owner can write: free', async () => {
    asUser(USER);
    expect(await checkListenPath(join(directory(USER, 0o700), 'agent.sock'), {})).toBe('free');
    expect(await checkListenPath(join(directory(0, 0o755), 'agent.sock'), {})).toBe('free');
    // writable by others, but sticky (as /tmp): nobody else can remove or rename what is ours
    expect(await checkListenPath(join(directory(0, 0o1777), 'agent.sock'), {})).toBe('free');
  });

  it('refuses a directory of another user, or one others can write without the sticky bit', async () => {
    asUser(USER);
    const theirs = directory(OTHER, 0o755);
    expect((await rejectionOf(checkListenPath(join(theirs, 'agent.sock'), {}))).message).toBe(
      `${theirs} belongs to another user (uid ${OTHER}), who could replace the socket; use a directory of yours (or root's)`,
    );
    const open = directory(USER, 0o777);
    const error = await rejectionOf(checkListenPath(join(open, 'agent.sock'), {}));
    expect(error.code).toBe('E_INPUT');
    expect(error.message).toBe(`${open} is writable by other users without the sticky bit (a directory, owner uid ${USER}, mode 0777), who could replace the socket; use a directory only you can write`);
    const groupWritable = directory(USER, 0o770);
    expect((await rejectionOf(checkListenPath(join(groupWritable, 'agent.sock'), {}))).message).toMatch(/writable by other users/);
  });

  it('checks every directory above, and the chain a symlink leads to', async () => {
    asUser(USER);
    const open = directory(USER, 0o777);
    const inner = join(open, 'inner');
    mkdirSync(inner, { mode: 0o700 });
    chownSync(inner, USER, USER);
    expect((await rejectionOf(checkListenPath(join(inner, 'agent.sock'), {}))).message).toMatch(new RegExp(`^${open} is writable by other users`));
    // A symlink of ours in a good directory, leading into the open one: the real chain is refused
    const good = directory(USER, 0o700);
    const link = join(good, 'link');
    symlinkSync(inner, link);
    expect((await rejectionOf(checkListenPath(join(link, 'agent.sock'), {}))).message).toMatch(new RegExp(`^${open} is writable by other users`));
  });

  it('a directory that does not exist: refused, with the reason', async () => {
    asUser(USER);
    const missing = join(base, 'missing');
    const error = await rejectionOf(checkListenPath(join(missing, 'agent.sock'), {}));
    expect(error.code).toBe('E_INPUT');
    expect(error.message).toBe(`cannot use ${missing} for the socket: ENOENT`);
  });

  it('a file as the directory, a directory that is a dangling symlink, a runtime directory that is gone: refused with the reason', async () => {
    asUser(USER);
    const dir = directory(USER, 0o700);
    // a file where the directory should be: the name under it cannot even be looked at
    const file = join(dir, 'file');
    writeFileSync(file, '');
    chownSync(file, USER, USER);
    chmodSync(file, 0o600);
    expect((await rejectionOf(checkListenPath(join(file, 'agent.sock'), {}))).message).toBe(`cannot use ${join(file, 'agent.sock')} for the socket: ENOTDIR`);
    const dangling = join(dir, 'dangling');
    symlinkSync(join(dir, 'gone'), dangling);
    const error = await rejectionOf(checkListenPath(join(dangling, 'agent.sock'), {}));
    expect(error.code).toBe('E_INPUT');
    expect(error.message).toBe(`cannot use ${dangling} for the socket: ENOENT`);
    const runtime = join(dir, 'runtime-gone');
    expect((await rejectionOf(checkListenPath(join(runtime, 'a.sock'), { XDG_RUNTIME_DIR: runtime }))).message).toBe(`cannot use ${runtime} for the socket: ENOENT`);
  });

  it('a path longer than a Unix socket address holds (107 bytes on Linux) is refused: it would be bound cut short', async () => {
    asUser(USER);
    const dir = directory(USER, 0o700);
    const fits = join(dir, 'x'.repeat(107 - dir.length - 1));
    expect(Buffer.byteLength(fits)).toBe(107);
    expect(await checkListenPath(fits, {})).toBe('free');
    const error = await rejectionOf(checkListenPath(`${fits}x`, {}));
    expect(error.code).toBe('E_INPUT');
    expect(error.message).toBe(`${fits}x is too long for a Unix socket (108 bytes, at most 107); give a shorter --socket`);
  });

  it('a planted file or symlink at the path: refused, never replaced', async () => {
    asUser(USER);
    const dir = directory(USER, 0o700);
    writeFileSync(join(dir, 'file.sock'), '');
    expect((await rejectionOf(checkListenPath(join(dir, 'file.sock'), {}))).message).toBe(`${join(dir, 'file.sock')} exists and is not a socket; give another --socket`);
    // A symlink to a socket is itself no socket (lstat): it could be pointed elsewhere
    await listening(join(dir, 'real.sock'));
    symlinkSync(join(dir, 'real.sock'), join(dir, 'link.sock'));
    expect((await rejectionOf(checkListenPath(join(dir, 'link.sock'), {}))).message).toMatch(/link\.sock exists and is not a socket/);
    expect(lstatSync(join(dir, 'link.sock')).isSymbolicLink()).toBe(true);
  });

  it('a socket of another user: refused (they may squat it); a socket of ours nobody listens on: stale; one listened on: refused', async () => {
    asUser(USER);
    const dir = directory(USER, 0o700);
    const theirs = join(dir, 'theirs.sock');
    await staleSocket(theirs);
    chownSync(theirs, OTHER, OTHER);
    const error = await rejectionOf(checkListenPath(theirs, {}));
    expect(error.code).toBe('E_INPUT');
    expect(error.message).toBe(`${theirs} is a socket of another user (uid ${OTHER}), who may be squatting it; nothing was started: remove it (as that user or root) or give another --socket`);

    const stale = join(dir, 'stale.sock');
    await staleSocket(stale);
    chownSync(stale, USER, USER);
    expect(await checkListenPath(stale, {})).toBe('stale');

    const live = join(dir, 'live.sock');
    await listening(live);
    chownSync(live, USER, USER);
    expect((await rejectionOf(checkListenPath(live, {}))).message).toBe(`another ilo-agent serve is already listening at ${live}`);
  });

  it('XDG_RUNTIME_DIR must be a private directory of ours (not merely root\'s), mode without group or other write', async () => {
    asUser(USER);
    const ours = directory(USER, 0o700);
    expect(await checkListenPath(join(ours, 'ilo-agent-4242.sock'), { XDG_RUNTIME_DIR: ours })).toBe('free');
    // Another directory than the runtime one is checked by the general rules only
    const rootOwned = directory(0, 0o755);
    expect(await checkListenPath(join(rootOwned, 'a.sock'), { XDG_RUNTIME_DIR: ours })).toBe('free');
    expect((await rejectionOf(checkListenPath(join(rootOwned, 'a.sock'), { XDG_RUNTIME_DIR: rootOwned }))).message).toBe(
      `XDG_RUNTIME_DIR ${rootOwned} is not a private directory of yours (a directory, owner uid 0, mode 0755); fix it, unset it, or give --socket`,
    );
    const sticky = directory(USER, 0o1777);
    expect((await rejectionOf(checkListenPath(join(sticky, 'a.sock'), { XDG_RUNTIME_DIR: sticky }))).message).toMatch(/^XDG_RUNTIME_DIR .* \(a directory, owner uid 4242, mode 1777\)/);
    const groupWritable = directory(USER, 0o720);
    expect((await rejectionOf(checkListenPath(join(groupWritable, 'a.sock'), { XDG_RUNTIME_DIR: groupWritable }))).message).toMatch(/^XDG_RUNTIME_DIR .*mode 0720/);
    // A relative XDG_RUNTIME_DIR is ignored, not checked
    expect(await checkListenPath(join(rootOwned, 'b.sock'), { XDG_RUNTIME_DIR: 'relative' })).toBe('free');
    // A file given as the runtime directory
    const file = join(ours, 'file');
    writeFileSync(file, '');
    chownSync(file, USER, USER);
    chmodSync(file, 0o600);
    expect((await rejectionOf(checkListenPath(join(file, 'a.sock'), { XDG_RUNTIME_DIR: file }))).message).toMatch(/^XDG_RUNTIME_DIR .* \(not a directory, owner uid 4242, mode 0600\)/);
  });
});

describe.skipIf(reason !== undefined)(`checkListenPath: the default path's private directory${reason ? ` (SKIPPED: ${reason})` : ''}`, () => {
  // tmpdir() follows TMPDIR; root here is the user, so that the directory made is "ours"
  let tmp: string;
  const savedTmp = process.env.TMPDIR;
  afterEach(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });
  const useTmp = () => {
    tmp = directory(0, 0o755);
    process.env.TMPDIR = tmp;
    return join(tmp, 'ilo-agent-0');
  };

  it('is made owner-only (0700), then found as it is', async () => {
    asUser(0);
    const dir = useTmp();
    expect(await checkListenPath(join(dir, 'agent.sock'), {})).toBe('free');
    const stat = lstatSync(dir);
    expect(stat.isDirectory()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o700);
    expect(await checkListenPath(join(dir, 'agent.sock'), {})).toBe('free');
  });

  // Skipped under mutation (worker threads cannot set a umask): see scripts/mutate/worker-umask.ts
  it('is 0700 under a strict umask (0177) too: the mode is set after mkdir, not left to the umask', async () => {
    asUser(0);
    const dir = useTmp();
    const umask = process.umask(0o177);
    try {
      expect(await checkListenPath(join(dir, 'agent.sock'), {})).toBe('free');
    } finally {
      process.umask(umask);
    }
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
  });

  it('one found there that is not ours alone is refused: wider mode, another owner, a symlink, a file', async () => {
    asUser(0);
    let dir = useTmp();
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    expect((await rejectionOf(checkListenPath(join(dir, 'agent.sock'), {}))).message).toBe(
      `${dir} exists and is not a private directory of yours (a directory, owner uid 0, mode 0755); another user may have made it: remove it, or set XDG_RUNTIME_DIR, or give --socket`,
    );
    expect(lstatSync(dir).mode & 0o777).toBe(0o755); // not taken over

    dir = useTmp();
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, OTHER, OTHER);
    expect((await rejectionOf(checkListenPath(join(dir, 'agent.sock'), {}))).message).toMatch(/owner uid 65534, mode 0700\); another user may have made it/);

    dir = useTmp();
    const target = directory(0, 0o700);
    symlinkSync(target, dir);
    expect((await rejectionOf(checkListenPath(join(dir, 'agent.sock'), {}))).message).toMatch(/exists and is not a private directory of yours \(a symlink, owner uid 0/);

    dir = useTmp();
    writeFileSync(dir, '');
    chmodSync(dir, 0o700);
    expect((await rejectionOf(checkListenPath(join(dir, 'agent.sock'), {}))).message).toMatch(/\(not a directory, owner uid 0, mode 0700\)/);
  });

  it('cannot be made (no tmpdir): refused with the reason', async () => {
    asUser(0);
    process.env.TMPDIR = join(base, 'no-such-tmp');
    const dir = join(base, 'no-such-tmp', 'ilo-agent-0');
    expect((await rejectionOf(checkListenPath(join(dir, 'agent.sock'), {}))).message).toBe(`cannot create ${dir} for the socket: ENOENT`);
  });
});
