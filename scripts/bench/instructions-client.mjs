// One client of count-instructions.mjs: N sequential GETs through one session, by the bare
// node:https client, the HTTPS transport alone, or the library. Usage: SUBJECT N URL CA_FILE
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
const [subject, nArg, URL_ARG, caFile] = process.argv.slice(2);
const ca = readFileSync(caFile, 'utf8');
const { hostname, port } = new URL(URL_ARG);
const N = Number(nArg);
const P = '/redfish/v1/Systems/1';
let one, done;
if (subject === 'raw') {
  const agent = new Agent({ keepAlive: true, ca });
  const send = (method, path, headers, body) => new Promise((resolve, reject) => {
    const req = request({ hostname, port: Number(port), method, path, headers, agent }, (res) => {
      const chunks = []; res.on('data', (c) => chunks.push(c)); res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) })); res.on('error', reject);
    });
    req.on('error', reject); req.end(body);
  });
  const login = await send('POST', '/redfish/v1/SessionService/Sessions', { 'Content-Type': 'application/json', 'OData-Version': '4.0', Accept: 'application/json' }, JSON.stringify({ UserName: 'Administrator', Password: 'password' }));
  const headers = { 'X-Auth-Token': login.headers['x-auth-token'], 'OData-Version': '4.0', Accept: 'application/json' };
  one = async () => JSON.parse((await send('GET', P, headers)).body.toString('utf8'));
  done = async () => { await send('DELETE', new URL(login.headers.location, 'https://x').pathname, headers); agent.destroy(); };
} else if (subject === 'transport') {
  const { openHttpsTransport } = await import(new URL('../../dist/transport/index.js', import.meta.url).href);
  const t = openHttpsTransport({ url: URL_ARG, ca });
  const login = await t.request({ method: 'POST', path: '/redfish/v1/SessionService/Sessions', headers: { 'Content-Type': 'application/json' }, body: Buffer.from(JSON.stringify({ UserName: 'Administrator', Password: 'password' })) });
  const headers = { 'X-Auth-Token': login.headers['x-auth-token'] };
  one = async () => JSON.parse((await t.request({ method: 'GET', path: P, headers })).body.toString('utf8'));
  done = async () => { await t.request({ method: 'DELETE', path: new URL(login.headers.location, 'https://x').pathname, headers }); await t.close(); };
} else {
  const { openSession } = await import(new URL('../../dist/client/index.js', import.meta.url).href);
  const client = await openSession({ url: URL_ARG, ca, username: 'Administrator', password: 'password' });
  one = () => client.get(P);
  done = () => client.close();
}
for (let i = 0; i < N; i++) { const b = await one(); if (b['@odata.id'] !== P) throw new Error(`unexpected answer: ${JSON.stringify(b).slice(0, 200)}`); }
await done();
