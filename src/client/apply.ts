// `apply`: a desired state, resource by resource in file order, through one session. Each
// resource as `set` does it (read, compare by value, PATCH only what differs, read back), with
// two things `set` does not do: resources with a settings object (`@Redfish.Settings`: BIOS and
// others that apply at the next reset) are compared against what is current AND what is already
// staged, and written to the settings object; and every write carries the ETag that was read, so
// a concurrent change is caught (412), re-read and re-compared once.
import { AbortedError, IloAgentError, RedfishError } from '../errors.js';
import { envelopeMessages, parseJsonBody } from '../redfish/index.js';
import type { DesiredResource, ApplyPlan } from './apply-file.js';
import { toRedfishError, type RedfishClient } from './client.js';
import { applyPatch, diffResource, isPlainObject, project, type JsonObject } from './diff.js';

export interface ApplyOptions {
  /** Change nothing: say what would change. */
  check?: boolean;
  /** Go on after a resource fails (by default the first failure stops the run: order matters). */
  continueOnError?: boolean;
  signal?: AbortSignal;
  /** Told of each resource as soon as it is done. */
  onResource?: (outcome: ResourceOutcome) => void;
}

export type ResourceStatus = 'unchanged' | 'changed' | 'would-change' | 'staged' | 'failed' | 'not-run';

export interface ResourceOutcome {
  path: string;
  /** `staged`: the values already wait in the settings object (nothing written this run). */
  status: ResourceStatus;
  changed: boolean;
  /** The desired properties as the resource held them before. */
  before: JsonObject | null;
  /** As it holds them now (or would, with --check). */
  after: JsonObject | null;
  /** As they wait in the settings object for the next reset; null when nothing waits. */
  pending: JsonObject | null;
  rebootRequired: boolean;
  iloResetRequired: boolean;
  /** MessageIds of the iLO's answer to the write. */
  messages?: string[];
  /** Someone changed it between apply's read and write (412): it was read and compared again. */
  reread?: true;
  error?: { code: string; message: string; messageIds?: string[] };
}

export interface ApplyReport {
  changed: boolean;
  rebootRequired: boolean;
  iloResetRequired: boolean;
  failed: number;
  resources: ResourceOutcome[];
}

export async function applyPlan(client: RedfishClient, plan: ApplyPlan, options: ApplyOptions = {}): Promise<{ report: ApplyReport; failure?: IloAgentError }> {
  const resources: ResourceOutcome[] = [];
  let failure: IloAgentError | undefined;
  for (const desired of plan.resources) {
    let outcome: ResourceOutcome;
    if (failure && !options.continueOnError) {
      outcome = blank(desired.path, 'not-run');
    } else {
      try {
        outcome = await applyOne(client, desired, options);
      } catch (error) {
        // A stop ends the run; anything that is not ours is a bug.
        if (!(error instanceof IloAgentError) || error instanceof AbortedError || options.signal?.aborted) throw error;
        failure ??= error;
        outcome = { ...blank(desired.path, 'failed'), error: { code: error.code, message: error.message, ...(error instanceof RedfishError ? { messageIds: error.messageIds } : {}) } };
      }
    }
    resources.push(outcome);
    options.onResource?.(outcome);
  }
  const report: ApplyReport = {
    changed: resources.some((r) => r.changed),
    rebootRequired: resources.some((r) => r.rebootRequired),
    iloResetRequired: resources.some((r) => r.iloResetRequired),
    failed: resources.filter((r) => r.status === 'failed').length,
    resources,
  };
  return { report, failure };
}

function blank(path: string, status: ResourceStatus): ResourceOutcome {
  return { path, status, changed: false, before: null, after: null, pending: null, rebootRequired: false, iloResetRequired: false };
}

interface Read {
  body: JsonObject;
  etag: string | undefined;
}

async function read(client: RedfishClient, path: string, signal?: AbortSignal): Promise<Read> {
  const response = await client.request('GET', path, { signal });
  if (response.status >= 400) throw toRedfishError('GET', path, response);
  const body = parseJsonBody(response.body);
  if (!isPlainObject(body)) throw new RedfishError({ status: response.status, method: 'GET', path, messages: [], body: 'not a JSON object' });
  const etag = response.headers.etag ?? (typeof body['@odata.etag'] === 'string' ? body['@odata.etag'] : undefined);
  return { body, etag };
}

/** PATCH with If-Match; 'conflict' on 412 (someone changed it since it was read). */
async function write(client: RedfishClient, path: string, patch: JsonObject, etag: string | undefined, signal?: AbortSignal): Promise<string[] | 'conflict'> {
  const response = await client.request('PATCH', path, { body: patch, headers: etag ? { 'If-Match': etag } : {}, signal });
  if (response.status === 412) return 'conflict';
  if (response.status >= 400) throw toRedfishError('PATCH', path, response);
  return envelopeMessages(response.body).map((m) => m.MessageId);
}

/** iLO's success envelope says what the change waits for (iLO.2.x.SystemResetRequired, ResetRequired). */
function waitsFor(messages: readonly string[], staged: boolean): { rebootRequired: boolean; iloResetRequired: boolean } {
  const reboot = staged || messages.some((id) => /\.SystemResetRequired$/.test(id));
  const ilo = messages.some((id) => /\.(ResetRequired|iLOResetRequired)$/.test(id) && !/\.SystemResetRequired$/.test(id));
  return { rebootRequired: reboot, iloResetRequired: ilo };
}

function settingsObjectOf(body: JsonObject): string | undefined {
  const settings = body['@Redfish.Settings'];
  const link = isPlainObject(settings) && isPlainObject(settings.SettingsObject) ? settings.SettingsObject['@odata.id'] : undefined;
  return typeof link === 'string' && link.startsWith('/') ? link : undefined;
}

async function applyOne(client: RedfishClient, desired: DesiredResource, options: ApplyOptions): Promise<ResourceOutcome> {
  const { path, properties } = desired;
  const signal = options.signal;
  for (let attempt = 0; ; attempt++) {
    const current = await read(client, path, signal);
    const now = diffResource(current.body, properties);
    const base = { path, before: now.before, pending: null, rebootRequired: false, iloResetRequired: false, ...(attempt > 0 ? { reread: true as const } : {}) };
    if (now.matches) return { ...base, status: 'unchanged', changed: false, after: now.before };

    const settingsPath = settingsObjectOf(current.body);
    if (settingsPath) {
      const staged = await read(client, settingsPath, signal);
      const pending = diffResource(staged.body, properties);
      // Already waiting for the next reset: done as far as this run can tell, and a reset is due.
      if (pending.matches) return { ...base, status: 'staged', changed: false, after: now.before, pending: pending.before, rebootRequired: true };
      if (options.check) return { ...base, status: 'would-change', changed: true, after: now.before, pending: project(applyPatch(staged.body, pending.patch), properties), rebootRequired: true };
      const messages = await write(client, settingsPath, pending.patch, staged.etag, signal);
      if (messages === 'conflict') {
        if (attempt === 0) continue;
        throw conflict(settingsPath);
      }
      const readBack = await read(client, settingsPath, signal);
      return { ...base, status: 'changed', changed: true, after: now.before, pending: project(readBack.body, properties), messages, ...waitsFor(messages, true) };
    }

    if (options.check) return { ...base, status: 'would-change', changed: true, after: project(applyPatch(current.body, now.patch), properties) };
    const messages = await write(client, path, now.patch, current.etag, signal);
    if (messages === 'conflict') {
      if (attempt === 0) continue;
      throw conflict(path);
    }
    const readBack = diffResource((await read(client, path, signal)).body, properties);
    const waits = waitsFor(messages, false);
    // Read back different without a settings object: the iLO applies it later (as `set` reports).
    const later = readBack.matches ? null : project(applyPatch(readBack.before, now.patch), properties);
    return { ...base, status: 'changed', changed: true, after: readBack.before, pending: later, messages, ...waits };
  }
}

function conflict(path: string): RedfishError {
  return new RedfishError({
    status: 412,
    method: 'PATCH',
    path,
    messages: [],
    body: 'changed by someone else twice while apply read and wrote it (If-Match); nothing more was written to it',
  });
}
