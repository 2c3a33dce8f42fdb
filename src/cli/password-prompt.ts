// The password typed at the terminal, without echo: the prompt goes to stderr (stdout carries only
// results), the keys are read in raw mode (nothing echoed, Ctrl-C is a key, not a signal) and the
// terminal is put back whatever happens. Only when both stdin and stderr are terminals: a script
// never waits on a prompt nobody sees.
import { AbortedError, UsageError } from '../errors.js';

export interface PromptIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export function canPrompt(io: PromptIo): boolean {
  return io.stdin.isTTY === true && io.stderr.isTTY === true && typeof io.stdin.setRawMode === 'function';
}

const ENTER = new Set(['\r', '\n']);
const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const CTRL_U = '\u0015';
const ERASE = new Set(['\u007f', '\b']);

/** One line typed at the terminal, not echoed. Ctrl-C → AbortedError (exit 130); Ctrl-D on nothing → UsageError. */
export function promptPassword(io: PromptIo, question: string, signal?: AbortSignal): Promise<string> {
  const input = io.stdin;
  const setRaw = input.setRawMode?.bind(input);
  if (!setRaw) return Promise.reject(new UsageError('cannot read a password from this terminal'));
  return new Promise<string>((resolve, reject) => {
    let typed: string[] = [];
    const finish = (error?: Error) => {
      input.removeListener('data', onData);
      signal?.removeEventListener('abort', onAbort);
      setRaw(false);
      input.pause();
      io.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed.join(''));
      typed = [];
    };
    const onData = (chunk: Buffer | string) => {
      for (const key of chunk.toString()) {
        if (ENTER.has(key)) return finish();
        if (key === CTRL_C) return finish(new AbortedError('the password prompt was interrupted (Ctrl-C); nothing was sent', 'SIGINT'));
        if (key === CTRL_D) {
          if (typed.length === 0) return finish(new UsageError('no password typed (end of input at the prompt); nothing was sent'));
        } else if (ERASE.has(key)) {
          typed.pop();
        } else if (key === CTRL_U) {
          typed = [];
        } else if (key >= ' ') {
          typed.push(key);
        }
      }
    };
    const onAbort = () => finish(signal?.reason instanceof Error ? signal.reason : new AbortedError('the password prompt was interrupted'));
    if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new AbortedError('the password prompt was interrupted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    // Raw before the prompt shows: a key typed as soon as it appears is never echoed.
    setRaw(true);
    io.stderr.write(question);
    input.on('data', onData);
    input.resume();
  });
}
