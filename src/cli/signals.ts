// The signals that stop ilo-agent; SIGBREAK is Windows' Ctrl+Break, SIGQUIT a terminal's Ctrl-\
// (by default it kills without cleanup, and dumps core).
export const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] =
  process.platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGBREAK'] : ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** Resolves once `stop` fires (at once if it has): a long-running command's main wait. */
export function untilStopped(stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => (stop.aborted ? resolve() : stop.addEventListener('abort', () => resolve(), { once: true })));
}
