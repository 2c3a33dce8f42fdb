// Spawning the real, built CLI. Children get their own process group (detached), so a signal
// sent to the group really reaches them even when the test runner ignores SIGINT.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { PROJECT_ROOT } from './shared.js';

export const BIN = resolve(PROJECT_ROOT, 'dist/bin/ilo-agent.cjs');

export function assertBuilt(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npm run build" (npm test does it first)`);
}

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first line of stdout. */
  firstLine: Promise<string>;
  signal(sig: NodeJS.Signals): void;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin (then closed); without it stdin is /dev/null. */
  stdin?: string | Buffer;
  cwd?: string;
  /** Run as this user and group (needs root). */
  uid?: number;
  gid?: number;
}

/** Children still running; a test file's afterAll can kill them with killLive(). */
const live = new Set<number>();

export function killLive(): void {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

export function runCli(args: string[], options: RunOptions = {}): Running {
  assertBuilt();
  return runProgram(process.execPath, [BIN, ...args], options);
}

/** Any program, spawned as runCli spawns the CLI (its own process group, output collected). */
export function runProgram(command: string, args: string[], options: RunOptions = {}): Running {
  const child = spawn(command, args, {
    detached: true,
    cwd: options.cwd,
    uid: options.uid,
    gid: options.gid,
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const pid = child.pid as number;
  live.add(pid);
  child.on('close', () => live.delete(pid));
  if (options.stdin !== undefined) {
    child.stdin?.on('error', () => undefined); // the child may exit before reading it all
    child.stdin?.end(options.stdin);
  }
  let out = '';
  let err = '';
  let gotLine: (line: string) => void;
  const firstLine = new Promise<string>((r) => (gotLine = r));
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    const nl = out.indexOf('\n');
    if (nl >= 0) gotLine(out.slice(0, nl));
  });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('close', (code, signal) => r({ code, signal })),
  );
  const first = Promise.race([
    firstLine,
    exited.then(() => {
      throw new Error(`exited before printing a line; stderr: ${err}`);
    }),
  ]);
  first.catch(() => undefined); // awaited only by tests that expect a line
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    firstLine: first,
    signal: (sig) => process.kill(-(child.pid as number), sig),
  };
}

export async function runToEnd(args: string[], options: RunOptions = {}) {
  const r = runCli(args, options);
  const { code, signal } = await r.exited;
  return { code, signal, stdout: r.stdout(), stderr: r.stderr() };
}

/** Kills a child still running at the end of a test (its whole process group). */
export async function killIfRunning(running: Running | undefined): Promise<void> {
  if (running && running.child.exitCode === null && running.child.signalCode === null) {
    running.signal('SIGKILL');
    await running.exited;
  }
}
