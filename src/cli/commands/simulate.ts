// `ilo-agent simulate`: a simulated iLO for development, demos and tests. Prints one JSON line
// on stdout when ready ({url, ca, control, chifSocket, chifTcp, vnicUrl, vnicCa, httpUrl}; chifSocket is the
// --chif-socket path or null; chifTcp {address, secret} with --chif-tcp, else null; vnicUrl/vnicCa
// the iLO 7 vNIC listener or null; httpUrl the --http-port listener or null); logs go to stderr.
import { Command, Option } from 'commander';
// Types only: the simulator itself is loaded when this command runs, so that no other command
// pays for loading it.
import type { AppAccountState, InbandLocation, ProfileName, SecurityState } from '../../simulator/index.js';
import { collect, parseChoice, parseDuration, parseUsers, parseWholeNumber } from '../option-parsers.js';
import type { CommandContext } from '../context.js';
import { untilStopped } from '../signals.js';
import { prepareEnvDir } from '../sim-env.js';

interface SimulateFlags {
  host: string;
  port: number;
  profile?: ProfileName;
  maxSessions: number;
  sessionTimeout: number;
  limitStatus: '503' | '403';
  users?: Record<string, string>;
  mockup?: string;
  latencyMs: number;
  loginLatencyMs: number;
  taskMs: number;
  loginFailureDelay: number;
  loginFailuresBeforeDelay: number;
  fault?: string[];
  chifSocket?: string;
  chifTcp?: number;
  securityState: SecurityState;
  inbandLocation: InbandLocation;
  vnic: 'on' | 'off';
  vnicHost: string;
  vnicPort: number;
  appAccount?: AppAccountState;
  contentLength?: boolean;
  resetSeconds: number;
  envDir?: string;
  postSeconds: number;
  httpPort?: number;
}

export function simulateCommand(ctx: CommandContext): Command {
  return new Command('simulate')
    .description('run a simulated iLO (HTTPS Redfish with iLO session semantics) for development and tests')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on; 0 picks a free one', parseWholeNumber(0, 65535), 0)
    .addOption(new Option('--profile <name>', "firmware profile (default: a --mockup's own generation, else ilo6)").choices(['ilo5', 'ilo5-legacy', 'ilo6', 'ilo7']))
    .option('--max-sessions <n>', 'global session cap (iLO publishes none; 10 is unverified)', parseWholeNumber(1, 1000), 10)
    .addOption(new Option('--session-timeout <duration>', 'idle timeout, sliding: 30m, 10s, 1h; 0 = never').argParser(parseDuration).default(30 * 60_000, '30m'))
    .addOption(new Option('--limit-status <status>', 'answer to a session POST at the cap').choices(['503', '403']).default('503'))
    .addOption(new Option('--users <list>', 'accounts as name:password,... (default Administrator:password)').env('ILO_SIM_USERS').argParser(parseUsers))
    .option('--mockup <dir>', 'serve a DMTF-layout mockup folder instead of the built-in tree')
    .option('--latency-ms <ms>', 'latency added to every request', parseWholeNumber(0), 0)
    .option('--login-latency-ms <ms>', 'latency added to every login', parseWholeNumber(0), 0)
    .option('--task-ms <ms>', 'how long an operation the task faults turn into a task runs', parseWholeNumber(0), 2000)
    .addOption(new Option('--login-failure-delay <duration>', 'delay of a refused login after repeated failures').argParser(parseDuration).default(10_000, '10s'))
    .option('--login-failures-before-delay <n>', 'failed logins in a row answered without delay', parseWholeNumber(0), 1)
    .option(
      '--fault <spec>',
      'inject a fault, repeatable: type=status503|status401|status404|drop|truncate|hang|garble|strip-location|rewrite-location[,on=any|login|logout|request][,method=M][,path=/p][,times=N][,stage=before|after][,location=L]',
      collect((spec: string) => spec),
    )
    .option('--chif-socket <path>', 'also serve in-band (CHIF) requests from the CHIF emulator library on this Unix socket')
    .option('--chif-tcp <port>', 'the same on loopback TCP (0 picks a free port), for the emulator\'s Windows build: the ready line gives the address and the secret', parseWholeNumber(0, 65535))
    .addOption(new Option('--security-state <state>', 'iLO security state seen in-band').choices(['production', 'highsecurity', 'fips']).default('production'))
    .addOption(new Option('--vnic <state>', 'iLO 7: the virtual NIC listener (off = disabled in iLO)').choices(['on', 'off']).default('on'))
    .option('--vnic-host <address>', 'iLO 7: address the vNIC listener listens on', '127.0.0.1')
    .option('--vnic-port <port>', 'iLO 7: port of the vNIC listener; 0 picks a free one', parseWholeNumber(0, 65535), 0)
    .addOption(
      new Option('--app-account <state>', "iLO 7: iLOrest's application account (in TPM and iLO, neither, inactive token, or in iLO only); default present")
        .choices(['present', 'absent', 'inactive', 'orphan']),
    )
    .option('--reset-seconds <s>', 'how long an iLO reset (Manager.Reset) takes the service away: connections refused, CHIF exchanges failing', parseWholeNumber(0, 3600), 30)
    .option('--post-seconds <s>', 'how long the host takes through POST after a ComputerSystem.Reset that boots it (staged BIOS settings apply at its end)', parseWholeNumber(0, 3600), 20)
    .option('--http-port <port>', 'also listen for plain HTTP on this port (0 picks a free one), redirecting every request to HTTPS as an iLO does', parseWholeNumber(0, 65535))
    .option('--content-length', 'frame answers with Content-Length instead of chunked transfer coding (iLO 5 and later answer chunked)')
    .option('--env-dir <dir>', 'write what a shell needs (env to source, ca.pem, the CHIF socket) into this new or empty directory; removed at stop')
    .addOption(new Option('--inband-location <form>', 'Location of sessions made in-band: path only, or absolute').choices(['path', 'absolute']).default('path'))
    .action(async (flags: SimulateFlags) => {
      const log = ctx.logger('info');
      // Its normal end is a signal: stop then, and exit 0.
      ctx.lifecycle.signalEndsNormally();
      const { parseFaultSpec, startSimulator } = await import('../../simulator/index.js');
      const faults = (flags.fault ?? []).map(parseFaultSpec);
      const envDir = flags.envDir === undefined ? undefined : prepareEnvDir(flags.envDir);
      const simulator = await startSimulator({
        host: flags.host,
        port: flags.port,
        ...(flags.profile ? { profile: parseChoice(['ilo5', 'ilo5-legacy', 'ilo6', 'ilo7'] as const)(flags.profile) } : {}),
        maxSessions: flags.maxSessions,
        sessionTimeoutMs: flags.sessionTimeout,
        limitStatus: flags.limitStatus === '403' ? 403 : 503,
        users: flags.users,
        mockupDir: flags.mockup,
        latencyMs: flags.latencyMs,
        loginLatencyMs: flags.loginLatencyMs,
        taskMs: flags.taskMs,
        loginFailureDelayMs: flags.loginFailureDelay,
        loginFailuresBeforeDelay: flags.loginFailuresBeforeDelay,
        faults,
        chifSocket: flags.chifSocket ?? envDir?.chifSocket,
        ...(flags.chifTcp !== undefined ? { chifTcp: { port: flags.chifTcp } } : {}),
        securityState: flags.securityState, // commander checked the choice; startSimulator checks again
        inbandLocation: parseChoice(['path', 'absolute'] as const)(flags.inbandLocation),
        vnic: parseChoice(['on', 'off'] as const)(flags.vnic),
        vnicHost: flags.vnicHost,
        vnicPort: flags.vnicPort,
        contentLength: flags.contentLength === true,
        resetSeconds: flags.resetSeconds,
        postSeconds: flags.postSeconds,
        ...(flags.httpPort !== undefined ? { httpPort: flags.httpPort } : {}),
        ...(flags.appAccount ? { appAccount: parseChoice(['present', 'absent', 'inactive', 'orphan'] as const)(flags.appAccount) } : {}),
        logger: log.child({ component: 'simulator' }),
      });
      try {
        envDir?.write(simulator.info, flags.users ? Object.values(flags.users)[0] : 'password');
      } catch (error) {
        await simulator.close();
        envDir?.remove();
        throw error;
      }
      ctx.io.stdout.write(`${JSON.stringify(simulator.info)}\n`);
      const stop = ctx.lifecycle.signal;
      await untilStopped(stop);
      const reason = ctx.lifecycle.reason;
      log.info({ signal: reason?.kind === 'signal' ? reason.signal : undefined }, 'stopping on signal');
      await simulator.close();
      envDir?.remove();
    });
}
