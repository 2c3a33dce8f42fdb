// A signal that aborts after `ms`, with the reason AbortSignal.timeout() gives (a DOMException
// named TimeoutError). Why not AbortSignal.timeout() itself: its timer holds the signal only
// weakly, and Node 20 lets a garbage collection take one that only AbortSignal.any() refers to, so
// the combined signal never aborts (nodejs/node#57736; fixed in later lines, not in 20). A per-request
// bound would then silently become the outer deadline. Here the timer holds the controller.
export function timeoutSignal(ms: number): AbortSignal {
  const controller = new AbortController();
  // unref: a bound never keeps the process alive by itself, as AbortSignal.timeout()'s does not.
  setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms).unref();
  return controller.signal;
}
