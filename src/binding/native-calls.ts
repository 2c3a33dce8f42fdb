// Native calls on worker threads, counted while they run: a process that leaves while one is
// running (an exchange the iLO sits on, a ChifClose) must leave with exitNow (chif-library.ts).
import { ChifLibraryError } from '../errors.js';

export type Fn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

/** Native calls running on worker threads right now (an exchange the iLO sits on, a ChifClose). */
let nativeCallsInFlight = 0;

/** Whether a native call is still running: then a normal exit would wait for it (see exitNow). */
export function nativeCallsPending(): boolean {
  return nativeCallsInFlight > 0;
}


/** A native call on a worker thread, counted while it runs. */
export function callAsync(fn: Fn, ...args: unknown[]): Promise<unknown> {
  return track(
    new Promise((resolve, reject) => {
      fn.async(...args, (error: unknown, result: unknown) => (error ? reject(new ChifLibraryError(`a CHIF call failed: ${String(error)}`)) : resolve(result)));
    }),
  );
}

export function track<T>(call: Promise<T>): Promise<T> {
  nativeCallsInFlight++;
  const done = () => nativeCallsInFlight--;
  call.then(done, done);
  return call;
}
