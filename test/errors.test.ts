// Users are told to match on `code` (and scripts on the exit status): every error class's name,
// code and exit number are pinned here, so a change to any of them is a visible decision.
import { describe, expect, it } from 'vitest';
import * as errors from '../src/errors.js';
import { EXIT_CODES, exitCodeFor } from '../src/cli/exit-codes.js';

const {
  AbortedError,
  AgentBusyError,
  AppAccountError,
  AuthError,
  ChifCredentialsError,
  ChifError,
  ChifLibraryError,
  ClosedError,
  ConnectError,
  IloAgentError,
  InvalidInputError,
  LogoutError,
  MissingPropertyError,
  PartialFailureError,
  ProtocolError,
  RedfishError,
  SessionLimitError,
  TimeoutError,
  TlsError,
  UsageError,
  VnicError,
} = errors;

/** [class, an instance, its name, its code, the exit status the CLI gives it]. */
const TABLE: [Function, errors.IloAgentError, string, errors.ErrorCode, number][] = [
  [IloAgentError, new IloAgentError('x'), 'IloAgentError', 'E_INTERNAL', 1],
  [ClosedError, new ClosedError('x'), 'ClosedError', 'E_CLOSED', 1],
  [UsageError, new UsageError('x'), 'UsageError', 'E_USAGE', 2],
  [InvalidInputError, new InvalidInputError('x'), 'InvalidInputError', 'E_INPUT', 2],
  [AuthError, new AuthError('x', { status: 401 }), 'AuthError', 'E_AUTH', 3],
  [SessionLimitError, new SessionLimitError({ status: 503 }), 'SessionLimitError', 'E_SESSION_LIMIT', 4],
  [ConnectError, new ConnectError('x'), 'ConnectError', 'E_CONNECT', 5],
  [AgentBusyError, new AgentBusyError('x'), 'AgentBusyError', 'E_CONNECT', 5],
  [TimeoutError, new TimeoutError('x'), 'TimeoutError', 'E_TIMEOUT', 5],
  [TlsError, new TlsError('x'), 'TlsError', 'E_TLS', 5],
  [ChifError, new ChifError('x', 3), 'ChifError', 'E_CHIF', 5],
  [RedfishError, new RedfishError({ status: 400, method: 'GET', path: '/redfish/v1/', messages: [], body: '' }), 'RedfishError', 'E_REDFISH', 6],
  [PartialFailureError, new PartialFailureError('x'), 'PartialFailureError', 'E_REDFISH', 6],
  [ProtocolError, new ProtocolError('x'), 'ProtocolError', 'E_PROTOCOL', 6],
  [MissingPropertyError, new MissingPropertyError('x'), 'MissingPropertyError', 'E_NO_PROPERTY', 6],
  [ChifLibraryError, new ChifLibraryError('x'), 'ChifLibraryError', 'E_CHIF_LIBRARY', 7],
  [VnicError, new VnicError('x'), 'VnicError', 'E_VNIC', 7],
  [ChifCredentialsError, new ChifCredentialsError('x'), 'ChifCredentialsError', 'E_CHIF_CREDENTIALS', 8],
  [AppAccountError, new AppAccountError('x'), 'AppAccountError', 'E_APP_ACCOUNT', 8],
  // Without a signal: the caller gave up (with one, 128 + its number, below).
  [AbortedError, new AbortedError(), 'AbortedError', 'E_ABORTED', 130],
  // No code of its own: the cause's, so the exit status says why the session could not be deleted.
  [LogoutError, new LogoutError('x', new ConnectError('down')), 'LogoutError', 'E_CONNECT', 5],
];

describe('error classes', () => {
  it.each(TABLE.map(([cls, error, name, code, exit]) => [name, cls, error, code, exit] as const))('%s', (name, cls, error, code, exit) => {
    expect(error).toBeInstanceOf(cls);
    expect(error).toBeInstanceOf(IloAgentError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(EXIT_CODES[error.code]).toBe(exit);
    expect(exitCodeFor(error)).toBe(exit);
  });

  it('the table holds every error class errors.ts exports', () => {
    const exported = (Object.values(errors) as unknown[]).filter((v): v is Function => typeof v === 'function' && (v === IloAgentError || v.prototype instanceof IloAgentError));
    expect(new Set(exported)).toEqual(new Set(TABLE.map(([cls]) => cls)));
  });

  it('every code has exactly one exit number, and ERROR_CODES lists exactly the codes', () => {
    expect([...errors.ERROR_CODES].sort()).toEqual(Object.keys(EXIT_CODES).sort());
    expect(new Set(errors.ERROR_CODES).size).toBe(errors.ERROR_CODES.length);
    for (const code of errors.ERROR_CODES) expect(errors.isErrorCode(code)).toBe(true);
    for (const other of ['E_BUSY', 'e_usage', 'toString', '', 5, null, undefined]) expect(errors.isErrorCode(other)).toBe(false);
  });

  it('LogoutError: a cause that is no IloAgentError, or an abort, is E_PROTOCOL', () => {
    expect(new LogoutError('x', new Error('odd')).code).toBe('E_PROTOCOL');
    expect(new LogoutError('x', new AbortedError()).code).toBe('E_PROTOCOL');
    expect(new LogoutError('x', new RedfishError({ status: 500, method: 'DELETE', path: '/p', messages: [], body: '' })).code).toBe('E_REDFISH');
  });

  it('an abort by a signal exits 128 + its number; anything not ours is internal (1)', () => {
    expect(exitCodeFor(new AbortedError('stop', 'SIGTERM'))).toBe(143);
    expect(exitCodeFor(new AbortedError('stop', 'SIGINT'))).toBe(130);
    expect(exitCodeFor(new Error('bug'))).toBe(1);
    expect(exitCodeFor('thrown string')).toBe(1);
  });
});
