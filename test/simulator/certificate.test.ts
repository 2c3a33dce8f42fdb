import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeSelfSignedCertificate } from '../../src/simulator/certificate.js';

describe('the in-memory self-signed certificate', () => {
  it('is a valid self-signed certificate for loopback names and the extra hosts', () => {
    const { cert, key } = makeSelfSignedCertificate(['ilo.example.test', '10.0.0.5', 'fe80::1']);
    const x = new X509Certificate(cert);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkIssued(x)).toBe(true);
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.checkHost('ilo.example.test')).toBe('ilo.example.test');
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkIP('::1')).toBe('::1');
    expect(x.checkIP('10.0.0.5')).toBe('10.0.0.5');
    expect(x.checkIP('fe80::1')).toBe('fe80::1');
    expect(x.checkIP('127.0.0.2')).toBeUndefined();
    expect(Date.parse(x.validFrom)).toBeLessThan(Date.now());
    expect(Date.parse(x.validTo)).toBeGreaterThan(Date.now() + 300 * 86400_000);
    expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('is new every time', () => {
    expect(makeSelfSignedCertificate().cert).not.toBe(makeSelfSignedCertificate().cert);
  });
});
