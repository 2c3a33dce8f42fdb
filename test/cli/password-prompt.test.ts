// The password prompt, through a real pseudo-terminal (python3's pty module, test/fixtures/pty-run.py):
// with -u and no password source, on a terminal, the CLI asks on stderr without echo; Ctrl-C at the
// prompt is exit 130 with nothing sent; without a terminal it never waits (exit 2).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { BIN, assertBuilt, runToEnd } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/shared.js';

const run = promisify(execFile);
const PTY = resolve(PROJECT_ROOT, 'test/fixtures/pty-run.py');
const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const PASSWORD = 'typed-at-the-Prompt-7';
const NO_STACK = /\n\s+at /;

let dir: string;
let sim: Simulator | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-prompt-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  expect(sim?.sessions() ?? []).toEqual([]);
  await sim?.close();
  sim = undefined;
});

async function start(): Promise<{ s: Simulator; args: string[]; env: NodeJS.ProcessEnv }> {
  const s = await startSimulator({ profile: 'ilo7', loginFailureDelayMs: 0, users: { Administrator: PASSWORD }, chifSocket: join(dir, 'c.sock') });
  sim = s;
  const ca = join(dir, 'vnic-ca.pem');
  writeFileSync(ca, s.vnicCa as string);
  const env = { ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_AGENT_SOCKET: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: s.chifSocket as string, ILO_VNIC_URL: s.vnicUrl as string };
  return { s, env, args: ['--ca-cert', ca, '--tls-servername', 'ilo-simulator.local', '-u', 'Administrator', 'appaccount', 'status'] };
}

/** Runs the built CLI on a pseudo-terminal; `input` is typed once the prompt shows. */
async function onTerminal(args: string[], env: NodeJS.ProcessEnv, input: string): Promise<{ code: number; typed: boolean; output: string }> {
  assertBuilt();
  const { stdout } = await run('python3', [PTY, process.execPath, BIN, ...args], {
    env: { ...process.env, ...env, PTY_WAIT_FOR: 'Password for Administrator: ', PTY_INPUT: input, PTY_TIMEOUT: '60' },
    timeout: 90_000,
  });
  return JSON.parse(stdout) as { code: number; typed: boolean; output: string };
}

describe('the password prompt on a terminal', () => {
  it('-u with no password source: asked on the terminal without echo (erase works); one session, deleted', async () => {
    const { s, args, env } = await start();
    const r = await onTerminal(args, env, `xy\u007f\u007f${PASSWORD}\r`);
    expect(r.typed).toBe(true);
    expect(r.output).not.toMatch(NO_STACK);
    expect(r.code).toBe(0);
    expect(r.output).toContain('Password for Administrator: ');
    // Nothing typed was echoed: neither the password nor the erased keys.
    expect(r.output).not.toContain(PASSWORD);
    expect(r.output).not.toContain('xy');
    const result = JSON.parse(r.output.slice(r.output.indexOf('{'), r.output.lastIndexOf('}') + 1)) as { verdict: string; ilo: { checked: boolean } };
    expect(result).toMatchObject({ verdict: 'ready', ilo: { checked: true } });
    expect(s.state().counters.logins).toBe(1);
  }, 120_000);

  it('Ctrl-C at the prompt: exit 130, says so, nothing asked of the library or the iLO', async () => {
    const { s, args, env } = await start();
    const r = await onTerminal(args, env, 'abc\u0003');
    expect(r.typed).toBe(true);
    expect(r.code).toBe(130);
    expect(r.output).toMatch(/password prompt was interrupted \(Ctrl-C\); nothing was sent/);
    expect(r.output).not.toContain('abc');
    expect(s.state().counters.requests).toBe(0);
    expect(Object.values(s.app.counters()).reduce((a, b) => a + b, 0)).toBe(0);
  }, 120_000);

  it('not on a terminal: no prompt, exit 2 naming the password sources', async () => {
    const { s, args, env } = await start();
    const r = await runToEnd(args, { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no password: set ILO_PASSWORD, or use --password-file FILE or --password-stdin/);
    expect(r.stderr).not.toContain('Password for');
    expect(s.state().counters.requests).toBe(0);
  });
});
