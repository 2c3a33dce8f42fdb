// Which in-band path, decided once before any login, logged, and never changed behind the
// user's back: CHIF (iLO 5/6) or the virtual NIC (iLO 7, which has no CHIF). HPE's DetectILO
// decides in `auto`, as iLOrest does (python-ilorest-library vnichpilo.py detect_ilo).
import type { Logger } from 'pino';
import { ChifLibraryError, VnicError } from '../../errors.js';
import type { AppAccountBinding } from '../../binding/index.js';
import { ILOREST_APP_ACCOUNT } from './app-token.js';

export const INBAND_MODES = ['auto', 'chif', 'vnic'] as const;
export type InbandMode = (typeof INBAND_MODES)[number];

/** What selection needs of a loaded library (binding's ChifLibrary). */
export interface SelectableLibrary {
  readonly path: string;
  readonly appAccount: AppAccountBinding | null;
  readonly appAccountMissing: readonly string[];
}

export interface InbandSelection<L extends SelectableLibrary = SelectableLibrary> {
  path: 'chif' | 'vnic';
  /** The iLO generation DetectILO reported (5, 6, 7…); null when it was not asked. */
  generation: number | null;
  /** How the choice was made, for logs and `info`. */
  reason: string;
  /** The library loaded (absent: vNIC with a password under --inband vnic needs none). */
  library?: L;
  /**
   * DetectILO answered "no CHIF driver" (-1, type 100): the CHIF path is opened only to say
   * precisely why it fails (no driver, not root), and is refused if it opens.
   */
  noChifDriver?: boolean;
}

export interface SelectOptions<L extends SelectableLibrary> {
  mode: InbandMode;
  /** Whether the login would use the app token (no --username, no --no-app-account). */
  appToken: boolean;
  /** Loads HPE's library (binding's loadChifLibrary with the search or --chif-lib). */
  load: () => Promise<L>;
  logger?: Logger;
}

// DetectILO's documented answers (vnichpilo.py detect_ilo).
const NO_CHIF_DRIVER = { rc: -1, type: 100 } as const;
const VNIC_DISABLED = { rc: -50, type: 101 } as const;

export async function selectInband<L extends SelectableLibrary>(options: SelectOptions<L>): Promise<InbandSelection<L>> {
  const selection = await decide(options);
  options.logger?.info(
    { inband: selection.path, generation: selection.generation, library: selection.library?.path ?? null },
    `in-band path: ${selection.path === 'chif' ? 'CHIF' : 'vNIC'} (${selection.reason})`,
  );
  return selection;
}

async function decide<L extends SelectableLibrary>(options: SelectOptions<L>): Promise<InbandSelection<L>> {
  const { mode, appToken } = options;
  if (mode === 'chif') return { path: 'chif', generation: null, reason: '--inband chif', library: await options.load() };
  if (mode === 'vnic') {
    // A password over the vNIC is plain HTTPS: HPE's library is not needed.
    if (!appToken) return { path: 'vnic', generation: null, reason: '--inband vnic' };
    const library = await loadFor(options.load, 'the app-token login on the vNIC needs HPE\'s library (GetSessionID); or log in with a password: --username NAME, which needs none');
    if (!library.appAccount) throw tooOld(library);
    return { path: 'vnic', generation: null, reason: '--inband vnic', library };
  }
  const library = await loadFor(options.load, 'on an iLO 7 (no CHIF), --inband vnic with --username needs no HPE library');
  if (!library.appAccount) {
    return { path: 'chif', generation: null, reason: `the library has no ${library.appAccountMissing[0]} (an older, CHIF-only library)`, library };
  }
  const { rc, iloType } = await library.appAccount.detectIlo(ILOREST_APP_ACCOUNT.appid);
  const said = `DetectILO answered ${rc}, type ${iloType}`;
  if (rc === 0 && iloType >= 7) return { path: 'vnic', generation: iloType, reason: `iLO ${iloType}: ${said}`, library };
  if (rc === 0 && iloType >= 3) return { path: 'chif', generation: iloType, reason: `iLO ${iloType}: ${said}`, library };
  if (rc === NO_CHIF_DRIVER.rc && iloType === NO_CHIF_DRIVER.type) return { path: 'chif', generation: null, reason: `no CHIF driver: ${said}`, library, noChifDriver: true };
  if (rc === VNIC_DISABLED.rc && iloType === VNIC_DISABLED.type) {
    throw new VnicError(
      `the local iLO 7's virtual NIC is disabled (HPE's ${said}), and iLO 7 has no CHIF: enable it out-of-band (PATCH /redfish/v1/Managers/1/HostInterfaces/1 {"InterfaceEnabled": true}, or Oem.Hpe.VirtualNICEnabled on Managers/1), then reset the iLO; or give --url to use HTTPS`,
      rc,
    );
  }
  throw new ChifLibraryError(`HPE's library found no local iLO it knows (${said}): is this an HPE server with an iLO? Or give --url to use HTTPS`);
}

/** Loads the library; a failure to find or trust it says what else would work. */
async function loadFor<L>(load: () => Promise<L>, hint: string): Promise<L> {
  try {
    return await load();
  } catch (error) {
    if (!(error instanceof ChifLibraryError)) throw error;
    throw new ChifLibraryError(`${error.message}; ${hint}`, { cause: error });
  }
}

function tooOld(library: SelectableLibrary): VnicError {
  return new VnicError(
    `the app-token login needs HPE's library with ${library.appAccountMissing.join(', ')}, which ${library.path} lacks (an older library: install iLOrest 6 or later's); or log in with a password: --username NAME`,
  );
}
