// Following a long operation to its end (DMTF DSP0266, "Asynchronous operations"): a 202 names a
// task monitor in `Location` (or the Task in its body); GETs of the monitor answer 202 while it
// runs, then the operation's final answer. A Task that ends in Exception, Killed or Cancelled is a
// failure even when its final answer is 200.
import { IloAgentError, RedfishError } from '../errors.js';
import { parseJsonBody } from '../redfish/index.js';
import { toRedfishError, type RedfishClient, type RedfishResponse } from './client.js';
import { isPlainObject } from './diff.js';
import { sleep } from './sleep.js';

export interface TaskOptions {
  /** How long to follow it in all (ms). */
  forMs: number;
  /** Between polls when the iLO gives no Retry-After (ms). */
  intervalMs?: number;
  signal?: AbortSignal;
  onProgress?: (task: { state: string | null; percent: number | null; elapsedMs: number }) => void;
}

export type TaskEnd = { done: true; response: RedfishResponse } | { done: false; lastTask: unknown };

const FAILED_STATES = new Set(['Exception', 'Killed', 'Cancelled']);
const DEFAULT_INTERVAL_MS = 2_000;
/** A Retry-After longer than this is not waited for in one go: progress is still read. */
const MAX_PAUSE_MS = 10_000;

/** Whether an answer starts a task: 202 with a monitor or a Task. */
export function startsTask(response: RedfishResponse): boolean {
  return response.status === 202 && monitorOf(response) !== undefined;
}

function monitorOf(response: RedfishResponse): string | undefined {
  const location = response.headers.location;
  if (location) return location;
  const body = parseJsonBody(response.body);
  if (!isPlainObject(body)) return undefined;
  const link = body.TaskMonitor ?? body['@odata.id'];
  return typeof link === 'string' ? link : undefined;
}

export async function followTask(client: RedfishClient, started: RedfishResponse, from: string, options: TaskOptions): Promise<TaskEnd> {
  const monitor = client.linkPath(monitorOf(started) as string, from);
  const begin = Date.now();
  let last: unknown = parseJsonBody(started.body);
  let retryAfter = retryAfterMs(started);
  for (;;) {
    const left = begin + options.forMs - Date.now();
    if (left <= 0) return { done: false, lastTask: last };
    await sleep(Math.min(retryAfter ?? options.intervalMs ?? DEFAULT_INTERVAL_MS, MAX_PAUSE_MS, left), options.signal);
    const response = await client.request('GET', monitor, { signal: options.signal });
    if (response.status !== 202) {
      const end = failedTask(response, monitor);
      if (end) throw end;
      if (response.status >= 400) throw toRedfishError('GET', monitor, response);
      return { done: true, response };
    }
    last = parseJsonBody(response.body);
    retryAfter = retryAfterMs(response);
    const task = isPlainObject(last) ? last : {};
    options.onProgress?.({
      state: typeof task.TaskState === 'string' ? task.TaskState : null,
      percent: typeof task.PercentComplete === 'number' ? task.PercentComplete : null,
      elapsedMs: Date.now() - begin,
    });
  }
}

/** A final answer that is a Task which did not complete: a RedfishError with its messages. */
function failedTask(response: RedfishResponse, monitor: string): IloAgentError | undefined {
  const body = parseJsonBody(response.body);
  if (!isPlainObject(body) || typeof body.TaskState !== 'string' || !FAILED_STATES.has(body.TaskState)) return undefined;
  const messages = Array.isArray(body.Messages) ? body.Messages.filter(isPlainObject).map((m) => ({ MessageId: String(m.MessageId ?? ''), ...(Array.isArray(m.MessageArgs) ? { MessageArgs: m.MessageArgs.map(String) } : {}) })) : [];
  return new RedfishError({ status: response.status, method: 'GET', path: monitor, messages, body: `the task ended in ${body.TaskState}` });
}

function retryAfterMs(response: RedfishResponse): number | undefined {
  const seconds = Number(response.headers['retry-after']);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
