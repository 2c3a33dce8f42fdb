// The agent's side of the guardian: start the process, feed it the session's story over its
// stdin, let it go. Nothing here may delay the work or break it: the guardian is spawned and never
// waited for, it holds neither the event loop nor stdout, and any failure of it is a warning (the
// run goes on, but a SIGKILL would now leave the session): never a throw, never a signal.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger, LevelWithSilent } from 'pino';
import type { SessionObserver } from '../session/index.js';
import { encodeMessage, GUARDIAN_PROTOCOL_VERSION, type AgentMessage, type GuardianTransport } from './protocol.js';

export interface GuardianSpec {
  transport: GuardianTransport;
  credentials: { username: string; password: string } | null;
  /** The agent's time for one request: the guardian's follows it (guardianTimeouts). */
  timeoutMs?: number;
  /** The agent's log level. The guardian writes to the inherited stderr only at info or more verbose. */
  logLevel: LevelWithSilent;
  logger?: Logger;
}

/** A running guardian: the session reports to it; detach() closes the pipe. */
export interface Guardian extends Required<SessionObserver> {
  readonly pid: number | undefined;
  /** Whether it still runs and listens: what the session leaves, it will try to delete. */
  readonly watching: boolean;
  /**
   * Closes the pipe. After released(), the guardian exits at once; otherwise it deletes what the
   * agent told it of. Idempotent; resolves when the pipe is closed (bounded, never rejects).
   */
  detach(): Promise<void>;
}

/** What a run without its guardian loses, said with each way it can fail. */
const UNGUARDED = ' (a SIGKILL or a crash would now leave the session until its idle timeout)';

/**
 * Node flags of the guardian, beyond the agent's. Fewer threads: V8's pool is 4 by default, and a
 * process that cannot make its threads (RLIMIT_NPROC, a cgroup's pids.max) hangs in Node's start-up.
 * No SIGUSR1 debugger from the first instruction on, where Node has the flag (22.14, 23.7 and
 * later); on older ones refuseDebugSignal() in guardian/main.ts covers it once the script runs.
 */
const guardianNodeOptions = (): string[] => ['--v8-pool-size=1', ...(hasDisableSigusr1() ? ['--disable-sigusr1'] : [])];

/** Node 22.14+ and 23.7+ (the guardian runs the agent's node). The version, not allowedNodeEnvironmentFlags: that costs 0.5 ms. */
function hasDisableSigusr1(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 7) || (major === 22 && minor >= 14);
}

/** Levels at which the guardian gets the agent's stderr; below them it runs with none. */
const ATTACHED_LEVELS: ReadonlySet<string> = new Set(['info', 'debug', 'trace']);

/** How to start a guardian process: a program and its arguments (never a secret among them). */
export interface GuardianLaunch {
  command: string;
  args: string[];
}

/** The argument that makes a bundled entry (npm bin, single executable) run as a guardian. */
export const GUARDIAN_ARGUMENT = '__guardian';

let launchOverride: GuardianLaunch | undefined;

/** Set by a bundled entry, whose guardian is itself run with GUARDIAN_ARGUMENT. */
export function setGuardianLaunch(launch: GuardianLaunch): void {
  launchOverride = launch;
}

/** The built entry point (dist/guardian/main.js), also when this module runs from src/ (tests). */
export function guardianEntry(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, 'main.js'), resolve(here, '../../dist/guardian/main.js')];
  return candidates.find((path) => existsSync(path));
}

function guardianLaunch(): GuardianLaunch | undefined {
  if (launchOverride) return launchOverride;
  const entry = guardianEntry();
  return entry ? { command: process.execPath, args: [...guardianExecArgv(), entry] } : undefined;
}

/** The agent's node flags, minus those that would make the guardian do something else or clash. */
export function guardianExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  const takesValue = new Set(['-e', '--eval', '-p', '--print', '--input-type', '-r', '--require', '--import', '--loader', '--experimental-loader']);
  const dropped = /^(-e|-p|--eval|--print|--input-type|--inspect|--debug|--watch|--test|--check|-c|--interactive|-i)/;
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    if (dropped.test(arg)) {
      if (takesValue.has(arg)) i++;
      continue;
    }
    out.push(arg);
    if (takesValue.has(arg) && i + 1 < execArgv.length) out.push(execArgv[++i] as string);
  }
  return out;
}

/**
 * Starts a guardian for one session, or answers undefined when it cannot (a warning: the work goes
 * on without one). Call before the login; pass the result as the session's observer.
 */
export function startGuardian(spec: GuardianSpec): Guardian | undefined {
  const log = spec.logger;
  const launch = guardianLaunch();
  if (!launch) {
    log?.debug('no guardian: its entry point (guardian/main.js) is missing');
    return undefined;
  }
  const attached = ATTACHED_LEVELS.has(spec.logLevel);
  // The environment is inherited (the CHIF emulator's socket, the loader's path), minus a password.
  const env = { ...process.env };
  delete env.ILO_PASSWORD;
  // NODE_OPTIONS reaches every form of the guardian (node script, bundle, single executable).
  env.NODE_OPTIONS = [process.env.NODE_OPTIONS, ...guardianNodeOptions()].filter(Boolean).join(' ');
  let child: ChildProcess;
  try {
    child = spawn(launch.command, launch.args, {
      // Its own process group (and session): a signal to the agent's group does not reach it.
      detached: true,
      // stdin: the pipe; never stdout (it carries results, and a reader would wait for the guardian).
      stdio: ['pipe', 'ignore', attached ? 'inherit' : 'ignore'],
      env,
      windowsHide: true,
    });
  } catch (error) {
    log?.warn(`the guardian could not be started (${(error as Error).message}); continuing without it${UNGUARDED}`);
    return undefined;
  }
  let usable = true;
  let detached: Promise<void> | undefined;
  const fail = (what: string) => (error: Error) => {
    if (!usable) return;
    usable = false;
    // The message only: a stack says nothing to the operator (ILO_AGENT_DEBUG is for crashes).
    log?.warn(`the guardian ${what} (${error.message}); continuing without it${UNGUARDED}`);
  };
  // First, before anything can emit it: an 'error' without a listener would be an uncaught exception.
  child.on('error', fail('could not be started'));
  const pipe = child.stdin;
  // EMFILE/ENFILE: node gives up before the stdio and the pid are set, and 'error' follows. Nothing
  // was started, so there is nothing to stop: kill() would signal an unset pid (0: our own group).
  if (!pipe || child.pid === undefined) return undefined;
  pipe.on('error', fail('pipe failed'));
  child.on('exit', (code, signal) => {
    if (usable && !detached) log?.warn({ code, signal }, `the guardian exited early; continuing without it${UNGUARDED}`);
    usable = false;
  });
  // Neither the process nor its pipe keeps the agent alive.
  child.unref();
  (pipe as unknown as { unref?: () => void }).unref?.();

  const send = (message: AgentMessage) => {
    if (!usable || detached) return;
    try {
      // Small writes to an empty pipe reach the kernel before write() returns: a kill right after
      // still leaves the line for the guardian to read.
      pipe.write(encodeMessage(message));
    } catch (error) {
      fail('pipe failed')(error as Error);
    }
  };
  const detach = (): Promise<void> => {
    detached ??= new Promise<void>((done) => {
      const timer = setTimeout(done, 500);
      timer.unref();
      try {
        pipe.end(() => {
          clearTimeout(timer);
          done();
        });
      } catch {
        clearTimeout(timer);
        done();
      }
    });
    return detached;
  };

  send({
    type: 'hello',
    version: GUARDIAN_PROTOCOL_VERSION,
    agentPid: process.pid,
    logLevel: attached ? spec.logLevel : 'silent',
    transport: spec.transport,
    credentials: spec.credentials,
    ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
  });
  log?.debug({ guardianPid: child.pid }, 'guardian started');
  // PID 1 of a PID namespace (a container's main process): the kernel kills the whole namespace
  // with it, guardian included. SIGTERM (docker stop) is handled by the agent itself.
  if (process.pid === 1) log?.debug('running as PID 1 of a PID namespace: a SIGKILL of it (docker kill, the end of a stop\'s grace period) kills the guardian too');

  return {
    pid: child.pid,
    get watching() {
      return usable;
    },
    loginStarted: ({ user, at }) => send({ type: 'login', user, at }),
    loginRefused: () => send({ type: 'refused' }),
    sessionCreated: ({ path, token }) => send({ type: 'session', path, token }),
    released: () => {
      send({ type: 'released' });
      // A released guardian has nothing left to do: it is stopped rather than trusted to exit. One
      // still in Node's start-up (slow, or hung where threads cannot be made: RLIMIT_NPROC) would
      // otherwise keep the agent's stderr and inherited descriptors open as long as it lives.
      void detach().then(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
    },
    detach,
  };
}
