// The vNIC's TLS plan in detail: which netmasks make a link (a malformed one never does), which interface
// entries count, and what each trust mode puts into the HTTPS options and says in words. Fake interface
// lists (what os.networkInterfaces() answers); nothing is sent.
import { describe, expect, it } from 'vitest';
import { UsageError, VnicError } from '../../src/errors.js';
import { findVnicLink, planVnic, type InterfaceAddress } from '../../src/transport/index.js';

const v4 = (address: string, netmask: string): InterfaceAddress => ({ address, netmask, family: 'IPv4' });
const usb0 = (...entries: InterfaceAddress[]) => ({ usb0: entries });

describe('findVnicLink: netmasks and entries', () => {
  it.each([
    // not a dotted quad, though its bits would read as a /30
    ['five parts', '255.255.255.252.0'],
    // a 0 bit, then ones: /30 only if the leading 0 were lost
    ['a leading zero bit', '127.255.255.254'],
    // a 1 after the first 0
    ['a hole at bit 30', '255.255.255.253'],
  ])('a malformed netmask (%s) is no link', (_what, netmask) => {
    expect(findVnicLink('16.1.15.1', usb0(v4('16.1.15.2', netmask)))).toBeNull();
  });

  it('a narrower link than /30 still counts: /31', () => {
    expect(findVnicLink('16.1.15.1', usb0(v4('16.1.15.0', '255.255.255.254')))).toEqual({ address: '16.1.15.0', name: 'usb0', prefix: 31 });
  });

  it('the family may be the number 4 (older Node); an entry of another family never counts', () => {
    expect(findVnicLink('16.1.15.1', usb0({ address: '16.1.15.2', netmask: '255.255.255.252', family: 4 }))).toEqual({ address: '16.1.15.2', name: 'usb0', prefix: 30 });
    expect(findVnicLink('16.1.15.1', usb0({ address: '16.1.15.2', netmask: '255.255.255.252', family: 'IPv6' }))).toBeNull();
  });

  it('an address that is not a dotted quad is no link, whatever its numbers', () => {
    // "16.1.15" read as numbers equals 0.16.1.15, in the /30 of 0.16.1.14
    expect(findVnicLink('16.1.15', usb0(v4('0.16.1.14', '255.255.255.252')))).toBeNull();
  });
});

describe('planVnic: each trust mode in options and words', () => {
  const up = () => usb0(v4('16.1.15.2', '255.255.255.252'));
  const down = () => ({});

  it('--insecure', () => {
    const plan = planVnic('https://16.1.15.1', { insecure: true }, {}, down);
    expect(plan.https.insecure).toBe(true);
    expect(plan.tls).toBe('insecure: any certificate is accepted (--insecure)');
  });

  it('--pin', () => {
    const plan = planVnic('https://16.1.15.1', { pin: `sha256:${'ab'.repeat(32)}` }, {}, down);
    expect(plan.tlsMode).toBe('pin');
    expect(plan.tls).toBe(`pinned: the leaf certificate sha256:${'ab'.repeat(32)}`);
  });

  it('a malformed --pin is a UsageError quoting at most 80 characters of it', () => {
    let error: unknown;
    try {
      planVnic('https://16.1.15.1', { pin: `sha256:${'z'.repeat(200)}` }, {}, up);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      `--pin takes sha256:<64 hex digits> (the SHA-256 fingerprint of iLO's certificate), got ${JSON.stringify(`sha256:${'z'.repeat(73)}`)}`,
    );
  });

  it('--ca-cert names the name checked: --tls-servername, else the address', () => {
    const named = planVnic('https://16.1.15.1', { ca: 'PEM', servername: 'ilo7' }, {}, down);
    expect(named.tlsMode).toBe('ca');
    expect(named.tls).toBe('verified with --ca-cert against the name ilo7');
    expect(planVnic('https://16.1.15.1', { ca: 'PEM' }, {}, down).tls).toBe('verified with --ca-cert against the name 16.1.15.1');
  });

  it('link-bound says where connections leave from', () => {
    expect(planVnic('https://16.1.15.1', {}, {}, up).tls).toBe(
      "link-bound: connections leave from 16.1.15.2 on usb0 (/30) and iLO's certificate is accepted on that link",
    );
  });

  it('no link and no opt-in: a VnicError that says how to configure the link or trust the iLO otherwise', () => {
    let error: unknown;
    try {
      planVnic('https://16.1.15.1', {}, {}, down);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VnicError);
    expect((error as VnicError).code).toBe('E_VNIC');
    expect((error as Error).message).toMatch(/^the host side of the vNIC is not configured: no address of this host shares a \/30 with 16\.1\.15\.1 .*nothing was sent\. /);
    expect((error as Error).message).toMatch(/Or trust the iLO another way: --pin sha256:<hex>, --ca-cert FILE with --tls-servername NAME, or --insecure$/);
  });
});
