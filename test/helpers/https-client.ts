// A bare HTTPS client for tests: what any Redfish client would send, nothing of ilo-agent's own.
import { Agent, request } from 'node:https';

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface CallOptions {
  token?: string;
  basic?: [string, string];
  body?: unknown;
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  timeoutMs?: number;
  agent?: Agent;
}

export function client(base: { url: string; ca: string }) {
  const agent = new Agent({ ca: base.ca, keepAlive: true });
  const call = (method: string, path: string, options: CallOptions = {}): Promise<CallResult> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'OData-Version': '4.0', ...options.headers };
      let body: Buffer | undefined;
      if (options.rawBody !== undefined) body = Buffer.from(options.rawBody);
      else if (options.body !== undefined) body = Buffer.from(JSON.stringify(options.body));
      if (body) {
        headers['Content-Type'] ??= 'application/json';
        headers['Content-Length'] = String(body.length);
      }
      if (options.token) headers['X-Auth-Token'] = options.token;
      if (options.basic) headers.Authorization = `Basic ${Buffer.from(options.basic.join(':')).toString('base64')}`;
      const req = request(new URL(path, base.url), { method, headers, agent: options.agent ?? agent, timeout: options.timeoutMs ?? 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('response aborted')));
        res.on('end', () => {
          if (!res.complete) {
            reject(new Error('response incomplete'));
            return;
          }
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body);
    });

  return {
    call,
    agent,
    async login(user = 'Administrator', password = 'password') {
      const res = await call('POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: user, Password: password } });
      return { res, token: String(res.headers['x-auth-token'] ?? ''), location: String(res.headers.location ?? '') };
    },
    close: () => agent.destroy(),
  };
}

export function messageIds(body: unknown): string[] {
  const info = (body as { error?: { '@Message.ExtendedInfo'?: Array<{ MessageId: string }> } })?.error?.['@Message.ExtendedInfo'];
  return (info ?? []).map((m) => m.MessageId);
}
