// Stryker's vitest runner runs tests in worker threads (forks would cost a process per mutant), and workers
// may read process.umask() but not set it; the agent's server sets a strict one around listen(). Under
// mutation only: keep the value the code asks for instead (the real umask stays), and skip, visibly, the one
// test about the umask itself. The serve tests check the socket's mode in a real process.
import { beforeEach } from 'vitest';
import { isMainThread } from 'node:worker_threads';

if (!isMainThread) {
  let mask = process.umask();
  process.umask = ((next?: number | string) => {
    const previous = mask;
    if (next !== undefined) mask = typeof next === 'string' ? Number.parseInt(next, 8) : next;
    return previous;
  }) as typeof process.umask;
  beforeEach((context) => {
    if (context.task.name.includes('umask')) context.skip('needs a real umask: worker threads cannot set one');
  });
}
