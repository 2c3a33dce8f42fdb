// HTTPS transport rules around a kept-alive connection the iLO closed: Node's advice is to retry once on a
// fresh socket, which is only safe for idempotent methods (a POST may have been done). A TLS server of our
// own answers the first request of each connection and drops the connection at the next one.
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectError } from '../../src/errors.js';
import { makeSelfSignedCertificate } from '../../src/simulator/certificate.js';
import { openHttpsTransport, type Transport } from '../../src/transport/index.js';
import { rejectionOf } from '../helpers/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Answers the first request on each connection (keep-alive), then drops the connection at the next one. */
async function dropsSecondRequest() {
  const { cert, key } = makeSelfSignedCertificate();
  const seen: string[] = [];
  let connections = 0;
  const server = createTlsServer({ cert, key }, (socket) => {
    const connection = ++connections;
    let answered = false;
    socket.on('error', () => undefined);
    socket.on('data', (data: Buffer) => {
      const line = data.toString('latin1').split('\r\n')[0] ?? '';
      if (/^[A-Z]+ /.test(line)) seen.push(`${connection}: ${line}`);
      if (answered) {
        socket.destroy();
        return;
      }
      answered = true;
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const t: Transport = openHttpsTransport({ url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, ca: cert });
  cleanups.unshift(() => t.close());
  return { transport: t, seen };
}

describe('a kept-alive connection the iLO closed', () => {
  it('a GET is sent again once, on a fresh connection, and answered', async () => {
    const { transport, seen } = await dropsSecondRequest();
    expect((await transport.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(200);
    expect((await transport.request({ method: 'GET', path: '/redfish/v1/Systems/1' })).status).toBe(200);
    expect(seen).toEqual(['1: GET /redfish/v1/ HTTP/1.1', '1: GET /redfish/v1/Systems/1 HTTP/1.1', '2: GET /redfish/v1/Systems/1 HTTP/1.1']);
  });

  it('a POST is not sent again: a ConnectError saying the iLO closed the connection', async () => {
    const { transport, seen } = await dropsSecondRequest();
    expect((await transport.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(200);
    const error = await rejectionOf(transport.request({ method: 'POST', path: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', body: Buffer.from('{}') }));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.code).toBe('E_CONNECT');
    expect(error.message).toMatch(/^POST \/redfish\/v1\/Systems\/1\/Actions\/ComputerSystem\.Reset: the iLO closed the connection \((ECONNRESET|EPIPE)\)$/);
    expect(seen.filter((s) => s.includes('POST'))).toHaveLength(1);
  });
});
