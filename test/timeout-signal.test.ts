// timeoutSignal(): a per-request bound that survives a garbage collection inside AbortSignal.any().
// On Node 20, AbortSignal.any([outer, AbortSignal.timeout(ms)]) never aborts once a collection has
// taken the timeout signal (nodejs/node#57736): the bound silently becomes the outer deadline. A
// loaded pass of this suite met it (the guardian's hung DELETE waited its whole 20 s deadline).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { timeoutSignal } from '../src/timeout-signal.js';
import { PROJECT_ROOT } from './helpers/shared.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The collector, in this worker (vitest does not start it with --expose-gc).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function collectWhileWaiting(ms: number): Promise<void> {
  for (let waited = 0; waited < ms; waited += 20) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('timeoutSignal', () => {
  it('inside AbortSignal.any(), aborts after its time even with collections meanwhile, with a TimeoutError reason', async () => {
    const outer = new AbortController();
    const combined = AbortSignal.any([outer.signal, timeoutSignal(50)]);
    const aborted = new Promise<unknown>((resolve) => combined.addEventListener('abort', () => resolve(combined.reason), { once: true }));
    await collectWhileWaiting(200);
    expect(combined.aborted).toBe(true);
    expect(await aborted).toMatchObject({ name: 'TimeoutError' });
    expect(outer.signal.aborted).toBe(false);
  });

  it('src/ uses it, never AbortSignal.timeout() (the simulator aside: it bounds nothing of ours)', () => {
    const src = join(PROJECT_ROOT, 'src');
    const offenders = readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.startsWith('simulator/') && f !== 'timeout-signal.ts')
      .filter((f) => /AbortSignal\.timeout\(/.test(readFileSync(join(src, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
