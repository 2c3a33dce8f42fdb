// What `doctor` reports: one line per check, in the order a run would meet them.
import { IloAgentError, type ErrorCode } from '../../errors.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  /** Short and stable: `dns`, `tls`, `library`, `login`... */
  name: string;
  status: CheckStatus;
  /** What was found (never a secret). */
  found: string;
  /** What to do about it, for a warning or a failure. */
  fix?: string;
  /** A failure's error code (its exit code in the CLI). */
  code?: ErrorCode;
}

export interface DoctorReport {
  path: 'https' | 'in-band';
  /** Everything the chosen path needs works (warnings allowed). */
  ok: boolean;
  checks: Check[];
}

/** Collects checks as they happen and tells the caller at once (a terminal sees progress). */
export class Checklist {
  readonly checks: Check[] = [];
  readonly #onCheck: ((check: Check) => void) | undefined;

  constructor(onCheck?: (check: Check) => void) {
    this.#onCheck = onCheck;
  }

  add(check: Check): Check {
    this.checks.push(check);
    this.#onCheck?.(check);
    return check;
  }

  ok(name: string, found: string): void {
    this.add({ name, status: 'ok', found });
  }

  warn(name: string, found: string, fix?: string): void {
    this.add({ name, status: 'warn', found, fix });
  }

  /** A failure: from an error of ours (its code and message), or a finding. */
  fail(name: string, found: string | unknown, fix?: string, code: ErrorCode = 'E_INTERNAL'): void {
    if (found instanceof IloAgentError) this.add({ name, status: 'fail', found: found.message, fix, code: found.code });
    else if (found instanceof Error) this.add({ name, status: 'fail', found: found.message, fix, code });
    else this.add({ name, status: 'fail', found: String(found), fix, code });
  }

  skip(name: string, why: string): void {
    this.add({ name, status: 'skip', found: why });
  }

  get failed(): boolean {
    return this.checks.some((c) => c.status === 'fail');
  }
}
