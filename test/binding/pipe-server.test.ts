// A SID read from a Windows token is written as Windows writes it (ConvertSidToStringSid).
import { describe, expect, it } from 'vitest';
import { formatSid } from '../../src/binding/index.js';

describe('formatSid', () => {
  it('LocalSystem, a built-in group and a domain user', () => {
    expect(formatSid(Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]))).toBe('S-1-5-18');
    expect(formatSid(Uint8Array.from([1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 0x02, 0, 0]))).toBe('S-1-5-32-544');
    const user = Buffer.alloc(28);
    user.writeUInt8(1, 0);
    user.writeUInt8(5, 1);
    user.writeUIntBE(5, 2, 6);
    [21, 1004336348, 1177238915, 682003330, 1001].forEach((sub, i) => user.writeUInt32LE(sub, 8 + 4 * i));
    expect(formatSid(user)).toBe('S-1-5-21-1004336348-1177238915-682003330-1001');
  });

  it('refuses a length that does not match its count of sub-authorities', () => {
    expect(() => formatSid(Uint8Array.from([1, 2, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]))).toThrow(/12 bytes for 2 sub-authorities/);
  });
});
