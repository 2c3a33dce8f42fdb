import { describe, expect, it } from 'vitest';
import { makeSessionId, SessionTable } from '../../src/simulator/sessions.js';

function table(options: { maxSessions?: number; timeoutMs?: number } = {}) {
  let now = Date.UTC(2023, 0, 9, 17, 31, 51);
  const t = new SessionTable({ maxSessions: options.maxSessions ?? 3, timeoutMs: options.timeoutMs ?? 30 * 60_000, clock: () => now });
  return { t, advance: (ms: number) => (now += ms), now: () => now };
}

const user = { user: 'Administrator', tag: 'REST', transport: 'https', userIp: '127.0.0.1' } as const;

describe('session Ids and tokens', () => {
  it('makes Ids as iLO does: lowercased user, 00000000, login time in hex, 7-8 random hex', () => {
    const id = makeSessionId('Administrator', Date.UTC(2023, 0, 9, 17, 31, 51));
    expect(id).toMatch(/^administrator0000000063bc4f87[0-9a-f]{7,8}$/);
  });

  it('%-encodes the user part (in-band "system administrator")', () => {
    expect(makeSessionId('system administrator', 0)).toMatch(/^system%20administrator0000000000000000[0-9a-f]{7,8}$/);
  });

  it('gives every session a different 32-lowercase-hex token', () => {
    const { t } = table({ maxSessions: 50 });
    const tokens = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const s = t.create(user);
      if (s === 'full') throw new Error('unexpected full');
      expect(s.token).toMatch(/^[0-9a-f]{32}$/);
      tokens.add(s.token);
    }
    expect(tokens.size).toBe(50);
  });
});

describe('the global cap', () => {
  it('refuses a session past the cap and accepts again after one is removed', () => {
    const { t } = table({ maxSessions: 2 });
    const a = t.create(user);
    t.create({ ...user, user: 'other' });
    expect(t.create(user)).toBe('full');
    if (a === 'full') throw new Error('unexpected');
    expect(t.remove(a.id)).toBe(true);
    expect(t.create(user)).not.toBe('full');
  });

  it('never refuses a transient (Basic) session, but counts it against new logins', () => {
    const { t } = table({ maxSessions: 1 });
    const transient = t.create({ ...user, transient: true });
    expect(transient).not.toBe('full');
    expect(t.create(user)).toBe('full');
  });
});

describe('sliding expiry', () => {
  it('expires a session idle for the timeout, and each use restarts the clock', () => {
    const { t, advance } = table({ timeoutMs: 60_000 });
    const s = t.create(user);
    if (s === 'full') throw new Error('unexpected');
    advance(50_000);
    expect(t.authenticate(s.token)).toBe(s);
    advance(50_000); // 100 s after login, 50 s after last use
    expect(t.authenticate(s.token)).toBe(s);
    expect(t.view(s).expires).toBe(new Date(s.accessTime + 60_000).toISOString().replace('.000Z', 'Z'));
    advance(60_000);
    expect(t.authenticate(s.token)).toBeUndefined();
    expect(t.list()).toHaveLength(0);
  });

  it('with timeout 0 never expires and reports no expiry', () => {
    const { t, advance } = table({ timeoutMs: 0 });
    const s = t.create(user);
    if (s === 'full') throw new Error('unexpected');
    advance(365 * 86400_000);
    expect(t.authenticate(s.token)).toBe(s);
    expect(t.view(s).expires).toBeNull();
  });

  it('keeps the timeout a session was made with when the setting changes', () => {
    const { t, advance } = table({ timeoutMs: 60_000 });
    const s = t.create(user);
    if (s === 'full') throw new Error('unexpected');
    t.timeoutMs = 10_000;
    const later = t.create(user);
    if (later === 'full') throw new Error('unexpected');
    advance(20_000);
    expect(t.authenticate(s.token)).toBe(s);
    expect(t.authenticate(later.token)).toBeUndefined();
  });

  it('expireAll ends every session but transient ones (their request still runs)', () => {
    const { t } = table();
    t.create(user);
    t.create(user);
    t.create({ ...user, transient: true });
    expect(t.expireAll()).toBe(2);
    expect(t.list().map((s) => s.transient)).toEqual([true]);
  });
});

describe('lookup by Id', () => {
  it('finds a session by its encoded or decoded Id', () => {
    const { t } = table();
    const s = t.create({ ...user, user: 'system administrator', tag: 'RESTHost', transport: 'chif' });
    if (s === 'full') throw new Error('unexpected');
    expect(t.find(s.id)).toBe(s);
    expect(t.find(decodeURIComponent(s.id))).toBe(s);
    expect(t.find('nobody00000000')).toBeUndefined();
  });
});
