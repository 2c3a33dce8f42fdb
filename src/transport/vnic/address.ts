// HPE's GetIPAddress against the vNIC address in use. iLOrest hard-codes https://16.1.15.1 and
// leaves GetIPAddress unused (python-redfish-utility LoginCommand.py: "TO DO self.url =
// self.rdmc.app.GetIPAddress()"), so ilo-agent does not follow it either: a different answer is
// only said, so that an odd set-up is easy to spot. The call is optional (older libraries lack it).
import type { Logger } from 'pino';
import type { AppAccountBinding } from '../../binding/index.js';

export interface VnicAddressOptions {
  /** Where the vNIC URL came from, for the warning ("--vnic-url / ILO_VNIC_URL" or "the default"). */
  source: string;
  logger?: Logger;
  /** How long the library may take to answer (its own timeouts are unknown). */
  timeoutMs: number;
}

/**
 * The address the library reports (null: no symbol, NULL, empty, no answer in time, or an
 * error); warns when it is not the host of `vnicUrl`.
 */
export async function checkVnicAddress(binding: AppAccountBinding, vnicUrl: string, options: VnicAddressOptions): Promise<string | null> {
  const log = options.logger;
  if (!binding.getIpAddress) {
    log?.debug('HPE\'s library has no GetIPAddress: the vNIC address is not compared');
    return null;
  }
  let answer: string | null;
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), options.timeoutMs);
      timer.unref();
    });
    const raced = await Promise.race([binding.getIpAddress(), late]);
    if (raced === 'late') {
      log?.debug(`HPE's GetIPAddress gave no answer within ${Math.ceil(options.timeoutMs / 1000)} s: the vNIC address is not compared`);
      return null;
    }
    answer = raced;
  } catch (error) {
    log?.debug({ err: error }, 'HPE\'s GetIPAddress failed: the vNIC address is not compared');
    return null;
  } finally {
    clearTimeout(timer);
  }
  const reported = hostOf(answer);
  if (!reported) {
    log?.debug('HPE\'s GetIPAddress reported no address: the vNIC address is not compared');
    return null;
  }
  const used = hostOf(vnicUrl);
  if (reported !== used) {
    const suggested = `https://${reported.includes(':') ? `[${reported}]` : reported}`;
    log?.warn(
      { libraryAddress: reported, vnicUrl },
      `HPE's library reports the vNIC at ${reported} (GetIPAddress), but requests go to ${vnicUrl} (${options.source}); if the vNIC does not answer, try --vnic-url ${suggested}`,
    );
  } else {
    log?.debug({ libraryAddress: reported }, 'HPE\'s GetIPAddress reports the vNIC address in use');
  }
  return reported;
}

/** A bare host (the library's answer is an address; a URL is taken apart), lower case, no brackets. */
function hostOf(text: string | null): string | null {
  const trimmed = text?.trim() ?? '';
  if (!trimmed) return null;
  let host = trimmed;
  if (trimmed.includes('://')) {
    try {
      host = new URL(trimmed).hostname;
    } catch {
      return trimmed.toLowerCase();
    }
  }
  return host.replace(/^\[|\]$/g, '').toLowerCase();
}
