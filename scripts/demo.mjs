// npm run demo: a session cycle against the embedded iLO simulator, with the session table
// read before, during and after. (Until the agent's own commands exist, the cycle is scripted
// here with a bare HTTPS client; it shows what ilo-agent guarantees: the table ends empty.)
import { Agent, request } from 'node:https';
import { startSimulator } from '../dist/simulator/index.js';

const sim = await startSimulator({ profile: 'ilo6' });
const agent = new Agent({ ca: sim.ca, keepAlive: true });

function call(method, path, { token, body } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers = { 'OData-Version': '4.0' };
    if (payload) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) });
    if (token) headers['X-Auth-Token'] = token;
    const req = request(new URL(path, sim.url), { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const table = () => {
  const sessions = sim.sessions();
  return `${sessions.length}${sessions.length ? `  [${sessions.map((s) => `${s.id} ${s.user}/${s.tag}`).join(', ')}]` : ''}`;
};
const say = (line) => process.stdout.write(`${line}\n`);

try {
  say(`Simulated iLO 6 at ${sim.url} (session cap ${sim.state().maxSessions}, idle timeout 30 min)`);
  say(`sessions on the iLO before: ${table()}`);

  const login = await call('POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: 'Administrator', Password: 'password' } });
  const token = login.headers['x-auth-token'];
  const sessionPath = new URL(login.headers.location).pathname; // keep the path only: Location is absolute
  say(`login   POST /redfish/v1/SessionService/Sessions -> ${login.status}, Location ${login.headers.location}`);
  say(`sessions on the iLO now: ${table()}`);

  const system = await call('GET', '/redfish/v1/Systems/1', { token });
  say(`use     GET /redfish/v1/Systems/1 -> ${system.status}: ${system.json.Model}, PowerState ${system.json.PowerState}`);

  const logout = await call('DELETE', sessionPath, { token });
  say(`logout  DELETE ${sessionPath} -> ${logout.status} ${logout.json.error['@Message.ExtendedInfo'][0].MessageId}`);
  say(`sessions on the iLO after: ${table()}`);

  const reuse = await call('GET', '/redfish/v1/Systems/1', { token });
  say(`the old token now gets ${reuse.status} ${reuse.json.error['@Message.ExtendedInfo'][0].MessageId}`);
  if (sim.sessions().length !== 0) throw new Error('a session was left behind');
} finally {
  agent.destroy();
  await sim.close();
}
