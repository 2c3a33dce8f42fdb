// The host's power and POST as `ComputerSystem.Reset` drives them. A boot (a restart kind, or On
// from Off) runs over `postMs` of the simulator's clock: `PowerState` On at once,
// `Oem.Hpe.PostState` InPost → InPostDiscoveryComplete → FinishedPost (HPE's enum), and
// `BootProgress.LastState` through DMTF's states to OSRunning. When POST finishes, what settings
// objects staged takes effect (settings.ts). Power off (ForceOff, GracefulShutdown, the button
// while On) is immediate: PowerState Off, PostState PowerOff, LastState None. The state is worked
// out from the clock whenever a request comes in (advance()), so a test clock makes it exact.
// Timings and the split between stages are choices (unverified: iLO publishes none).
import { isObject } from './patch.js';
import type { JsonObject, ResourceStore, StoredResource } from './resource-store.js';

/** Stages of a boot, from the fraction of `postMs` at which each begins. */
const STAGES: ReadonlyArray<{ at: number; post: string; progress: string }> = [
  { at: 0, post: 'InPost', progress: 'PrimaryProcessorInitializationStarted' },
  { at: 0.25, post: 'InPost', progress: 'MemoryInitializationStarted' },
  { at: 0.5, post: 'InPostDiscoveryComplete', progress: 'PCIResourceConfigStarted' },
  { at: 0.75, post: 'InPostDiscoveryComplete', progress: 'SystemHardwareInitializationComplete' },
  { at: 0.9, post: 'FinishedPost', progress: 'OSBootStarted' },
  { at: 1, post: 'FinishedPost', progress: 'OSRunning' },
];
const OFF = { power: 'Off', post: 'PowerOff', progress: 'None' };
const RESTARTS = new Set(['ForceRestart', 'GracefulRestart', 'PowerCycle']);

export interface PowerOptions {
  store: ResourceStore;
  /** How long POST takes, from the reset to OSRunning. */
  postMs: number;
  clock: () => number;
  /** POST has finished: settings staged before it take effect. */
  onPostFinished: () => void;
}

export class PowerControl {
  /** System key → when its boot began, while one is running. */
  readonly #boots = new Map<string, { resource: StoredResource; startedAt: number; finished: boolean }>();

  constructor(readonly o: PowerOptions) {}

  /** A ComputerSystem.Reset the service accepted. */
  reset(key: string, resource: StoredResource, type: unknown): void {
    const on = resource.json.PowerState === 'On';
    const boots = (RESTARTS.has(String(type)) || (!on && (type === 'On' || type === 'PushPowerButton')));
    const offs = type === 'ForceOff' || type === 'GracefulShutdown' || (on && type === 'PushPowerButton');
    if (boots) {
      this.#boots.set(key, { resource, startedAt: this.o.clock(), finished: false });
    } else if (offs) {
      this.#boots.delete(key);
      write(this.o.store, resource, OFF);
    }
    this.advance();
  }

  /** Brings every running boot up to the clock. */
  advance(): void {
    const now = this.o.clock();
    for (const [key, boot] of this.#boots) {
      const fraction = this.o.postMs === 0 ? 1 : (now - boot.startedAt) / this.o.postMs;
      const stage = [...STAGES].reverse().find((s) => fraction >= s.at) ?? (STAGES[0] as (typeof STAGES)[number]);
      write(this.o.store, boot.resource, { power: 'On', post: stage.post, progress: stage.progress });
      if (stage.post === 'FinishedPost' && !boot.finished) {
        boot.finished = true;
        this.o.onPostFinished();
      }
      if (fraction >= 1) this.#boots.delete(key);
    }
  }
}

/** Writes the state into the properties the resource has (a mockup may lack BootProgress). */
function write(store: ResourceStore, resource: StoredResource, state: { power: string; post: string; progress: string }): void {
  const json: JsonObject = { ...resource.json, PowerState: state.power };
  const hpe = isObject(json.Oem) && isObject(json.Oem.Hpe) ? json.Oem.Hpe : undefined;
  if (hpe && 'PostState' in hpe) json.Oem = { ...(json.Oem as JsonObject), Hpe: { ...hpe, PostState: state.post } };
  if (isObject(json.BootProgress)) json.BootProgress = { ...json.BootProgress, LastState: state.progress };
  if (JSON.stringify(json) !== JSON.stringify(resource.json)) store.replace(resource, json);
}
