// JSON numbers become IEEE doubles here (JSON.parse; RFC 8259 §6 warns about exactly this): a
// literal with no exact double would go out as another number (12345678901234567890 as
// 12345678901234567000) or as null (1e400, JSON.stringify of Infinity). Input such as that is
// refused, never changed silently.

// Any literal with up to 15 significant digits (DBL_DIG) and a two-digit exponent survives the
// round trip; only text with a longer run of digits or a longer exponent needs the full scan.
const MAYBE_INEXACT = /\d[\d.]{15}|[eE][+-]?\d{3}/;
const TOKENS = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/** The first number in valid JSON `text` that would not be sent as written: what it would be sent as. */
export function inexactNumber(text: string): { literal: string; sent: string } | undefined {
  if (!MAYBE_INEXACT.test(text)) return undefined;
  for (const [literal] of text.matchAll(TOKENS)) {
    if (literal.startsWith('"')) continue;
    const sent = JSON.stringify(Number(literal));
    if (sent === 'null' || decimal(sent) !== decimal(literal)) return { literal, sent };
  }
  return undefined;
}

/** A number literal as sign, significant digits and exponent: `1.50e2` and `150` give the same. */
function decimal(literal: string): string {
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal) ?? [];
  const digits = `${whole}${fraction}`.replace(/^0+/, '');
  if (digits === '') return '0';
  const significant = digits.replace(/0+$/, '');
  return `${sign}${significant}e${BigInt(exponent) - BigInt(fraction.length) + BigInt(digits.length - significant.length)}`;
}

/** Why a number cannot be sent, for a message: `where` names the input. */
export function inexactMessage(where: string, found: { literal: string; sent: string }): string {
  return (
    `${where}: the number ${found.literal} would be sent as ${found.sent} (a JSON number is a 64-bit float here, exact to 15 digits); ` +
    `if you mean the text, give it as a JSON string ("${found.literal}")`
  );
}
