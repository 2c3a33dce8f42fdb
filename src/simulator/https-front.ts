// The simulator's HTTPS listener: reads each request whole, hands it to the control view or the
// Redfish service, and writes the answer, corrupting or holding it when a fault says so.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { InvalidInputError } from '../errors.js';
import type { FaultController } from './faults.js';
import type { SimRequest, SimResponse } from './redfish-service.js';
import type { SessionTransport } from './sessions.js';

/** Larger bodies are refused with 413 before they reach the service. */
export const MAX_REQUEST_BODY = 1024 * 1024;

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
}

export interface HttpsFront {
  readonly url: string;
  /** Gated fronts only: stop accepting (connects are refused) or accept again on the same port. */
  setListening(on: boolean): Promise<void>;
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
      // iLO writes its own address into Location, whatever name the client used (reference §2.2).
      origin,
    };
    const response = (await options.control(request)) ?? (await options.handle(request));
    await write(res, response);
  }

  async function write(res: ServerResponse, response: SimResponse): Promise<void> {
    const { fault } = response;
    if (fault?.type === 'hang') {
      try {
        await options.faults.hold();
      } catch {
        res.destroy();
        return;
      }
    }
    res.writeHead(response.status, response.headers);
    if (fault?.type === 'drop') {
      res.flushHeaders();
      res.socket?.write('', () => res.destroy());
    } else if (fault?.type === 'truncate') {
      res.write(response.body.subarray(0, Math.floor(response.body.length / 2)), () => res.destroy());
    } else {
      res.end(response.body);
    }
  }

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
  origin = `https://${host}:${address.port}`;
  let closed = false;

  return {
    url: origin,
    async setListening(on: boolean) {
      if (!gate) throw new Error('setListening needs a gated front');
      if (closed || on === listener.listening) return;
      if (on) await listen(address.port);
      else {
        // A link that goes down takes its connections with it.
        const stopped = new Promise<void>((resolve) => listener.close(() => resolve()));
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
