// One debug line per request the session sends (logins, requests, logouts): method, path, status
// and duration. Never headers or bodies: the login body holds the password, headers the token.
import type { Logger } from 'pino';
import type { Transport, TransportRequest, TransportResponse } from '../transport/index.js';

/** `transport` itself when debug is off: the hot path pays nothing then. */
export function withRequestLog(transport: Transport, log: Logger | undefined): Transport {
  // A library caller's logger may be a minimal one: no isLevelEnabled, no request lines.
  if (typeof log?.isLevelEnabled !== 'function' || !log.isLevelEnabled('debug')) return transport;
  const line = (request: TransportRequest, started: number, outcome: { status: number } | { error: string }) => {
    const ms = Math.round(performance.now() - started);
    const what = 'status' in outcome ? String(outcome.status) : `failed (${outcome.error})`;
    log.debug({ method: request.method, path: request.path, ...outcome, ms }, `${request.method} ${request.path} ${what} in ${ms} ms`);
  };
  const logged: Transport = {
    kind: transport.kind,
    description: transport.description,
    library: transport.library,
    request(request) {
      const started = performance.now();
      return transport.request(request).then(
        (response) => {
          line(request, started, { status: response.status });
          return response;
        },
        (error: unknown) => {
          line(request, started, { error: (error as { code?: string }).code ?? 'error' });
          throw error;
        },
      );
    },
    close: () => transport.close(),
  };
  if (transport.requestSync) {
    const sync = transport.requestSync.bind(transport);
    logged.requestSync = (request): TransportResponse => {
      const started = performance.now();
      const response = sync(request);
      line(request, started, { status: response.status });
      return response;
    };
  }
  return logged;
}
