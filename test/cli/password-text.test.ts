// Password files as Windows tools write them: a UTF-8 byte-order mark, UTF-16 LE/BE with its mark;
// anything else must be UTF-8, and a refusal never shows the password.
import { describe, expect, it } from 'vitest';
import { decodePasswordText } from '../../src/cli/password-text.js';

const utf16 = (text: string, order: 'le' | 'be') => {
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  return order === 'le' ? le : Buffer.from(le).swap16();
};
const refusal = (bytes: Uint8Array) => {
  try {
    decodePasswordText(bytes, '--password-file pw.txt');
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('not refused');
};

describe('decodePasswordText', () => {
  it('plain UTF-8, and UTF-8 after its byte-order mark', () => {
    expect(decodePasswordText(Buffer.from('pässwörd\r\n'), 'x')).toBe('pässwörd\r\n');
    expect(decodePasswordText(Buffer.from('\ufeffpässwörd\r\n'), 'x')).toBe('pässwörd\r\n');
  });

  it('UTF-16 LE and BE by their mark (PowerShell 5.1 Out-File writes LE), astral characters too', () => {
    expect(decodePasswordText(utf16('pässwörd😀\r\n', 'le'), 'x')).toBe('pässwörd😀\r\n');
    expect(decodePasswordText(utf16('pässwörd😀\r\n', 'be'), 'x')).toBe('pässwörd😀\r\n');
  });

  it('only the first mark goes: a second is part of the text', () => {
    expect(decodePasswordText(Buffer.from('\ufeff\ufeffx'), 'x')).toBe('\ufeffx');
  });

  it('refuses invalid UTF-8 naming the encoding, never the bytes (exit 2)', () => {
    const e = refusal(Buffer.from([0x73, 0x65, 0x63, 0xe9, 0x74])); // "secét" in Latin-1
    expect(e.code).toBe('E_INPUT');
    expect(e.message).toMatch(/--password-file pw\.txt is not valid UTF-8 text \(nor UTF-16 with a byte-order mark\)/);
    expect(e.message).not.toMatch(/sec|é|e9|233/i);
  });

  it('refuses UTF-16 without its mark (NULs), an odd length, an unpaired surrogate', () => {
    expect(refusal(Buffer.from('secret', 'utf16le')).message).toMatch(/holds NUL characters: UTF-16 without a byte-order mark\?/);
    expect(refusal(Buffer.concat([utf16('secret', 'le'), Buffer.from([0x41])])).message).toMatch(/UTF-16 LE byte-order mark but has an odd number of bytes/);
    expect(refusal(Buffer.from([0xfe, 0xff, 0xd8, 0x00, 0x00, 0x41])).message).toMatch(/not valid UTF-16 BE text \(an unpaired surrogate\)/);
    for (const bytes of [Buffer.from('secret', 'utf16le'), Buffer.from([0xfe, 0xff, 0xd8, 0x00, 0x00, 0x41])]) expect(refusal(bytes).message).not.toMatch(/secret/);
  });
});
