// `doctor`: every check the chosen path needs, in order, each with what was found and the cure.
// It leaves no session: its one login is deleted like any run's.
import type { ConnectOptions } from '../open-session.js';
import { Checklist, type Check, type DoctorReport } from './checks.js';
import { inbandChecks } from './inband.js';
import { remoteChecks } from './remote.js';

export type { Check, CheckStatus, DoctorReport } from './checks.js';

export async function runDoctor(options: ConnectOptions, onCheck?: (check: Check) => void): Promise<DoctorReport> {
  const list = new Checklist(onCheck);
  if (options.url) await remoteChecks(options, list);
  else await inbandChecks(options, list);
  return { path: options.url ? 'https' : 'in-band', ok: !list.failed, checks: list.checks };
}
