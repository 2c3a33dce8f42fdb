// From the global flags and ILO_* environment to a connected client. Secrets are read here and
// go straight into the session's memory: never into logs, messages, argv of children or disk.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { openAgentClient, type AgentExpectation } from '../agent/index.js';
import { protectSecrets } from '../binding/index.js';
import { withSession, type ConnectedClient, type ConnectOptions, type IloClient } from '../client/index.js';
import { InvalidInputError, UsageError } from '../errors.js';
import type { Lifecycle } from './lifecycle.js';
import { decodePasswordText } from './password-text.js';
import { canPrompt, promptPassword } from './password-prompt.js';

export interface GlobalFlags {
  url?: string;
  username?: string;
  password?: string;
  passwordFile?: string;
  passwordStdin?: boolean;
  caCert?: string;
  insecure?: boolean;
  chifLib?: string;
  inband?: 'auto' | 'chif' | 'vnic';
  vnicUrl?: string;
  /** false with --no-app-account. */
  appAccount?: boolean;
  pin?: string;
  tlsServername?: string;
  agent?: string;
  auth?: 'session' | 'basic';
  timeout: number;
  shutdownTimeout: number;
  logLevel?: string;
  /** false with --no-guardian. */
  guardian?: boolean;
  output?: 'json' | 'pretty';
}

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface Connector {
  /**
   * Opens a session from the flags, runs `work`, deletes the session whatever happens. With
   * --agent / ILO_AGENT_SOCKET the work goes through a running `ilo-agent serve` instead.
   * `tuning`: what the command itself knows (its concurrency), over the flags' options.
   */
  withClient<T>(command: Command, work: (client: ConnectedClient) => Promise<T>, tuning?: Pick<ConnectOptions, 'maxConnections'>): Promise<T>;
  /** The same, always with a session of its own (what `serve` holds). */
  withOwnSession<T>(command: Command, work: (client: IloClient) => Promise<T>): Promise<T>;
  /** Reads all of stdin once (for a body or a password); a second reader is a usage error. */
  readStdin(purpose: string): Promise<string>;
  /** What a run would connect with (checked and read: the password, the CA), for `doctor`. */
  connectOptions(command: Command): Promise<ConnectOptions>;
  /**
   * The options of a command about this host's own iLO and secrets (`appaccount`): in-band only
   * (--url / ILO_URL and --agent refused), and a password never from argv (-p refused).
   */
  localOptions(command: Command, what: string): Promise<ConnectOptions>;
}

export function createConnector(deps: { io: Io; env: NodeJS.ProcessEnv; logger: () => Logger; lifecycle: Lifecycle }): Connector {
  let stdinTakenBy: string | undefined;
  const readStdinBytes = async (purpose: string): Promise<Buffer> => {
    if (stdinTakenBy) throw new UsageError(`standard input can carry only one thing: it already carries ${stdinTakenBy}`);
    stdinTakenBy = purpose;
    const chunks: Buffer[] = [];
    for await (const chunk of deps.io.stdin as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  };
  const readStdin = async (purpose: string): Promise<string> => (await readStdinBytes(purpose)).toString('utf8');

  const connectOptions = async (flags: GlobalFlags): Promise<ConnectOptions> => {
    // No address: the local iLO, in-band. Never a fallback from one to the other.
    const url = flags.url ?? deps.env.ILO_URL;
    const username = flags.username ?? deps.env.ILO_USERNAME;
    if (url && (flags.inband === 'chif' || flags.inband === 'vnic')) throw new UsageError(`--inband ${flags.inband} chooses an in-band path: it does not go with --url / ILO_URL`);
    if (url && (flags.pin || flags.tlsServername || flags.vnicUrl)) throw new UsageError('--pin, --tls-servername and --vnic-url are for the vNIC (in-band, without --url)');
    if (url && !username) throw new UsageError('a user name is required over HTTPS: --username NAME or ILO_USERNAME');
    const passwordGiven = flags.passwordStdin || flags.passwordFile !== undefined || flags.password !== undefined;
    if (!username && passwordGiven) throw new UsageError('a password was given without a user name (--username)');
    // In-band in the production state needs no credentials; when a user is named, a password is too.
    const password = username ? await readPassword(flags, username) : undefined;
    // From here the process holds secrets (the password, soon a token): out of environ, no core
    // files. Not awaited: its costly part runs while the login is on the wire.
    void protectSecrets().then(({ failed }) => {
      if (failed.length > 0) deps.logger().debug({ failed }, 'some protections of the secrets in memory did not hold');
    });
    let ca: string | undefined;
    if (flags.caCert) {
      try {
        ca = readFileSync(flags.caCert, 'utf8');
      } catch (error) {
        throw new InvalidInputError(`cannot read --ca-cert ${flags.caCert}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new InvalidInputError(`--ca-cert ${flags.caCert} holds no PEM certificate`);
    }
    if (flags.insecure) {
      deps.io.stderr.write('ilo-agent: warning: --insecure: the iLO\'s certificate is not verified; anyone on the path can read the credentials\n');
    }
    deps.lifecycle.shutdownTimeoutMs = flags.shutdownTimeout;
    return {
      url: url || undefined,
      chifLibrary: flags.chifLib ?? (deps.env.ILO_CHIF_LIB || undefined),
      inband: flags.inband,
      vnicUrl: flags.vnicUrl ?? (deps.env.ILO_VNIC_URL || undefined),
      noAppAccount: flags.appAccount === false,
      pin: flags.pin,
      tlsServername: flags.tlsServername,
      username: username || undefined,
      password,
      auth: flags.auth,
      ca,
      insecure: flags.insecure ?? false,
      timeoutMs: flags.timeout,
      connectTimeoutMs: Math.min(flags.timeout, 10_000),
      closeTimeoutMs: flags.shutdownTimeout,
      signal: deps.lifecycle.signal,
      closeSignal: deps.lifecycle.closeSignal,
      // the process leaves right after: a DELETE cut short gets one blocking retry (in-band)
      blockingCloseFallback: true,
      onOpen: (client) => deps.lifecycle.track(client),
      logger: deps.logger(),
      // Deletes the session if this process dies without doing so (SIGKILL, OOM, a native crash).
      guardian: flags.guardian !== false,
    };
  };

  const readPassword = async (flags: GlobalFlags, username: string): Promise<string> => {
    const explicit = [flags.passwordStdin && '--password-stdin', flags.passwordFile && '--password-file', flags.password !== undefined && '--password'].filter(Boolean);
    if (explicit.length > 1) throw new UsageError(`give the password one way only (got ${explicit.join(' and ')})`);
    const fromEnv = deps.env.ILO_PASSWORD;
    // Once read, the password lives in the session only: no child process inherits it.
    delete deps.env.ILO_PASSWORD;
    let password: string | undefined;
    if (flags.passwordStdin) {
      password = readPasswordBytes(await readStdinBytes('the password (--password-stdin)'), 'the password on standard input (--password-stdin)');
    } else if (flags.passwordFile) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(flags.passwordFile);
      } catch (error) {
        throw new InvalidInputError(`cannot read --password-file ${flags.passwordFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      password = readPasswordBytes(bytes, `--password-file ${flags.passwordFile}`);
    } else if (flags.password !== undefined) {
      deps.io.stderr.write('ilo-agent: warning: a password on the command line is visible to other users of this machine; prefer ILO_PASSWORD, --password-file or --password-stdin\n');
      password = flags.password;
    } else if (fromEnv) {
      password = fromEnv;
    } else if (canPrompt(deps.io)) {
      // A person at a terminal: asked, without echo (stdin and stderr are both the terminal).
      password = await promptPassword(deps.io, `Password for ${username}: `, deps.lifecycle.signal);
    }
    if (password === undefined || password === '') {
      throw new UsageError('no password: set ILO_PASSWORD, or use --password-file FILE or --password-stdin (or run on a terminal to be asked)');
    }
    return password;
  };

  return {
    readStdin,
    async connectOptions(command) {
      const flags = globalFlags(command, deps.env);
      if (flags.agent ?? deps.env.ILO_AGENT_SOCKET) throw new UsageError('doctor checks the way to the iLO itself: run it without --agent / ILO_AGENT_SOCKET');
      return connectOptions(flags);
    },
    async withClient(command, work, tuning) {
      const flags = globalFlags(command, deps.env);
      const agent = flags.agent ?? (deps.env.ILO_AGENT_SOCKET || undefined);
      if (!agent) return withSession({ ...(await connectOptions(flags)), ...tuning }, work);
      if (flags.auth === 'basic') throw new UsageError('--auth basic does not go with --agent / ILO_AGENT_SOCKET: the agent uses its own session');
      // Never a silent login of our own when the agent is asked for and not there (exit 5).
      const client = await openAgentClient(agent, flags.timeout, deps.logger(), agentExpectation(flags, deps.env));
      try {
        return await work(client);
      } finally {
        await client.close();
      }
    },
    async localOptions(command, what) {
      const flags = globalFlags(command, deps.env);
      if (flags.password !== undefined) {
        throw new UsageError(`${what} takes no password on the command line (-p/--password: other users see argv): use ILO_PASSWORD, --password-file FILE or --password-stdin`);
      }
      if (flags.url || deps.env.ILO_URL) {
        throw new UsageError(`${what} works on this host's own iLO only (its TPM operations are local): --url / ILO_URL do not go with it`);
      }
      if (flags.agent) throw new UsageError(`${what} opens its own session: --agent does not go with it`);
      return connectOptions(flags);
    },
    async withOwnSession(command, work) {
      const flags = globalFlags(command, deps.env);
      // What holds a session for many runs must hold a real one.
      if (flags.auth === 'basic') throw new UsageError('serve holds one session for many runs: --auth basic is for single runs');
      return withSession(await connectOptions(flags), work);
    },
  };
}

/**
 * The flags, where an exported ILO_PIN / ILO_TLS_SERVERNAME (trust settings of this host's vNIC)
 * yields to a --url / ILO_URL: they are ambient defaults for in-band, not a request. Given on the
 * command line with a URL they are still refused.
 */
function globalFlags(command: Command, env: NodeJS.ProcessEnv): GlobalFlags {
  const flags = command.optsWithGlobals<GlobalFlags>();
  if (!(flags.url ?? env.ILO_URL)) return flags;
  let root = command;
  while (root.parent) root = root.parent;
  const fromEnv = (key: 'pin' | 'tlsServername') => root.getOptionValueSource(key) === 'env';
  return { ...flags, pin: fromEnv('pin') ? undefined : flags.pin, tlsServername: fromEnv('tlsServername') ? undefined : flags.tlsServername };
}

/**
 * What the agent must match. `--agent` with `--url` or `-u` on the same command line is a
 * contradiction, refused outright. An exported ILO_AGENT_SOCKET with an explicit `--url` (or any
 * ILO_URL) must serve that iLO, and with an explicit `-u` must be logged in as that user; an
 * exported ILO_USERNAME is a login default (serve's own), not checked.
 */
function agentExpectation(flags: GlobalFlags, env: NodeJS.ProcessEnv): AgentExpectation & { agentFrom: string } {
  if (flags.agent !== undefined) {
    const both = [flags.url !== undefined && '--url', flags.username !== undefined && '--username (-u)'].filter(Boolean);
    if (both.length > 0) {
      throw new UsageError(`--agent and ${both.join(' and ')} do not go together: the agent's session decides which iLO and which user; drop --agent to log in yourself, or drop ${both.join(' and ')} to use the agent`);
    }
  }
  const url = flags.url !== undefined ? { value: flags.url, from: '--url' } : env.ILO_URL ? { value: env.ILO_URL, from: 'ILO_URL' } : undefined;
  const username = flags.username !== undefined ? { value: flags.username, from: '--username' } : undefined;
  return { agentFrom: flags.agent !== undefined ? '--agent' : 'ILO_AGENT_SOCKET', url, username };
}

/** The password in `bytes` (then wiped: the string is the one copy kept). */
function readPasswordBytes(bytes: Buffer, what: string): string {
  try {
    return firstLine(decodePasswordText(bytes, what));
  } finally {
    bytes.fill(0);
  }
}

/** A password is one line: what follows the first line break (a note, a second line) is not part of it. */
function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? '';
}
