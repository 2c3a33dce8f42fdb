// The simulator's control view (`/__sim/…`, behind the per-run `X-Sim-Control` token): what
// tests and `ilo-agent simulate` users drive the simulator with over HTTP. See docs/simulator.md.
import { timingSafeEqual } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import { isJsonObject } from '../redfish/index.js';
import type { AppAccountState } from './app-accounts.js';
import type { AppFaults, AppFaultsView } from './app-faults.js';
import type { ChifCore } from './chif-core.js';
import type { ChifFaults } from './chif-faults.js';
import type { FaultController, FaultRule } from './faults.js';
import { parseTarget } from './paths.js';
import type { SimRequest, SimResponse } from './redfish-service.js';
import type { SimulatorState } from './simulator-api.js';

export interface Controls {
  state(): SimulatorState;
  faults: FaultController;
  setLatency(latency: { requestMs?: number; loginMs?: number }): void;
  expireSessions(): number;
  resetIlo(seconds?: number): void;
  chif: ChifCore;
  setAppFaults(faults: AppFaults): Promise<AppFaultsView>;
  clearAppFaults(): Promise<void>;
  setAccount(state: AppAccountState): void;
}

/**
 * The control view for tests and checks, under `/__sim/`. Without the right `X-Sim-Control`
 * header it does not exist: such requests go to the Redfish service like any other path.
 */
export async function control(request: SimRequest, token: string, controls: Controls): Promise<SimResponse | undefined> {
  const key = parseTarget(request.target)?.key;
  if (!key?.startsWith('/__sim/')) return undefined;
  const given = Buffer.from(request.headers['x-sim-control'] ?? '');
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;

  const json = (status: number, body: unknown): SimResponse => {
    const bytes = Buffer.from(JSON.stringify(body));
    return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(bytes.length) }, body: bytes };
  };
  const method = request.method.toUpperCase();
  let input: unknown;
  try {
    input = request.body.length > 0 ? JSON.parse(request.body.toString('utf8')) : {};
  } catch {
    return json(400, { error: 'request body is not valid JSON' });
  }
  try {
    switch (`${method} ${key}`) {
      case 'GET /__sim/state':
        return json(200, controls.state());
      case 'POST /__sim/faults':
        for (const rule of Array.isArray(input) ? input : [input]) controls.faults.inject(rule as FaultRule);
        return json(200, { faults: controls.faults.rules() });
      case 'DELETE /__sim/faults':
        controls.faults.clear();
        return json(200, { faults: [] });
      case 'PUT /__sim/latency':
        controls.setLatency(input as { requestMs?: number; loginMs?: number });
        return json(200, controls.state().latency);
      case 'POST /__sim/expire':
        return json(200, { expired: controls.expireSessions() });
      case 'POST /__sim/reset': {
        const seconds = isJsonObject(input) ? input.seconds : undefined;
        if (seconds !== undefined && (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0)) {
          return json(400, { error: 'seconds must be a whole number of seconds, 0 or more' });
        }
        controls.resetIlo(seconds as number | undefined);
        return json(200, { resetting: true });
      }
      case 'POST /__sim/release':
        return json(200, { released: controls.faults.release() });
      case 'GET /__sim/chif-faults':
        return json(200, controls.chif.knobs.view());
      case 'PUT /__sim/chif-faults':
        return json(200, controls.chif.knobs.set(input as ChifFaults));
      case 'DELETE /__sim/chif-faults':
        controls.chif.knobs.clear();
        return json(200, {});
      case 'GET /__sim/app-faults':
        return json(200, controls.state().app.faults);
      case 'PUT /__sim/app-faults':
        return json(200, await controls.setAppFaults(input as AppFaults));
      case 'DELETE /__sim/app-faults':
        await controls.clearAppFaults();
        return json(200, {});
      case 'PUT /__sim/app-account': {
        const wanted = (input as { state?: unknown }).state;
        controls.setAccount(wanted as AppAccountState);
        return json(200, controls.state().app.accounts);
      }
      default:
        return json(404, { error: `no control endpoint ${method} ${key}` });
    }
  } catch (error) {
    if (error instanceof InvalidInputError) return json(400, { error: error.message });
    throw error;
  }
}
