// The signals that stop ilo-agent; SIGBREAK is Windows' Ctrl+Break.
export const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] =
  process.platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGBREAK'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
