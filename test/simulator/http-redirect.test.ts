// The optional plain-HTTP listener: every request is a 301 to the same path over HTTPS, under the
// name the client used; nothing is served over plain HTTP.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

function plain(url: string, path: string, options: { method?: string; host?: string; body?: string } = {}) {
  return new Promise<{ status: number; location: string | undefined; body: string }>((resolve, reject) => {
    const req = request(new URL(path, url), { method: options.method ?? 'GET', headers: options.host ? { Host: options.host } : {}, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('plain HTTP (httpPort)', () => {
  it('redirects every method and path to HTTPS, keeping path and query, under the Host the client used', async () => {
    sim = await startSimulator({ httpPort: 0, loginFailureDelayMs: 0 });
    const httpUrl = sim.info.httpUrl as string;
    expect(httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const httpsPort = new URL(sim.url).port;
    const get = await plain(httpUrl, '/redfish/v1/Systems/1?$select=Id');
    expect(get).toEqual({ status: 301, location: `https://127.0.0.1:${httpsPort}/redfish/v1/Systems/1?$select=Id`, body: '' });
    const post = await plain(httpUrl, '/redfish/v1/SessionService/Sessions', { method: 'POST', body: '{"UserName":"Administrator","Password":"password"}' });
    expect(post.status).toBe(301);
    expect(sim.state().counters).toEqual({ requests: 0, logins: 0 }); // nothing reached the service
    expect(sim.sessions()).toEqual([]);
    const named = await plain(httpUrl, '/', { host: 'ilo.example:8080' });
    expect(named.location).toBe(`https://ilo.example:${httpsPort}/`);
  });

  it('is off unless asked for', async () => {
    sim = await startSimulator({ loginFailureDelayMs: 0 });
    expect(sim.info.httpUrl).toBeNull();
  });

  it('a port it cannot listen on is a clear error', async () => {
    const first = await startSimulator({ httpPort: 0, loginFailureDelayMs: 0 });
    try {
      const port = Number(new URL(first.info.httpUrl as string).port);
      await expect(startSimulator({ httpPort: port, loginFailureDelayMs: 0 })).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+ \(plain HTTP\): EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});
