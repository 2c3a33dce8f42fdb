// Checks on what a user asks for, made before anything is sent.
import { InvalidInputError } from '../errors.js';
import { inexactMessage, inexactNumber } from './exact-numbers.js';
import { HTTP_METHODS, type HttpMethod } from '../transport/index.js';

const MAX_PATH = 2048;

/** A Redfish path: under /redfish, printable, no `..` segments, no fragment. */
export function checkPath(path: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidInputError('a Redfish path is required, e.g. /redfish/v1/Systems/1');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new InvalidInputError(`give a path, not a URL: ${path} (the iLO's address goes in --url)`);
  }
  if (!/^\/redfish(?:[/?]|$)/.test(path)) throw new InvalidInputError(`not a Redfish path: ${JSON.stringify(path)} (it must start with /redfish, e.g. /redfish/v1/Systems/1)`);
  if (path.length > MAX_PATH) throw new InvalidInputError(`the path is longer than ${MAX_PATH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f"<>\\^`{|}#]/.test(path)) throw new InvalidInputError(`the path contains characters that must be %-encoded or are not allowed: ${JSON.stringify(path)}`);
  // iLO resource ids are ASCII, and neither transport can put other characters on the wire as
  // typed (Node refuses them, CHIF's HTTP/1 is bytes). Refused rather than encoded behind the
  // user's back: the message gives the UTF-8 %-encoding (RFC 3987 §3.1) for whoever means it.
  if (/[^\x21-\x7e]/.test(path)) {
    throw new InvalidInputError(`the path contains characters outside printable ASCII: ${JSON.stringify(path)}; %-encode them as UTF-8 if that is what you mean (${percentEncoded(path)})`);
  }
  // Checked decoded: %2e%2e is ".." to a server (RFC 3986 §6.2.2.2). A path with neither "/." nor
  // "%" has no such segment (and most have neither: skip the decoding for them).
  if ((path.includes('/.') || path.includes('%')) && normalisedSegments(path).some((s) => s === '..' || s === '.')) throw new InvalidInputError(`the path may not contain "." or ".." segments: ${path}`);
  return path;
}

/** Non-ASCII characters as %-encoded UTF-8; a lone surrogate (no UTF-8 form) as U+FFFD. */
function percentEncoded(path: string): string {
  return path.replace(/[^\x00-\x7f]/gu, (char) => {
    try {
      return encodeURIComponent(char);
    } catch {
      return '%EF%BF%BD';
    }
  });
}

/** Segments as a server sees them: query dropped, %-decoded, empty segments (`//`) removed. */
function normalisedSegments(path: string): string[] {
  const bare = path.split('?')[0] ?? '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(bare);
  } catch {
    throw new InvalidInputError(`the path has a broken %-escape: ${path}`);
  }
  return decoded.split('/').filter((segment) => segment !== '');
}

export function checkMethod(method: string): HttpMethod {
  const upper = method.toUpperCase();
  if (!(HTTP_METHODS as readonly string[]).includes(upper)) {
    throw new InvalidInputError(`unknown method ${JSON.stringify(method)}; expected one of ${HTTP_METHODS.join(', ').toLowerCase()}`);
  }
  return upper as HttpMethod;
}

/** Parses a JSON body the user gave; the message says where it is wrong. A number it would change is refused. */
export function parseJsonInput(text: string, source: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  const inexact = inexactNumber(text);
  if (inexact) throw new InvalidInputError(inexactMessage(source, inexact));
  return value;
}

const SESSION_COLLECTIONS = ['/redfish/v1/sessionservice/sessions', '/redfish/v1/sessions'];

/** POSTs that would create a second session, which nothing would delete. */
export function createsSession(method: HttpMethod, path: string): boolean {
  return method === 'POST' && SESSION_COLLECTIONS.includes(`/${normalisedSegments(path).join('/').toLowerCase()}`);
}

export const SECOND_SESSION_REFUSED =
  'ilo-agent manages its one session itself: a POST to the Sessions collection would make a second session that nothing deletes';

/**
 * Whether a path names one session: exactly one segment below a Sessions collection, as the iLO
 * reads it (%-decoded, so `a%2Fb` is two segments), and no query. Call after checkPath.
 */
export function isSessionPath(path: string): boolean {
  if (path.includes('?')) return false;
  const segments = normalisedSegments(path);
  return segments.length > 0 && SESSION_COLLECTIONS.includes(`/${segments.slice(0, -1).join('/').toLowerCase()}`);
}

/** Refuses a request that would create a second session (checked before any login). */
export function checkNotSessionPost(method: HttpMethod, path: string): void {
  if (createsSession(method, path)) throw new InvalidInputError(SECOND_SESSION_REFUSED);
}

/** RFC 9110's token: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A value may not end the line (header injection) nor carry NUL. */
const HEADER_VALUE_BREAK = /[\r\n\0]/;

/**
 * Request headers a caller gives are checked here, above the transports, so the same mistake is
 * the same error (InvalidInputError, exit 2) whichever way the iLO is reached.
 */
export function checkHeaders(headers: Readonly<Record<string, string>> | undefined): void {
  if (!headers) return;
  for (const name in headers) {
    const value = headers[name];
    if (!HEADER_NAME.test(name)) throw new InvalidInputError(`a request header name is not an HTTP token: ${JSON.stringify(name)}`);
    if (typeof value !== 'string') throw new InvalidInputError(`the request header ${name} has no text value`);
    if (HEADER_VALUE_BREAK.test(value)) throw new InvalidInputError(`the request header ${name} contains a line break or NUL`);
  }
}
