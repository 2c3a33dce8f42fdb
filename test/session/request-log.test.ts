// The request log wraps the transport only when debug is on, and reports failures by their code.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withRequestLog } from '../../src/session/request-log.js';
import type { Transport } from '../../src/transport/index.js';
import type { Logger } from 'pino';

const transport = (fail?: Error): Transport => ({
  kind: 'https',
  description: 'https://ilo',
  request: async () => {
    if (fail) throw fail;
    return { status: 200, headers: { 'x-auth-token': 'f'.repeat(32) }, body: Buffer.from('{"Password":"x"}') };
  },
  close: async () => undefined,
});
const recorder = (level: string) => {
  const lines: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  const log = { isLevelEnabled: (l: string) => l === level || level === 'trace', debug: (fields: Record<string, unknown>, msg: string) => lines.push({ fields, msg }) } as unknown as Logger;
  return { log, lines };
};

describe('withRequestLog', () => {
  it('is the transport itself below debug (nothing added to each request)', () => {
    const t = transport();
    expect(withRequestLog(t, recorder('info').log)).toBe(t);
    expect(withRequestLog(t, undefined)).toBe(t);
  });

  it('at debug: method, path, status and time only', async () => {
    const { log, lines } = recorder('debug');
    const logged = withRequestLog(transport(), log);
    expect(logged.kind).toBe('https');
    await logged.request({ method: 'POST', path: '/redfish/v1/SessionService/Sessions', headers: { 'X-Auth-Token': 'a'.repeat(32) }, body: Buffer.from('{"Password":"secret"}') });
    expect(lines).toHaveLength(1);
    expect(Object.keys(lines[0]?.fields ?? {}).sort()).toEqual(['method', 'ms', 'path', 'status']);
    expect(lines[0]?.msg).toMatch(/^POST \/redfish\/v1\/SessionService\/Sessions 200 in \d+ ms$/);
    expect(JSON.stringify(lines)).not.toMatch(/secret|a{32}|f{32}/);
  });

  it('a failed request: its error code, and the rejection passes through', async () => {
    const { log, lines } = recorder('debug');
    const error = Object.assign(new Error('cannot reach'), { code: 'E_CONNECT' });
    await expect(withRequestLog(transport(error), log).request({ method: 'GET', path: '/redfish/v1/' })).rejects.toBe(error);
    expect(lines[0]?.msg).toMatch(/^GET \/redfish\/v1\/ failed \(E_CONNECT\) in \d+ ms$/);
  });

  it('a failure without a code is "error"', async () => {
    const { log, lines } = recorder('debug');
    await expect(withRequestLog(transport(new Error('odd')), log).request({ method: 'GET', path: '/redfish/v1/' })).rejects.toThrow('odd');
    expect(lines[0]?.msg).toMatch(/^GET \/redfish\/v1\/ failed \(error\) in \d+ ms$/);
    expect(lines[0]?.fields.error).toBe('error');
  });

  // The clock is faked (performance.now()), so the duration is exact without a real wait.
  it('the time is from the send to the answer', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const { log, lines } = recorder('debug');
    let answer!: () => void;
    const slow: Transport = { ...transport(), request: () => new Promise((resolve) => (answer = () => resolve({ status: 204, headers: {}, body: Buffer.alloc(0) }))) };
    // Not at 0: a start added instead of subtracted must show.
    vi.advanceTimersByTime(1_000);
    const pending = withRequestLog(slow, log).request({ method: 'DELETE', path: '/redfish/v1/SessionService/Sessions/s1' });
    vi.advanceTimersByTime(25);
    answer();
    await pending;
    expect(lines.map((l) => [l.msg, l.fields.ms])).toEqual([['DELETE /redfish/v1/SessionService/Sessions/s1 204 in 25 ms', 25]]);
  });

  it('close() is the transport\'s, and a blocking requestSync is logged too', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const { log, lines } = recorder('debug');
    let closed = 0;
    const blocking: Transport = {
      ...transport(),
      close: async () => void closed++,
      requestSync: () => {
        vi.advanceTimersByTime(7);
        return { status: 204, headers: {}, body: Buffer.alloc(0) };
      },
    };
    const logged = withRequestLog(blocking, log);
    expect(logged.requestSync?.({ method: 'DELETE', path: '/redfish/v1/SessionService/Sessions/s2' }).status).toBe(204);
    expect(lines.map((l) => l.msg)).toEqual(['DELETE /redfish/v1/SessionService/Sessions/s2 204 in 7 ms']);
    await logged.close();
    expect(closed).toBe(1);
  });

  it('no requestSync where the transport has none', () => {
    expect(withRequestLog(transport(), recorder('debug').log).requestSync).toBeUndefined();
  });
});

afterEach(() => {
  vi.useRealTimers();
});
