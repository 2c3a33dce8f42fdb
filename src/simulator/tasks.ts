// Long operations as a Redfish service runs them (DMTF DSP0266, "Asynchronous operations"): the
// request is answered 202 Accepted with a task monitor in `Location`; a GET of the monitor answers
// 202 with the Task while it runs, then the operation's own final answer. The Task itself is
// readable under TaskService/Tasks. Which iLO operations run as tasks, and exactly how iLO words
// them, is unverified: the simulator turns any request into one on demand (the `task` and
// `task-fail` faults), so clients' handling can be tested.

export interface TaskAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

interface Task {
  id: string;
  startedAt: number;
  doneAt: number;
  /** The operation's own answer, given by the monitor at the end (or an error for a failing task). */
  final: TaskAnswer;
  fails: boolean;
}

const MONITORS = '/redfish/v1/TaskService/TaskMonitors/';
const TASKS = '/redfish/v1/TaskService/Tasks/';

export class TaskBoard {
  readonly #tasks = new Map<string, Task>();
  #next = 1;

  constructor(
    /** How long a task runs. */
    readonly durationMs: number,
    readonly failure: () => TaskAnswer,
    readonly clock: () => number = Date.now,
  ) {}

  /** Starts a task whose end is `final` (or a failure); answers the 202 that says so. */
  start(final: TaskAnswer, fails: boolean): TaskAnswer {
    const id = String(this.#next++);
    const now = this.clock();
    const task: Task = { id, startedAt: now, doneAt: now + this.durationMs, final, fails };
    this.#tasks.set(id, task);
    return { status: 202, body: this.#view(task), headers: { Location: `${MONITORS}${id}`, 'Retry-After': '1' } };
  }

  /** A GET of a task monitor (`key` lower-cased), or undefined when it is none. */
  monitor(key: string): TaskAnswer | undefined {
    const task = this.#find(key, MONITORS);
    if (!task) return undefined;
    if (this.clock() < task.doneAt) return { status: 202, body: this.#view(task), headers: { Location: `${MONITORS}${task.id}`, 'Retry-After': '1' } };
    return task.fails ? this.failure() : task.final;
  }

  /** A GET of the Task resource, or undefined. */
  task(key: string): TaskAnswer | undefined {
    const task = this.#find(key, TASKS);
    return task ? { status: 200, body: this.#view(task), headers: {} } : undefined;
  }

  #find(key: string, prefix: string): Task | undefined {
    const lower = prefix.toLowerCase();
    if (!key.startsWith(lower)) return undefined;
    return this.#tasks.get(key.slice(lower.length).replace(/\/$/, ''));
  }

  #view(task: Task): Record<string, unknown> {
    const now = this.clock();
    const done = now >= task.doneAt;
    const state = !done ? 'Running' : task.fails ? 'Exception' : 'Completed';
    const percent = done ? 100 : Math.min(99, Math.floor(((now - task.startedAt) / Math.max(1, this.durationMs)) * 100));
    return {
      '@odata.id': `${TASKS}${task.id}`,
      '@odata.type': '#Task.v1_4_3.Task',
      Id: task.id,
      Name: `Task ${task.id}`,
      TaskState: state,
      TaskStatus: task.fails && done ? 'Critical' : 'OK',
      PercentComplete: percent,
      StartTime: new Date(task.startedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(done ? { EndTime: new Date(task.doneAt).toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
      TaskMonitor: `${MONITORS}${task.id}`,
      Messages: done ? [{ MessageId: task.fails ? 'Base.1.18.InternalError' : 'Base.1.18.Success' }] : [],
    };
  }
}
