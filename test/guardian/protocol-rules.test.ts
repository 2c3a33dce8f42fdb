// The pipe protocol's checks, one field at a time: a line the guardian accepts carries exactly what the
// agent meant; anything malformed is refused whole (undefined), never half-read.
import { describe, expect, it } from 'vitest';
import { encodeMessage, parseMessage } from '../../src/guardian/protocol.js';

const HTTPS = { kind: 'https', url: 'https://ilo', ca: null, insecure: false };
const HELLO = { type: 'hello', version: 1, agentPid: 42, logLevel: 'info', transport: HTTPS, credentials: { username: 'u', password: 'p' } };
const parse = (value: unknown) => parseMessage(JSON.stringify(value));

describe('parseMessage', () => {
  it('a valid hello comes back as it was sent, with only the known fields', () => {
    expect(parse({ ...HELLO, extra: 1 })).toEqual(HELLO);
    expect(parse({ ...HELLO, timeoutMs: 0 })).toEqual({ ...HELLO, timeoutMs: 0 });
    expect(parse({ ...HELLO, credentials: null })).toEqual({ ...HELLO, credentials: null });
    const vnic = { ...HTTPS, ca: 'PEM', insecure: true, localAddress: '16.1.15.2', pin: 'sha256/x', servername: 'ilo.local' };
    expect(parse({ ...HELLO, transport: vnic })).toEqual({ ...HELLO, transport: vnic });
    expect(parse({ ...HELLO, transport: { kind: 'chif', library: '/lib.so', extra: 1 } })).toEqual({ ...HELLO, transport: { kind: 'chif', library: '/lib.so' } });
  });

  it.each([
    ['another version', { version: 2 }],
    ['no agent pid', { agentPid: '42' }],
    ['a log level that is not a string', { logLevel: 3 }],
    ['an unknown log level', { logLevel: 'loud' }],
    ['no transport', { transport: 'https' }],
    ['a negative timeout', { timeoutMs: -1 }],
    ['a timeout that is not a number', { timeoutMs: '5' }],
    ['an https transport without a url', { transport: { ...HTTPS, url: 1 } }],
    ['an https transport whose ca is not a string', { transport: { ...HTTPS, ca: 1 } }],
    ['an https transport without insecure', { transport: { kind: 'https', url: 'https://ilo', ca: null } }],
    ['an empty pin', { transport: { ...HTTPS, pin: '' } }],
    ['a local address that is not a string', { transport: { ...HTTPS, localAddress: 1 } }],
    ['a chif transport without a library', { transport: { kind: 'chif', library: '' } }],
    ['a chif transport whose library is not a string', { transport: { kind: 'chif', library: 1 } }],
    ['an unknown transport', { transport: { kind: 'serial', url: 'x' } }],
    ['an unknown transport shaped like https', { transport: { ...HTTPS, kind: 'serial' } }],
    ['credentials that are not an object', { credentials: 'u:p' }],
    ['credentials without a password', { credentials: { username: 'u' } }],
    ['credentials without a user name', { credentials: { password: 'p' } }],
  ])('refuses a hello with %s', (_what, change) => {
    expect(parse({ ...HELLO, ...change })).toBeUndefined();
  });

  it('refuses an infinite timeout (JSON can carry 1e400)', () => {
    expect(parseMessage(JSON.stringify({ ...HELLO, timeoutMs: 7 }).replace('"timeoutMs":7', '"timeoutMs":1e400'))).toBeUndefined();
  });

  it('the other messages, checked', () => {
    expect(parse({ type: 'login', user: null, at: 5 })).toEqual({ type: 'login', user: null, at: 5 });
    expect(parse({ type: 'login', user: 'u', at: 5 })).toEqual({ type: 'login', user: 'u', at: 5 });
    expect(parse({ type: 'login', user: 1, at: 5 })).toBeUndefined();
    expect(parse({ type: 'login', user: 'u', at: '5' })).toBeUndefined();
    expect(parseMessage('{"type":"login","user":"u","at":1e400}')).toBeUndefined();
    expect(parse({ type: 'session', path: null, token: 't' })).toEqual({ type: 'session', path: null, token: 't' });
    expect(parse({ type: 'session', path: 1, token: 't' })).toBeUndefined();
    expect(parse({ type: 'session', path: '/p', token: 1 })).toBeUndefined();
    expect(parse({ type: 'refused', x: 1 })).toEqual({ type: 'refused' });
    expect(parse({ type: 'released', x: 1 })).toEqual({ type: 'released' });
    expect(parse({ type: 'other' })).toBeUndefined();
    expect(parse([1])).toBeUndefined();
    expect(parseMessage('null')).toBeUndefined();
    expect(parseMessage('"hello"')).toBeUndefined();
    expect(parseMessage('{')).toBeUndefined();
  });

  it('encodeMessage writes one JSON line that parseMessage reads back', () => {
    const line = encodeMessage({ type: 'session', path: '/p', token: 't' });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(parseMessage(line)).toEqual({ type: 'session', path: '/p', token: 't' });
  });
});
