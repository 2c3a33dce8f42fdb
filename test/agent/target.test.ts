// Which iLO and user an agent's hello names, including agents older than its `url`/`username`.
import { describe, expect, it } from 'vitest';
import { agentUrl, checkAgentTarget } from '../../src/agent/target.js';
import type { AgentHello } from '../../src/agent/protocol.js';

const hello = (extra: Partial<AgentHello>): AgentHello => ({ sessionPath: '/redfish/v1/SessionService/Sessions/1', sessionId: '1', transport: 'https https://10.0.0.1:443', version: 1, ...extra });

describe('agentUrl', () => {
  it('takes the hello\'s url, null in-band', () => {
    expect(agentUrl(hello({ url: 'https://10.0.0.2' }))).toBe('https://10.0.0.2');
    expect(agentUrl(hello({ url: null, transport: 'chif via /x.so' }))).toBeNull();
  });

  it('an older agent (no url field): read from its transport, in-band as null', () => {
    expect(agentUrl(hello({}))).toBe('https://10.0.0.1:443');
    expect(agentUrl(hello({ transport: 'chif via /opt/ilorest/lib64/libilorestchif.so' }))).toBeNull();
  });
});

describe('checkAgentTarget', () => {
  const url = (value: string) => ({ url: { value, from: '--url' } });

  it('accepts the same iLO however it is written, refuses another with a usage error', () => {
    const h = hello({ url: 'https://ilo1.example.com:8443' });
    expect(() => checkAgentTarget(h, url('ILO1.example.com:8443'), 'ILO_AGENT_SOCKET')).not.toThrow();
    expect(() => checkAgentTarget(hello({ url: 'https://ilo1.example.com' }), url('https://ilo1.example.com:443/'), 'ILO_AGENT_SOCKET')).not.toThrow();
    const error = (() => {
      try {
        checkAgentTarget(h, url('https://ilo2.example.com:8443'), 'ILO_AGENT_SOCKET');
      } catch (e) {
        return e as { code: string; message: string };
      }
      throw new Error('not refused');
    })();
    expect(error.code).toBe('E_USAGE');
    expect(error.message).toMatch(/serves the iLO at https:\/\/ilo1\.example\.com:8443, but --url is https:\/\/ilo2\.example\.com:8443: refused, nothing was sent; unset ILO_AGENT_SOCKET/);
  });

  it('a user only when the hello names the same one; an older agent that names none is refused', () => {
    const username = (value: string) => ({ username: { value, from: '--username' } });
    expect(() => checkAgentTarget(hello({ username: 'admin' }), username('admin'), 'ILO_AGENT_SOCKET')).not.toThrow();
    expect(() => checkAgentTarget(hello({ username: 'admin' }), username('Admin'), 'ILO_AGENT_SOCKET')).toThrow(/logged in as admin, but --username is Admin/);
    expect(() => checkAgentTarget(hello({}), username('admin'), 'ILO_AGENT_SOCKET')).toThrow(/does not say which user it logged in as \(an older ilo-agent serve\)/);
  });

  it('a bad address is the usage error of --url itself', () => {
    expect(() => checkAgentTarget(hello({}), url('http://10.0.0.1'), '--agent')).toThrow(/http:\/\/ is refused/);
  });

  it('no hello at all: no iLO and no user named, refused as such', () => {
    expect(agentUrl(undefined)).toBeUndefined();
    expect(() => checkAgentTarget(undefined, url('https://10.0.0.1'), '--agent')).toThrow(/serves the local iLO in-band, but --url is https:\/\/10\.0\.0\.1: refused, nothing was sent; drop --agent to log in yourself, or use the agent without --url/);
    expect(() => checkAgentTarget(undefined, { username: { value: 'admin', from: '-u' } }, '--agent')).toThrow(/does not say which user/);
  });

  it('an older agent\'s transport names an iLO only as exactly `https https://…`', () => {
    expect(agentUrl(hello({ transport: 'via https https://10.0.0.1' }))).toBeNull();
    expect(agentUrl(hello({ transport: 'https https://10.0.0.1 (proxy)' }))).toBeNull();
    expect(agentUrl({ version: 1 } as AgentHello)).toBeNull();
  });

  it('an agent logged in without a user name (in-band, app token) is refused for -u, and says so', () => {
    expect(() => checkAgentTarget(hello({ username: null }), { username: { value: 'admin', from: '-u' } }, 'ILO_AGENT_SOCKET')).toThrow(
      /names an agent logged in without a user name \(in-band or an app token\), but -u is admin: refused, nothing was sent; unset ILO_AGENT_SOCKET \(or run with ILO_AGENT_SOCKET=\) to log in yourself/,
    );
  });
});
