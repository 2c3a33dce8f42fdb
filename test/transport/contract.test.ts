// One Transport contract (test/helpers/transport-contract.ts), run against every transport: the
// scripted in-memory one the session and guardian tests use, CHIF over the in-memory library its
// unit tests use, HTTPS to the simulator, CHIF through the emulator library to the simulator, and
// HTTPS to the simulator's iLO 7 vNIC listener with each of the vNIC's TLS trusts. Each case runs
// on a fresh simulator (or in-memory service).
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import {
  loadChifLibrary,
  openChifTransport,
  openHttpsTransport,
  openInbandTransport,
  openVnicTransport,
  planVnic,
  type Transport,
  type TransportRequest,
  type TransportResponse,
  type VnicTrust,
} from '../../src/transport/index.js';
import { FakeChifLibrary } from '../helpers/fake-chif-library.js';
import { client } from '../helpers/https-client.js';
import { scripted } from '../helpers/scripted-transport.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { transportContract, type ContractCapabilities, type ContractPeer } from '../helpers/transport-contract.js';

const RESOURCES = ['/redfish/v1/Systems/1', '/redfish/v1/Managers/1', '/redfish/v1/Chassis/1', '/redfish/v1/EventService'] as const;
const SUBSCRIPTIONS = '/redfish/v1/EventService/Subscriptions';
const DESTINATION = 'https://events.example/contract';
const subscription = (payload: string) => Buffer.from(JSON.stringify({ Destination: DESTINATION, Context: payload }));
const HTTPS: ContractCapabilities = { requestSync: false, library: false };

// ---- the in-memory doubles: a tiny Redfish service --------------------------------------------

/** The tiny service both in-memory doubles answer with; `posted` keeps every POST body. */
function tinyService() {
  const posted: Uint8Array[] = [];
  // As a real iLO sends them: mixed case on the wire; the transport lower-cases them.
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}): TransportResponse => ({
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'OData-Version': '4.0', ...headers },
    body: Buffer.from(JSON.stringify(body)),
  });
  const large = answer(200, { '@odata.id': '/redfish/v1/Large', Data: 'y'.repeat(1024 * 1024) });
  const route = (request: { method: string; path: string; body?: Uint8Array }): TransportResponse => {
    if (request.method === 'POST' && request.path === SUBSCRIPTIONS) {
      posted.push(request.body ?? new Uint8Array(0));
      return answer(201, {}, { Location: `${SUBSCRIPTIONS}/${posted.length}` });
    }
    if (request.method === 'GET' && request.path === '/redfish/v1/Large') return large;
    if (request.method === 'GET' && (RESOURCES as readonly string[]).includes(request.path)) return answer(200, { '@odata.id': request.path });
    return answer(404, { error: { code: 'Base.1.18.GeneralError' } });
  };
  return { posted, large, route };
}

function scriptedPeer(timeoutMs: number): ContractPeer {
  const holds = new Set<string>();
  const waiting: Array<() => void> = [];
  const { posted, large, route } = tinyService();
  const handler = async (request: TransportRequest): Promise<TransportResponse> => {
    if (holds.delete(request.path)) await new Promise<void>((resolve) => waiting.push(resolve));
    return route(request);
  };
  const { transport, calls } = scripted(handler, { timeoutMs });
  return {
    transport,
    headers: {},
    resources: RESOURCES,
    missing: '/redfish/v1/NoSuchThing',
    large: { path: '/redfish/v1/Large', prepare: async () => large.body },
    post: { path: SUBSCRIPTIONS, body: subscription, delivered: async () => posted.at(-1) as Uint8Array },
    received: () => calls.length,
    hold: (path) => holds.add(path),
    held: () => waiting.length,
    release: () => waiting.splice(0).forEach((go) => go()),
    close: () => transport.close(),
  };
}

/** The CHIF transport on the in-memory library (test/helpers/fake-chif-library.ts), packets and all. */
async function fakeChifPeer(timeoutMs: number): Promise<ContractPeer> {
  const { posted, large, route } = tinyService();
  const lib = new FakeChifLibrary((call) => {
    const { status, headers, body } = route({ ...call, body: Buffer.from(call.body, 'latin1') });
    return { status, headers: { ...headers }, body: Buffer.from(body) };
  });
  const transport = await openChifTransport({ library: lib, credentials: null, timeoutMs });
  return {
    transport,
    headers: {},
    resources: RESOURCES,
    missing: '/redfish/v1/NoSuchThing',
    large: { path: '/redfish/v1/Large', prepare: async () => large.body },
    post: { path: SUBSCRIPTIONS, body: subscription, delivered: async () => posted.at(-1) as Uint8Array },
    // a held request has reached the far side, as on a simulator
    received: () => lib.executed.length + lib.hung,
    hold: (path) => lib.hold(path),
    held: () => lib.hung,
    release: () => lib.release(),
    async close() {
      lib.release();
      await transport.close();
      expect(lib.refused).toEqual([]); // every packet within the library's sizes
    },
  };
}

// ---- the simulator behind a real transport ----------------------------------------------------

/**
 * The far side is a simulator; what the cases need of it is done over a separate plain HTTPS
 * client (test/helpers/https-client.ts), never through the transport under test.
 */
async function simulatorPeer(s: Simulator, transport: Transport, cleanup: () => void = () => undefined): Promise<ContractPeer> {
  const side = client({ url: s.url, ca: s.ca });
  const { token } = await side.login();
  const LARGE = '/redfish/v1/Systems/1';
  return {
    transport,
    headers: { 'X-Auth-Token': token },
    resources: RESOURCES,
    missing: '/redfish/v1/NoSuchThing',
    large: {
      path: LARGE,
      async prepare() {
        const patched = await side.call('PATCH', LARGE, { token, body: { AssetTag: 'y'.repeat(1024 * 1024 - 100) } });
        if (patched.status !== 200) throw new Error(`the simulator refused the large AssetTag (${patched.status})`);
        return Buffer.from((await side.call('GET', LARGE, { token })).text);
      },
    },
    post: {
      path: SUBSCRIPTIONS,
      body: subscription,
      async delivered(response) {
        const member = await side.call('GET', new URL(response.headers.location as string, s.url).pathname, { token });
        const { Destination, Context } = member.json as { Destination: string; Context: string };
        return Buffer.from(JSON.stringify({ Destination, Context }));
      },
    },
    received: () => s.state().counters.requests,
    hold: (path) => s.faults.inject({ type: 'hang', path }),
    held: () => s.faults.held,
    release: () => void s.faults.release(),
    async close() {
      s.faults.release();
      await transport.close();
      side.close();
      await s.close();
      cleanup();
    },
  };
}

const sim = (options: SimulatorOptions = {}) => startSimulator({ loginFailureDelayMs: 0, ...options });

// ---- the targets -------------------------------------------------------------------------------

transportContract({
  name: 'scripted (test/helpers/scripted-transport.ts)',
  kind: 'https',
  capabilities: HTTPS,
  open: async ({ timeoutMs }) => scriptedPeer(timeoutMs),
});

transportContract({
  name: 'CHIF over the in-memory library (test/helpers/fake-chif-library.ts)',
  kind: 'chif',
  capabilities: { requestSync: true, library: true },
  open: async ({ timeoutMs }) => fakeChifPeer(timeoutMs),
});

transportContract({
  name: 'HTTPS to the simulator',
  kind: 'https',
  capabilities: HTTPS,
  async open({ timeoutMs }) {
    const s = await sim();
    return simulatorPeer(s, openHttpsTransport({ url: s.url, ca: s.ca, timeoutMs }));
  },
});

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const dir = mkdtempSync(join(tmpdir(), 'ilo-agent-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let sockets = 0;

/** A simulator with a CHIF endpoint, and the emulator pointed at it while the transport lives. */
async function chifPeer(open: () => Promise<Transport>): Promise<ContractPeer> {
  const s = await sim({ chifSocket: join(dir, `c${sockets++}.sock`) });
  // The emulator reads its socket when it opens a channel; each case has its own simulator.
  const previous = process.env.ILO_CHIF_EMULATOR_SOCKET;
  process.env.ILO_CHIF_EMULATOR_SOCKET = s.chifSocket as string;
  const restore = () => {
    if (previous === undefined) delete process.env.ILO_CHIF_EMULATOR_SOCKET;
    else process.env.ILO_CHIF_EMULATOR_SOCKET = previous;
  };
  try {
    return await simulatorPeer(s, await open(), restore);
  } catch (error) {
    restore();
    await s.close();
    throw error;
  }
}

const CHIF: ContractCapabilities = { requestSync: true, library: true };

transportContract({
  name: 'CHIF through the emulator library to the simulator (openInbandTransport, no credentials)',
  kind: 'chif',
  capabilities: CHIF,
  open: ({ timeoutMs }) => chifPeer(() => openInbandTransport({ libraryPath: EMULATOR, credentials: null, timeoutMs })),
});

transportContract({
  name: 'CHIF through the emulator library to the simulator (openChifTransport, with in-band credentials)',
  kind: 'chif',
  capabilities: CHIF,
  open: ({ timeoutMs }) =>
    chifPeer(async () => openChifTransport({ library: await loadChifLibrary(EMULATOR), credentials: { username: 'Administrator', password: 'password' }, timeoutMs })),
});

// The vNIC listener is on 127.0.0.1: a loopback address in its /30 stands for the host's side of the link.
const vnicLink = () => ({ lo: [{ address: '127.0.0.2', netmask: '255.255.255.252', family: 'IPv4' }] });
const fingerprint = (pem: string) => `sha256:${new X509Certificate(pem).fingerprint256}`;

for (const [how, trust] of [
  ['link-bound', () => ({})],
  ['pinned', (s: Simulator) => ({ pin: fingerprint(s.vnicCa as string) })],
  ['--ca-cert with --tls-servername', (s: Simulator) => ({ ca: s.vnicCa as string, servername: 'ilo-simulator.local' })],
] as Array<[string, (s: Simulator) => VnicTrust]>) {
  transportContract({
    name: `the iLO 7 vNIC (${how})`,
    kind: 'https',
    capabilities: HTTPS,
    async open({ timeoutMs }) {
      const s = await sim({ profile: 'ilo7' });
      const plan = planVnic(s.vnicUrl as string, trust(s), { timeoutMs }, vnicLink);
      return simulatorPeer(s, openVnicTransport(plan));
    },
  });
}
