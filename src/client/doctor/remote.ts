// doctor over HTTPS: name, route, certificate, service, login, session table, in the order a run
// meets them. Each layer is looked at on its own, so a failure names the layer and its cure.
import { lookup } from 'node:dns/promises';
import { isIP, Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { hpeManager, isJsonObject, parseJsonBody, SERVICE_ROOT } from '../../redfish/index.js';
import { openHttpsTransport, parseIloUrl, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_TIMEOUT_MS } from '../../transport/index.js';
import { httpsOptions, type ConnectOptions } from '../open-session.js';
import type { Checklist } from './checks.js';
import { checkLogin } from './login.js';
import { timeoutSignal } from '../../timeout-signal.js';

/** A clock further off than this makes certificates and session times lie. */
const CLOCK_SKEW_WARN_MS = 60_000;

export async function remoteChecks(options: ConnectOptions, list: Checklist): Promise<void> {
  const url = parseIloUrl(options.url as string);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const connectMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;

  // 1. The name.
  let address = host;
  if (isIP(host) === 0) {
    try {
      const found = await lookup(host, { all: true });
      address = found[0]?.address ?? host;
      list.ok('dns', `${host} → ${found.map((a) => a.address).join(', ')}`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'failed';
      list.fail('dns', `cannot resolve ${host} (${code})`, 'check the name in --url, or give the iLO\'s address', 'E_CONNECT');
      return;
    }
  } else {
    list.skip('dns', `${host} is an address`);
  }

  // 2. The route.
  const started = Date.now();
  const reached = await new Promise<string | undefined>((resolve) => {
    const socket = new Socket();
    const done = (why?: string) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(connectMs, () => done(`no answer within ${connectMs / 1000} s (a firewall dropping packets, or a wrong address)`));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    socket.connect(port, address, () => done());
  });
  if (reached !== undefined) {
    list.fail('tcp', `cannot connect to ${address}:${port}: ${reached}`, 'check the address and port, that the iLO is on the network (its dedicated or shared NIC), and firewalls between', 'E_CONNECT');
    return;
  }
  list.ok('tcp', `${address}:${port} accepts connections (${Date.now() - started} ms)`);

  // 3. The certificate.
  const tls = await inspectCertificate(address, host, port, options, connectMs);
  if (typeof tls === 'string') {
    list.fail('tls', `no TLS handshake with ${address}:${port}: ${tls}`, 'is this an iLO\'s HTTPS port? (iLO answers TLS on 443)', 'E_TLS');
    return;
  }
  const shown = describeCertificate(tls.cert);
  if (tls.problem === undefined) list.ok('tls', `${tls.protocol}, verified (${options.ca ? '--ca-cert' : 'the system\'s CAs'}); ${shown}`);
  else if (options.insecure) list.warn('tls', `not verified (--insecure): ${tls.problem}; ${shown}`, 'give the CA that signed it with --ca-cert FILE and drop --insecure');
  else {
    list.fail('tls', `${tls.problem}; ${shown}`, tls.fix, 'E_TLS');
    return;
  }

  // 4. The service, anonymously (iLO serves the service root without credentials).
  const transport = openHttpsTransport(httpsOptions(options));
  try {
    const root = await transport.request({ method: 'GET', path: SERVICE_ROOT, signal: timeoutSignal(options.timeoutMs ?? DEFAULT_TIMEOUT_MS) });
    const body = parseObject(root.body);
    const manager = firstManager(body);
    if (root.status !== 200 || !body) {
      list.fail('service', `GET /redfish/v1/ answered ${root.status}${body ? '' : ' without JSON'}: not a Redfish service?`, 'check that --url names the iLO, not another web server', 'E_PROTOCOL');
      return;
    }
    list.ok('service', [body.Product ?? 'Redfish service', manager.type, manager.firmware && `firmware ${manager.firmware}`].filter(Boolean).join(', '));
    const date = Date.parse(root.headers.date ?? '');
    if (Number.isFinite(date)) {
      const skew = date - Date.now();
      // The Date header has whole seconds: within 2 s is agreement.
      const words = Math.abs(skew) < 2_000 ? 'the iLO\'s clock agrees with this machine\'s (within 2 s)' : `the iLO's clock is ${Math.abs(Math.round(skew / 1000))} s ${skew >= 0 ? 'ahead of' : 'behind'} this machine's`;
      if (Math.abs(skew) > CLOCK_SKEW_WARN_MS) list.warn('clock', words, 'set both clocks by NTP (iLO: Network > SNTP): certificate validity and session times are read against them');
      else list.ok('clock', words);
    }
  } catch (error) {
    list.fail('service', error, undefined, 'E_CONNECT');
    return;
  } finally {
    await transport.close();
  }

  // 5. The login and the session table.
  await checkLogin(options, list);
}

interface Inspected {
  cert: PeerCertificate;
  protocol: string;
  problem?: string;
  fix?: string;
}

/** One handshake that accepts anything, to see the certificate; then judged as a run would. */
function inspectCertificate(address: string, host: string, port: number, options: ConnectOptions, timeoutMs: number): Promise<Inspected | string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: address, port, servername: isIP(host) ? undefined : host, ca: options.ca, rejectUnauthorized: false, timeout: timeoutMs });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`no handshake within ${timeoutMs / 1000} s`);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const protocol = socket.getProtocol() ?? 'TLS';
      const authorizationError = socket.authorizationError as unknown as string | Error | null;
      socket.destroy();
      const raw = authorizationError instanceof Error ? ((authorizationError as NodeJS.ErrnoException).code ?? authorizationError.message) : authorizationError;
      // A chain that verifies but names another host: the name check below says it better.
      const code = raw === 'ERR_TLS_CERT_ALTNAME_INVALID' ? null : raw;
      const nameError = checkServerIdentity(host, cert);
      const until = Date.parse(cert.valid_to);
      const from = Date.parse(cert.valid_from);
      if (code === 'CERT_HAS_EXPIRED' || until < Date.now()) {
        resolve({ cert, protocol, problem: `the certificate expired on ${new Date(until).toISOString()} (by this machine's clock)`, fix: 'renew the iLO\'s certificate, or set this machine\'s clock right' });
      } else if (code === 'CERT_NOT_YET_VALID' || from > Date.now()) {
        resolve({ cert, protocol, problem: `the certificate is valid only from ${new Date(from).toISOString()} (by this machine's clock)`, fix: 'set this machine\'s clock right (or the iLO\'s, then make a new certificate)' });
      } else if (code) {
        const issuer = cert.issuer?.CN ?? 'unknown';
        resolve({ cert, protocol, problem: `not signed by a CA this run trusts (${code})`, fix: `give the CA that signed it (issuer "${issuer}") with --ca-cert FILE; check the fingerprint above against the iLO's own page (Security > SSL Certificate) before trusting it` });
      } else if (nameError) {
        resolve({ cert, protocol, problem: `the certificate is not for "${host}"`, fix: `reach the iLO by a name the certificate carries (${cert.subjectaltname || 'it names none'}) in --url, or give the iLO a certificate for ${host}` });
      } else {
        resolve({ cert, protocol });
      }
    });
  });
}

function describeCertificate(cert: PeerCertificate): string {
  const subject = cert.subject?.CN ?? '?';
  const names = cert.subjectaltname ? `; names ${cert.subjectaltname}` : '';
  return `subject "${subject}"${names}; issuer "${cert.issuer?.CN ?? '?'}"; valid until ${new Date(Date.parse(cert.valid_to)).toISOString().slice(0, 10)}; sha256:${(cert.fingerprint256 ?? '').replace(/:/g, '').toLowerCase()}`;
}

export function parseObject(body: Uint8Array): Record<string, unknown> | undefined {
  const value = parseJsonBody(body);
  return isJsonObject(value) ? value : undefined;
}

/** The service root's Oem.Hpe.Manager[0]: iLO's generation and firmware. */
export function firstManager(root: Record<string, unknown> | undefined): { type?: string; firmware?: string } {
  const manager = hpeManager(root);
  return { type: manager?.ManagerType as string | undefined, firmware: manager?.ManagerFirmwareVersion as string | undefined };
}
