// Commands run in-process with a connector of the test's own (buildProgram's last argument): the
// command's parsing, its output and its exit outcome, without spawning a process or an iLO.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../../src/cli/lifecycle.js';
import { buildProgram } from '../../src/cli/program.js';
import type { Connector } from '../../src/cli/connection.js';
import { RedfishClient, type ConnectedClient } from '../../src/client/index.js';
import type { TransportResponse } from '../../src/transport/index.js';
import { json } from '../helpers/scripted-transport.js';

const SYSTEM = { '@odata.id': '/redfish/v1/Systems/1', Id: '1', PowerState: 'On', Oem: { Hpe: { PostState: 'FinishedPost' } } };

function run(args: string[], answer: (method: string, path: string) => TransportResponse) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  const sent: string[] = [];
  const client = Object.assign(
    new RedfishClient({
      request: async (r) => {
        sent.push(`${r.method} ${r.path}`);
        return answer(r.method, r.path);
      },
    }),
    { session: { path: null, id: null }, transportDescription: 'test' },
  ) as unknown as ConnectedClient;
  const connector: Connector = {
    withClient: (_command, work) => work(client),
    withOwnSession: () => Promise.reject(new Error('not in this test')),
    readStdin: () => Promise.reject(new Error('not in this test')),
    connectOptions: () => Promise.reject(new Error('not in this test')),
    localOptions: () => Promise.reject(new Error('not in this test')),
  };
  const program = buildProgram({ stdout: out, stderr: err, stdin: new PassThrough() }, {}, new Lifecycle(), () => {
    throw new Error('no logger in this test');
  }, connector);
  return { done: program.parseAsync(['--output', 'json', ...args], { from: 'user' }), stdout: () => stdout, sent };
}


describe('commands in-process, with a connector of the test', () => {
  it('get --value: one request through the given client, the value on stdout', async () => {
    const r = run(['get', '/redfish/v1/Systems/1', '--value', 'Oem.Hpe.PostState'], () => json(200, SYSTEM));
    await r.done;
    expect(r.stdout()).toBe('FinishedPost\n');
    expect(r.sent).toEqual(['GET /redfish/v1/Systems/1']);
  });

  it('set --check: an outcome of 10 when the value differs, and no PATCH', async () => {
    const r = run(['set', '--check', '/redfish/v1/Systems/1', 'PowerState=Off'], () => json(200, SYSTEM));
    await expect(r.done).rejects.toMatchObject({ exitCode: 10 });
    expect(r.sent).toEqual(['GET /redfish/v1/Systems/1']);
    expect(JSON.parse(r.stdout())).toMatchObject({ changed: true, before: { PowerState: 'On' }, after: { PowerState: 'Off' } });
  });
});
