// The simulator's HTTPS listener: reads each request whole, hands it to the control view or the
// Redfish service, and writes the answer, corrupting or holding it when a fault says so.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { InvalidInputError } from '../errors.js';
import type { FaultController } from './faults.js';
import { CHUNK_BYTES, MAX_REQUEST_BODY } from './limits.js';
import type { SimRequest, SimResponse } from './redfish-service.js';
import type { SessionTransport } from './sessions.js';

export interface HttpsFrontOptions {
  host: string;
  port: number;
  cert: string;
  key: string;
  faults: FaultController;
  log: Logger;
  /** Answers `/__sim/*` requests that carry the control token, else undefined. */
  control(request: SimRequest): Promise<SimResponse | undefined>;
  handle(request: SimRequest): Promise<SimResponse>;
  /** What requests say they came over; default 'https'. */
  transport?: SessionTransport;
  /**
   * With a gate, TCP is accepted by a plain listener that hands each connection to TLS only
   * when the gate says 'pass'; 'hold' keeps it open and silent (a peer that never answers);
   * 'garbage' answers bytes that are not TLS and closes (a failed handshake); 'refuse' speaks
   * TLS but accepts only TLS 1.0, which clients no longer offer: the ClientHello is refused with
   * a protocol_version alert (a handshake failure as a server stricter than the client sees it).
   * It also makes {@link HttpsFront.setListening} available.
   */
  gate?: () => 'pass' | 'hold' | 'garbage' | 'refuse';
  /** Answers framed with Content-Length instead of chunked transfer coding (the default, as iLO). */
  contentLength?: boolean;
  /** The answer to a request whose method Node's parser does not know (iLO answers 405). */
  unknownMethod?: () => SimResponse;
}

export interface HttpsFront {
  readonly url: string;
  /**
   * Gated fronts only: stop accepting (connects are refused; open connections are cut, after
   * `graceMs` so that answers in flight get out) or accept again on the same port.
   */
  setListening(on: boolean, graceMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startHttpsFront(options: HttpsFrontOptions): Promise<HttpsFront> {
  let origin = '';
  const server: Server = createServer({ cert: options.cert, key: options.key, keepAliveTimeout: 30_000 }, (req, res) => {
    void serve(req, res).catch((error: unknown) => {
      options.log.error({ err: error }, 'simulator failed to answer');
      res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_REQUEST_BODY) {
        res.writeHead(413, { 'Content-Length': '0', Connection: 'close' }).end();
        return;
      }
      chunks.push(chunk);
    }
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const request: SimRequest = {
      method: req.method ?? 'GET',
      target: req.url ?? '/',
      headers,
      body: Buffer.concat(chunks),
      transport: options.transport ?? 'https',
      remoteAddress: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
      // iLO writes its own address into Location, whatever name the client used (docs/reference/ilo-sessions.md §2.2).
      origin,
    };
    const response = (await options.control(request)) ?? (await options.handle(request));
    await write(res, response, request.method.toUpperCase() === 'HEAD');
  }

  async function write(res: ServerResponse, response: SimResponse, head: boolean): Promise<void> {
    const { fault } = response;
    if (fault?.type === 'hang') {
      try {
        await options.faults.hold();
      } catch {
        res.destroy();
        return;
      }
    }
    const headers = { ...response.headers };
    // iLO 5 and later answer with chunked transfer coding; an empty body keeps Content-Length: 0.
    // A HEAD answer is framed as its GET would be.
    const chunked = !options.contentLength && (response.body.length > 0 || (head && response.headers['Content-Length'] !== '0'));
    if (chunked) {
      delete headers['Content-Length'];
      headers['Transfer-Encoding'] = 'chunked';
    }
    res.writeHead(response.status, headers);
    if (fault?.type === 'drop') {
      res.flushHeaders();
      res.socket?.write('', () => res.destroy());
    } else if (fault?.type === 'truncate') {
      res.write(response.body.subarray(0, Math.floor(response.body.length / 2)), () => res.destroy());
    } else if (chunked) {
      // Several chunks for a sizeable body, so that a client's chunk parser is exercised.
      for (let at = 0; at < response.body.length; at += CHUNK_BYTES) res.write(response.body.subarray(at, at + CHUNK_BYTES));
      res.end();
    } else {
      res.end(response.body);
    }
  }

  // Node refuses a method it does not know with its own 400 before any handler runs; iLO
  // answers 405 (DMTF: unsupported methods get 405 or 501).
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const answer = error.code === 'HPE_INVALID_METHOD' && socket.writable ? options.unknownMethod?.() : undefined;
    if (!answer) {
      if (socket.writable && error.code !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
      return;
    }
    const head = [`HTTP/1.1 ${answer.status} Method Not Allowed`, 'Connection: close'];
    for (const [name, value] of Object.entries(answer.headers)) if (name.toLowerCase() !== 'content-length') head.push(`${name}: ${value}`);
    head.push(`Content-Length: ${answer.body.length}`);
    socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), answer.body]));
  });

  // Gated: TCP lands on a plain listener; TLS sees only the connections the gate passes.
  const gate = options.gate;
  const raw = new Set<Socket>();
  let refusing: SecureContext | undefined;
  const listener: Server | NetServer = gate
    ? createNetServer((socket) => {
        raw.add(socket);
        socket.on('close', () => raw.delete(socket));
        socket.on('error', () => socket.destroy());
        const verdict = gate();
        if (verdict === 'pass') server.emit('connection', socket);
        else if (verdict === 'garbage') socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
        else if (verdict === 'refuse') {
          refusing ??= createSecureContext({ cert: options.cert, key: options.key, minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' });
          const tls = new TLSSocket(socket, { isServer: true, secureContext: refusing });
          tls.on('error', () => tls.destroy());
        }
      })
    : server;

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      listener.once('error', (error: NodeJS.ErrnoException) =>
        reject(new InvalidInputError(`cannot listen on ${options.host}:${port}: ${error.code ?? error.message}`, { cause: error })),
      );
      listener.listen(port, options.host, () => {
        listener.removeAllListeners('error');
        resolve();
      });
    });
  await listen(options.port);
  const address = listener.address() as AddressInfo;
  // A wildcard listener is reached on loopback; the URL names an address a client can dial.
  const ip = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  const host = ip.includes(':') ? `[${ip}]` : ip;
  // As iLO writes it: no port when it is HTTPS's own (an iLO on 443 sends none in Location).
  origin = address.port === 443 ? `https://${host}` : `https://${host}:${address.port}`;
  let closed = false;

  return {
    url: origin,
    async setListening(on: boolean, graceMs = 0) {
      if (!gate) throw new Error('setListening needs a gated front');
      if (closed || on === listener.listening) return;
      if (on) await listen(address.port);
      else {
        // A link that goes down takes its connections with it.
        const stopped = new Promise<void>((resolve) => listener.close(() => resolve()));
        if (graceMs > 0) await new Promise((resolve) => setTimeout(resolve, graceMs));
        for (const socket of raw) socket.destroy();
        await stopped;
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        options.faults.abortHeld();
        let waiting = gate ? 2 : 1;
        const done = () => --waiting === 0 && resolve();
        if (gate) {
          if (listener.listening) listener.close(() => done());
          else done();
          for (const socket of raw) socket.destroy();
        }
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
