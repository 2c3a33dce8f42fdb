// A password file (or standard input) as text. Windows tools write files that are not plain UTF-8:
// Notepad and PowerShell 7's `-Encoding utf8BOM` start with a UTF-8 byte-order mark, and
// PowerShell 5.1's `>` and `Out-File` write UTF-16 LE with its mark. Read as UTF-8, such a file
// gives a password with a stray U+FEFF or NULs in it: "wrong password", exit 3, and nobody looks at
// the file's encoding. So the mark decides; anything else must be valid UTF-8, and a refusal names
// the encoding problem, never the password or its bytes.
import { InvalidInputError } from '../errors.js';

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/** The text of a password source (`what` names it in messages: `--password-file F`, `standard input`). */
export function decodePasswordText(bytes: Uint8Array, what: string): string {
  const starts = (mark: number[]) => mark.every((byte, i) => bytes[i] === byte);
  let text: string;
  if (starts([0xff, 0xfe])) text = utf16(bytes.subarray(2), 'le', what);
  else if (starts([0xfe, 0xff])) text = utf16(bytes.subarray(2), 'be', what);
  else {
    const body = starts(UTF8_BOM) ? bytes.subarray(3) : bytes;
    // UTF-16 without its mark has a NUL in every other byte (of ASCII); no password holds one.
    if (body.includes(0)) throw nul(what);
    try {
      // ignoreBOM: the mark was handled above; a second one would be part of the password.
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
    } catch {
      throw new InvalidInputError(`${what} is not valid UTF-8 text (nor UTF-16 with a byte-order mark): save it as UTF-8, e.g. PowerShell's Set-Content -Encoding utf8`);
    }
  }
  if (text.includes('\0')) throw nul(what);
  return text;
}

function nul(what: string): InvalidInputError {
  return new InvalidInputError(`${what} holds NUL characters: UTF-16 without a byte-order mark? Save it as UTF-8, or as UTF-16 with its mark`);
}

function utf16(body: Uint8Array, order: 'le' | 'be', what: string): string {
  const name = `UTF-16 ${order.toUpperCase()}`;
  if (body.length % 2 !== 0) throw new InvalidInputError(`${what} starts with the ${name} byte-order mark but has an odd number of bytes: it is not ${name} text`);
  // Big-endian is swapped to little-endian: Node builds without full ICU may lack a utf-16be decoder.
  const le = order === 'le' ? body : Buffer.from(body).swap16();
  try {
    return new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true }).decode(le);
  } catch {
    throw new InvalidInputError(`${what} starts with the ${name} byte-order mark but is not valid ${name} text (an unpaired surrogate)`);
  }
}
