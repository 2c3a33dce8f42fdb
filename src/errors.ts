// Every error ilo-agent raises on purpose carries a stable `code`; only cli/exit-codes.ts maps
// codes to exit numbers. Messages never carry tokens, passwords or auth headers.

export type ErrorCode = 'E_INTERNAL' | 'E_USAGE' | 'E_INPUT';

export class IloAgentError extends Error {
  readonly code: ErrorCode;

  constructor(message: string, code: ErrorCode = 'E_INTERNAL', options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A flag, option or argument the user gave is wrong. */
export class UsageError extends IloAgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'E_USAGE', options);
  }
}

/** A file or document the user named (JSON, mockup folder) cannot be used. */
export class InvalidInputError extends IloAgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'E_INPUT', options);
  }
}
