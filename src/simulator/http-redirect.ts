// The plain-HTTP listener an iLO also has: every request is answered with a redirect to the same
// path over HTTPS, never served (HPE: iLO's web server redirects http:// to https://). The status
// (301) and the empty body are choices (unverified); nothing here reads a body or a credential.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { InvalidInputError } from '../errors.js';

export interface HttpRedirect {
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on host:port and sends everything to `https://<the name the client used>:<httpsPort>`. */
export async function startHttpRedirect(options: { host: string; port: number; httpsPort: () => number; log: Logger }): Promise<HttpRedirect> {
  const server: Server = createServer((req, res) => {
    const port = options.httpsPort();
    let hostname = options.host;
    try {
      if (req.headers.host) hostname = new URL(`http://${req.headers.host}`).hostname;
    } catch {
      // a Host header that is no host: keep the listen address
    }
    const location = `https://${hostname}${port === 443 ? '' : `:${port}`}${req.url?.startsWith('/') ? req.url : '/'}`;
    options.log.debug({ method: req.method, location }, 'plain HTTP redirected');
    req.resume(); // a body, if any, is not read
    res.writeHead(301, { Location: location, 'Content-Length': '0' }).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new InvalidInputError(`cannot listen on ${options.host}:${options.port} (plain HTTP): ${error.code ?? error.message}`, { cause: error })),
    );
    server.listen(options.port, options.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}${port === 80 ? '' : `:${port}`}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
