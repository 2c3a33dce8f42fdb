// The Node floor of a one-shot cycle: what any Node HTTPS client pays for the work the CLI does
// (login POST, GET, logout DELETE) with nothing but node:https. Prints the GET's body.
// Usage: node raw-oneshot.mjs URL CAFILE PATH   (credentials in ILO_USERNAME / ILO_PASSWORD)
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';

const [url, caFile, path] = process.argv.slice(2);
const { hostname, port } = new URL(url);
const agent = new Agent({ keepAlive: true, ca: readFileSync(caFile, 'utf8') });
const send = (method, target, headers, body) =>
  new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path: target, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
const base = { 'OData-Version': '4.0', Accept: 'application/json' };
const login = await send('POST', '/redfish/v1/SessionService/Sessions', { ...base, 'Content-Type': 'application/json' }, JSON.stringify({ UserName: process.env.ILO_USERNAME, Password: process.env.ILO_PASSWORD }));
if (login.status !== 201) throw new Error(`login answered ${login.status}`);
const auth = { ...base, 'X-Auth-Token': login.headers['x-auth-token'] };
try {
  const got = await send('GET', path, auth);
  process.stdout.write(`${JSON.stringify(JSON.parse(got.body.toString('utf8')))}\n`);
} finally {
  await send('DELETE', new URL(login.headers.location, url).pathname, auth);
  agent.destroy();
}
