// How a CLI run ends: normally, by a signal, or by a crash. A stop aborts the work in progress;
// cleanup (the session's DELETE) still runs, bounded by the shutdown timeout.
import { AbortedError } from '../errors.js';
import { signalExitCode } from './exit-codes.js';

export type StopReason = { kind: 'signal'; signal: NodeJS.Signals } | { kind: 'crash'; error: unknown };

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** What a last-resort cleanup needs of an open client. */
export interface SyncClosable {
  session: { closeSync(): boolean };
}

export class Lifecycle {
  readonly #stop = new AbortController();
  readonly #deadline = new AbortController();
  #reason: StopReason | undefined;
  #stoppedAt: number | undefined;
  #signalIsNormalStop = false;
  #timers: NodeJS.Timeout[] = [];
  readonly #open = new Set<SyncClosable>();
  shutdownTimeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS;
  /** Called when cleanup overran the shutdown timeout (main.ts then exits at once). */
  onOverrun: (() => void) | undefined;

  /** Aborts the work in progress when a stop is asked for. */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  /** Aborts cleanup that overran the shutdown timeout. */
  get closeSignal(): AbortSignal {
    return this.#deadline.signal;
  }

  get reason(): StopReason | undefined {
    return this.#reason;
  }

  /** When the shutdown timeout ends (Date.now() clock), once a stop began. */
  get shutdownDeadline(): number | undefined {
    return this.#stoppedAt === undefined ? undefined : this.#stoppedAt + this.shutdownTimeoutMs;
  }

  get stopsOnSignal(): boolean {
    return this.#signalIsNormalStop;
  }

  /** Keeps an open client until its session is closed, for lastResortCleanup(). */
  track(client: SyncClosable): void {
    this.#open.add(client);
  }

  /**
   * On a way out where nothing asynchronous runs any more (the 'exit' event, the overrun exit):
   * deletes every session still open with a blocking request, where the transport allows it.
   */
  lastResortCleanup(): number {
    let deleted = 0;
    for (const client of this.#open) {
      // closeSync() knows whether the iLO still holds the session (a failed logout keeps it).
      if (client.session.closeSync()) deleted++;
    }
    this.#open.clear();
    return deleted;
  }

  /** For commands (simulate) whose normal way to end is a signal: exit 0 then. */
  signalEndsNormally(): void {
    this.#signalIsNormalStop = true;
  }

  stop(signal: NodeJS.Signals): void {
    this.#begin({ kind: 'signal', signal }, new AbortedError(`stopped by ${signal}`, signal));
  }

  crash(error: unknown): void {
    this.#begin({ kind: 'crash', error }, new AbortedError('stopped by an internal error'));
  }

  /** The exit code the stop imposes, if any. */
  exitCode(): number | undefined {
    const reason = this.#reason;
    if (!reason) return undefined;
    if (reason.kind === 'crash') return 1;
    return this.#signalIsNormalStop ? 0 : signalExitCode(reason.signal);
  }

  dispose(): void {
    this.#timers.forEach(clearTimeout);
  }

  #begin(reason: StopReason, abort: AbortedError): void {
    if (this.#reason) return; // the first stop decides; later ones must not cut the cleanup short
    this.#reason = reason;
    this.#stoppedAt = Date.now();
    this.#stop.abort(abort);
    const deadline = setTimeout(() => this.#deadline.abort(new AbortedError('shutdown timeout')), this.shutdownTimeoutMs);
    // A last resort if cleanup ignores the deadline: never hang past it.
    const overrun = setTimeout(() => this.onOverrun?.(), this.shutdownTimeoutMs + 2000);
    deadline.unref();
    overrun.unref();
    this.#timers.push(deadline, overrun);
  }
}
