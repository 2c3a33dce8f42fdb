// Long operations as tasks (the `task` / `task-fail` faults): 202 with a task monitor, the monitor
// answering 202 with the Task while it runs, then the operation's own answer; the Task readable.
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { client, messageIds } from '../helpers/https-client.js';

const RESET = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
let s: Simulator | undefined;
let c: ReturnType<typeof client> | undefined;
afterEach(async () => {
  c?.close();
  await s?.close();
});

describe('tasks', () => {
  it('task: 202 + monitor; 202 with the running Task until taskMs has passed, then the operation\'s answer; the action done', async () => {
    let now = 1_000_000;
    s = await startSimulator({ loginFailureDelayMs: 0, clock: () => now, taskMs: 5_000, faults: [{ type: 'task', method: 'POST', path: RESET }] });
    c = client(s);
    const { token } = await c.login();
    const started = await c.call('POST', RESET, { token, body: { ResetType: 'ForceOff' } });
    expect(started.status).toBe(202);
    const monitor = new URL(started.headers.location as string, s.url).pathname;
    expect(monitor).toBe('/redfish/v1/TaskService/TaskMonitors/1');
    expect(started.json).toMatchObject({ TaskState: 'Running', TaskMonitor: monitor });
    now += 1_000;
    const running = await c.call('GET', monitor, { token });
    expect(running.status).toBe(202);
    expect(running.json).toMatchObject({ TaskState: 'Running', PercentComplete: 20 });
    now += 5_000;
    const done = await c.call('GET', monitor, { token });
    expect(done.status).toBe(200);
    expect(messageIds(done.json)).toEqual(['Base.1.18.Success']);
    const task = await c.call('GET', '/redfish/v1/TaskService/Tasks/1', { token });
    expect(task.json).toMatchObject({ TaskState: 'Completed', TaskStatus: 'OK', PercentComplete: 100 });
    expect((await c.call('GET', '/redfish/v1/Systems/1', { token })).json).toMatchObject({ PowerState: 'Off' });
  });

  it('task-fail: the monitor ends with an error, the Task in Exception', async () => {
    s = await startSimulator({ loginFailureDelayMs: 0, taskMs: 0, faults: [{ type: 'task-fail', method: 'POST', path: RESET }] });
    c = client(s);
    const { token } = await c.login();
    const started = await c.call('POST', RESET, { token, body: { ResetType: 'ForceOff' } });
    expect(started.status).toBe(202);
    const done = await c.call('GET', new URL(started.headers.location as string, s.url).pathname, { token });
    expect(done.status).toBe(500);
    expect((await c.call('GET', '/redfish/v1/TaskService/Tasks/1', { token })).json).toMatchObject({ TaskState: 'Exception', TaskStatus: 'Critical' });
  });

  it('a refused request is not a task (the error answers at once); a monitor needs a session', async () => {
    s = await startSimulator({ loginFailureDelayMs: 0, faults: [{ type: 'task', on: 'request', method: 'POST', times: 0 }] });
    c = client(s);
    const { token } = await c.login();
    expect((await c.call('POST', RESET, { token, body: { ResetType: 'Sideways' } })).status).toBe(400);
    const started = await c.call('POST', RESET, { token, body: { ResetType: 'On' } });
    expect(started.status).toBe(202);
    expect((await c.call('GET', new URL(started.headers.location as string, s.url).pathname)).status).toBe(401);
  });
});
