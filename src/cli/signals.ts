// Signal handling lives in cli/ only. SIGBREAK is Windows' Ctrl+Break.
export const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] =
  process.platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGBREAK'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Resolves with the first shutdown signal. Later signals are swallowed while the caller shuts
 * down, so a second Ctrl+C cannot cut the cleanup short; `dispose()` removes the handlers.
 */
export function onShutdownSignal(): { signal: Promise<NodeJS.Signals>; dispose(): void } {
  let resolve!: (signal: NodeJS.Signals) => void;
  const signal = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const handler = (received: NodeJS.Signals) => resolve(received);
  for (const s of SHUTDOWN_SIGNALS) process.on(s, handler);
  return {
    signal,
    dispose: () => {
      for (const s of SHUTDOWN_SIGNALS) process.off(s, handler);
    },
  };
}
