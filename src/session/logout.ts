// Deleting a session, written once: which DELETE answers prove a session gone (a 401 or 404 to
// the token proves nothing), the fallback to Basic credentials or the in-band channel's trust,
// and a blocking form for a process that can no longer wait. Used by the session (its own logout
// and the sessions a re-login replaced) and by the guardian (what the agent left).
import type { Logger } from 'pino';
import { IloAgentError, LogoutError, RedfishError } from '../errors.js';
import { bodyText, envelopeMessages } from '../redfish/index.js';
import type { Transport, TransportResponse } from '../transport/index.js';
import type { Credentials } from './login.js';
import { pause } from './login.js';

/**
 * A DELETE with the session's own token proves the session gone only by a 2xx. A 401 or 404
 * does not: a token the iLO mangled (two X-Auth-Token headers joined) or a session it no longer
 * accepts gets 401 while the session lives on.
 */
export function goneByToken(response: Pick<TransportResponse, 'status'>): boolean {
  return response.status >= 200 && response.status < 300;
}

/**
 * A DELETE with Basic credentials, or in-band on the channel's own trust, proves it by a 2xx or a
 * 404: the request was authorised (else 401), and the session does not exist.
 */
export function goneByAuthority(response: Pick<TransportResponse, 'status'>): boolean {
  return goneByToken(response) || response.status === 404;
}

export type SendDelete = (path: string, headers: Record<string, string>) => Promise<TransportResponse>;

/**
 * The rule, as the headers of each DELETE to send (yielded) and the answer it got (sent back in),
 * so that the waiting and the blocking forms below follow the same steps. Returns undefined once
 * the session is known gone, else the answer that refused it.
 */
function* deletion(token: string | null, authority: Record<string, string> | undefined): Generator<Record<string, string>, TransportResponse | undefined, TransportResponse> {
  const viaToken = token ? yield { 'X-Auth-Token': token } : undefined;
  if (viaToken && goneByToken(viaToken)) return undefined;
  // Status 0: nothing could be sent (no token and no authority).
  if (!authority) return viaToken ?? { status: 0, headers: {}, body: new Uint8Array() };
  const viaAuthority = yield authority;
  return goneByAuthority(viaAuthority) ? undefined : viaAuthority;
}

/**
 * Deletes a session and answers undefined once it is known gone, or the answer that refused it.
 * First with its token; then, unless that was a 2xx, with `authority` (Basic credentials, or `{}`
 * in-band: the channel's trust), which both deletes and confirms. Without an authority, a token
 * DELETE that is not a 2xx leaves the session unconfirmed: not gone.
 */
export async function deleteSession(send: SendDelete, path: string, token: string | null, authority: Record<string, string> | undefined): Promise<TransportResponse | undefined> {
  const steps = deletion(token, authority);
  let step = steps.next();
  while (!step.done) step = steps.next(await send(path, step.value));
  return step.value;
}

/** deleteSession with blocking requests: whether the session is known gone. */
function deleteSessionSync(send: (path: string, headers: Record<string, string>) => TransportResponse, path: string, token: string | null, authority: Record<string, string> | undefined): boolean {
  const steps = deletion(token, authority);
  let step = steps.next();
  while (!step.done) step = steps.next(send(path, step.value));
  return step.value === undefined;
}

/** The Authorization header value of HTTP Basic for these credentials. */
export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** Who may delete a session without its token: Basic credentials, or in-band the channel itself. */
export function authorityOf(credentials: Credentials | null, transport: Transport): Record<string, string> | undefined {
  if (credentials) return { Authorization: basicAuthorization(credentials) };
  return transport.kind === 'chif' ? {} : undefined;
}

/** What the session's own deletes need. */
export interface Deleter {
  transport: Transport;
  /** Asked at each delete: the session forgets its credentials at close. */
  authority(): Record<string, string> | undefined;
  /** Cuts a delete (close()'s deadline). */
  signal: AbortSignal;
  log: Logger | undefined;
}

/**
 * DELETE with the token; unless that answers a 2xx, with Basic credentials (HPE documents them for
 * deleting sessions, and a 405 to the token form is reported from the field) or in-band on the
 * channel's trust, which also confirms a 401 or 404 (deleteSession). Resolves only when gone.
 */
export async function deleteKnown(deleter: Deleter, path: string, token: string | null): Promise<void> {
  const send: SendDelete = (target, headers) => deleter.transport.request({ method: 'DELETE', path: target, headers, signal: deleter.signal });
  const refused = await deleteSession(send, path, token, deleter.authority());
  if (!refused) return;
  if (refused.status === 0) throw new IloAgentError(`cannot delete ${path}: no token and no credentials`, 'E_REDFISH');
  throw new RedfishError({ status: refused.status, method: 'DELETE', path, messages: envelopeMessages(refused.body), body: bodyText(refused.body) });
}

/** The session's logout: one more try after a failure without an answer; LogoutError if it stays. */
export async function logOut(deleter: Deleter, path: string, token: string | null): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await deleteKnown(deleter, path, token);
      deleter.log?.info({ session: path }, 'session deleted');
      return;
    } catch (error) {
      lastError = error;
      if (deleter.signal.aborted || !(error instanceof IloAgentError) || error instanceof RedfishError) break;
      await pause(200, deleter.signal).catch(() => undefined);
    }
  }
  throw new LogoutError(`could not delete the iLO session ${path}: ${(lastError as Error).message}`, lastError);
}

/** deleteKnown with blocking requests (a transport that has them): whether the session is gone. */
export function deleteKnownSync(deleter: Deleter, path: string, token: string | null): boolean {
  // Called as a method: a transport's requestSync may need its `this`.
  const { transport } = deleter;
  return deleteSessionSync((target, headers) => (transport.requestSync as NonNullable<Transport['requestSync']>)({ method: 'DELETE', path: target, headers }), path, token, deleter.authority());
}

/** A session a re-login replaced and could not delete: deleted again at close. */
export interface Leftover {
  path: string;
  token: string | null;
}

/** Tries once more to delete the sessions replaced by re-logins (removing each one gone); answers the last failure. */
export async function deleteLeftovers(deleter: Deleter, leftovers: Leftover[]): Promise<unknown> {
  let failure: unknown;
  for (const known of [...leftovers]) {
    try {
      await deleteKnown(deleter, known.path, known.token);
      leftovers.splice(leftovers.indexOf(known), 1);
      deleter.log?.info({ session: known.path }, 'earlier session deleted');
    } catch (error) {
      failure = error;
    }
  }
  return failure;
}

/** deleteLeftovers with blocking requests. */
export function deleteLeftoversSync(deleter: Deleter, leftovers: Leftover[]): void {
  for (const known of [...leftovers]) {
    if (deleteKnownSync(deleter, known.path, known.token)) leftovers.splice(leftovers.indexOf(known), 1);
  }
}
