// iLOrest's application account on this host (iLO 7): its state, creating it and deleting it, as
// iLOrest's `appaccount` command does (python-redfish-utility AppAccountCommand.py). The token
// side is HPE's library on this host (TPM operations, local only); the iLO side is
// `AccountService/Oem/Hpe/AppAccounts` over ONE password session on the vNIC, deleted whatever
// happens (withSession). HPE allows application accounts only for its own tools, so the only
// account handled is iLOrest's (the `self_register` triple). How both sides are reached is
// app-account-access.ts.
import { AbortedError, AppAccountError, IloAgentError, RedfishError, UsageError } from '../errors.js';
import { ILOREST_APP_ACCOUNT, type AppAccountManagement } from '../transport/index.js';
import type { ConnectOptions } from './open-session.js';
import {
  APPID, APPNAME, ENABLE_VNIC, iloAccounts, ilorestIn, isIlorest, libraryCalls, load, need, passwordSession, requireIlo7, requireRoot, SALT, VNIC_DISABLED,
  type IloMember, type LibraryCall,
} from './app-account-access.js';

// The library's codes (python-ilorest-library vnichpilo.py and its 7.x constants).
const RC = { ok: 0, autoProvisioning: 1, invalidCredentials: -8, alreadyExists: -55, inactive: -62, noAccounts: -8 } as const;

/** GenerateAppToken's failure codes in HPE's words (vnichpilo.py, AppAccountCommand.py, errors.md). */
const GENERATE_ERRORS: Readonly<Record<number, string>> = {
  [-53]: 'saving the application account in the iLO failed (SavinginiLOError)',
  [-54]: 'saving the application token in the TPM failed (SavinginTPMError); if the TPM was cleared while the iLO kept the account, run again with credentials so that the orphaned account is deleted first',
  [-27]: 'the library could not validate the certificate (CA) chain',
  [-38]: 'the TPM could not define the NV index for the token (TPM NV_Define failed)',
  [-40]: 'the TPM capability query failed (TPM GetCapability failed)',
  [-63]: 'the TPM requires its owner authorisation, which ilo-agent does not give (ownerAuth is empty; on Windows the OS owns it and the library answers +1 instead)',
  [-64]: 'the TPM refused the authorisation (TPM bad auth)',
  [-65]: 'the TPM refused the authorisation (TPM bad auth)',
  [-66]: 'the TPM NV index is locked (TPM NV locked)',
  [-67]: 'the TPM is in dictionary-attack lockout (TPM DA lockout): wait for the lockout to end, or reset it with the TPM owner',
};

/** An application account as `appaccount status` shows it: the id masked as iLO masks it. */
export interface AccountView {
  id: string;
  name: string;
  inTpm: boolean;
  inIlo: boolean;
}

export type StatusVerdict = 'ready' | 'no-account' | 'inactive' | 'orphan' | 'token-only' | 'vnic-disabled' | 'vnic-not-ready' | 'not-ilo7';

export interface AppAccountStatus {
  verdict: StatusVerdict;
  explanation: string;
  account: { appid: string; iloName: string };
  detectIlo: { rc: number; iloType: number };
  generation: number | null;
  vnicReady: boolean | null;
  readyToUse: number | null;
  tokenInTpm: boolean | null;
  compareAppIds: { rc: number; accounts: AccountView[] } | null;
  /** The iLO side, with credentials: null without them. */
  ilo: { checked: true; accounts: IloMember[]; ilorest: boolean } | { checked: false; reason: string } | null;
}

export interface CreateResult {
  result: 'created' | 'already-exists';
  libraryCode: number;
  message: string;
  orphanDeleted: string | null;
  ilo: IloMember | null;
}

export interface DeleteResult {
  result: 'deleted' | 'nothing-to-delete';
  removed: { tpm: boolean; ilo: string | null };
  left: { tpm: boolean; ilo: boolean | null };
  message: string;
}

/** iLO's way of showing an id: all but the last 4 characters as '*' (HPE's securityService.md). */
export function maskAppId(id: string): string {
  return id.length <= 4 ? id : '*'.repeat(id.length - 4) + id.slice(-4);
}

// ---- status ---------------------------------------------------------------------------------

export async function appAccountStatus(options: ConnectOptions): Promise<AppAccountStatus> {
  const { login, manage } = await load(options);
  need(manage, ['CompareAppIds']);
  const lib = libraryCalls(options);
  const detect = await lib('DetectILO', login.detectIlo(APPID));
  const status: AppAccountStatus = {
    verdict: 'ready',
    explanation: '',
    account: { appid: APPID, iloName: ILOREST_APP_ACCOUNT.label },
    detectIlo: { rc: detect.rc, iloType: detect.iloType },
    generation: detect.rc === 0 ? detect.iloType : null,
    vnicReady: null,
    readyToUse: null,
    tokenInTpm: null,
    compareAppIds: null,
    ilo: null,
  };
  // With credentials, the iLO side is said to be unchecked rather than left null.
  if (options.username !== undefined) status.ilo = { checked: false, reason: `no session: DetectILO answered ${detect.rc}, type ${detect.iloType}` };
  if (detect.rc === VNIC_DISABLED.rc && detect.iloType === VNIC_DISABLED.type) {
    return verdict(status, 'vnic-disabled', `the iLO 7's virtual NIC is disabled (DetectILO answered ${detect.rc}, type ${detect.iloType}): ${ENABLE_VNIC}`);
  }
  if (detect.rc !== 0 || detect.iloType < 7) {
    return verdict(status, 'not-ilo7', `application accounts exist from iLO 7 on; HPE's DetectILO answered ${detect.rc}, type ${detect.iloType}`);
  }
  status.readyToUse = await lib('ReadyToUse', login.readyToUse());
  status.vnicReady = status.readyToUse === 0;
  const tpm = await lib('AppIdExistsinTPM', login.appIdExistsInTpm(APPID));
  if (tpm.rc !== 0) throw new AppAccountError(`HPE's library could not check the TPM for iLOrest's application account (AppIdExistsinTPM answered ${tpm.rc})`, { libraryCode: tpm.rc });
  status.tokenInTpm = tpm.exists;
  const compared = await lib('CompareAppIds', manage.compareAppIds(APPID, APPNAME, SALT));
  if (compared.rc !== 0 && compared.rc !== RC.noAccounts && compared.rc !== RC.inactive) {
    throw new AppAccountError(`HPE's CompareAppIds failed (it answered ${compared.rc})`, { libraryCode: compared.rc });
  }
  // -8: no application accounts at all (an empty list); -62: the token is inactive (no list).
  status.compareAppIds = { rc: compared.rc, accounts: compared.accounts.map((a) => ({ id: maskAppId(a.id), name: a.name, inTpm: a.inTpm, inIlo: a.inIlo })) };
  const self = compared.accounts.find((a) => isIlorest(a.id, a.name));
  let inIlo: boolean | undefined = self?.inIlo;
  if (options.username !== undefined) {
    if (!status.vnicReady) {
      status.ilo = { checked: false, reason: `the vNIC is not ready (ReadyToUse answered ${status.readyToUse}): no session was opened` };
    } else {
      const accounts = await passwordSession(options, iloAccounts);
      const found = ilorestIn(accounts);
      status.ilo = { checked: true, accounts, ilorest: found !== undefined };
      inIlo = found !== undefined;
    }
  }
  const create = '"ilo-agent appaccount create --confirm-ilorest-account -u USER" (as root)';
  if (!status.vnicReady) return verdict(status, 'vnic-not-ready', `the iLO's virtual NIC is not ready (ReadyToUse answered ${status.readyToUse}): ${ENABLE_VNIC}`);
  if (compared.rc === RC.inactive) {
    return verdict(status, 'inactive', 'iLOrest\'s application-account token is inactive or expired (CompareAppIds answered -62): reactivate it with "ilorest appaccount reactivate --self -u USER -p PASSWORD", or delete and create it again');
  }
  if (!tpm.exists && inIlo) {
    return verdict(status, 'orphan', `the iLO holds iLOrest's application account but this host's TPM has no token for it (TPM cleared or replaced): ${create} deletes the orphan in the iLO and creates the account again`);
  }
  if (!tpm.exists) return verdict(status, 'no-account', `no application account for iLOrest on this host: create it with ${create}, or log in with a password (-u)`);
  if (inIlo === false) {
    return verdict(status, 'token-only', 'this host\'s TPM holds iLOrest\'s token but the iLO has no account for it: remove the token with "ilo-agent appaccount delete --confirm-ilorest-account", then create the account again');
  }
  return verdict(status, 'ready', `iLOrest's application account is in the TPM${inIlo ? ' and in the iLO' : ''}: ilo-agent logs in with it when no -u is given${inIlo === undefined ? ' (the iLO side was not checked)' : ''}`);
}

function verdict(status: AppAccountStatus, v: StatusVerdict, explanation: string): AppAccountStatus {
  status.verdict = v;
  status.explanation = explanation;
  return status;
}

// ---- create ---------------------------------------------------------------------------------

/**
 * iLOrest's account: with the password session, an orphan in the iLO (an iLOrest account there,
 * no token in the TPM) is deleted first (as iLOrest does), then GenerateAppToken, 6 arguments.
 */
export async function createAppAccount(options: ConnectOptions): Promise<CreateResult> {
  requireRoot('appaccount create');
  const { username, password } = options;
  if (username === undefined || password === undefined) throw new UsageError('appaccount create needs credentials: --username NAME with ILO_PASSWORD, --password-file or --password-stdin');
  const { login, manage } = await load(options);
  need(manage, ['GenerateAppToken']);
  const lib = libraryCalls(options);
  await requireIlo7(login, lib);
  const log = options.logger;
  return passwordSession(options, async (client) => {
    const tpm = await lib('AppIdExistsinTPM', login.appIdExistsInTpm(APPID));
    if (tpm.rc !== 0) throw new AppAccountError(`HPE's library could not check the TPM for iLOrest's application account (AppIdExistsinTPM answered ${tpm.rc}); nothing was changed`, { libraryCode: tpm.rc });
    let orphanDeleted: string | null = null;
    const before = ilorestIn(await iloAccounts(client));
    if (tpm.exists) await refuseUnusable(manage, before !== undefined, lib);
    if (!tpm.exists && before) {
      log?.info({ member: before.path }, 'deleting the orphaned iLOrest application account in the iLO (no token in the TPM)');
      await client.delete(before.path);
      orphanDeleted = before.path;
    }
    const rc = await lib('GenerateAppToken', manage.generateAppToken(APPID, APPNAME, SALT, username, password), `the account may or may not have been created${orphanDeleted ? ` (the orphan ${orphanDeleted} was deleted in the iLO before)` : ''}`);
    if (rc === RC.invalidCredentials) {
      throw new IloAgentError(`HPE's GenerateAppToken refused the user name or password (it answered -8, InvalidCredentialsError); nothing was created`, 'E_AUTH');
    }
    if (rc !== RC.ok && rc !== RC.autoProvisioning && rc !== RC.alreadyExists) {
      const what = GENERATE_ERRORS[rc] ?? 'the application account could not be generated and saved (GenerateAndSaveAccountError): retry after checking the system\'s IAK setup';
      const orphan = orphanDeleted ? `; the orphaned account ${orphanDeleted} was deleted in the iLO before` : '';
      throw new AppAccountError(`HPE's GenerateAppToken failed (it answered ${rc}): ${what}${orphan}`, { libraryCode: rc });
    }
    const after = ilorestIn(await iloAccounts(client)) ?? null;
    if (rc === RC.alreadyExists) {
      return { result: 'already-exists', libraryCode: rc, message: 'iLOrest\'s application account already exists on this host (GenerateAppToken answered -55): nothing was changed', orphanDeleted, ilo: after };
    }
    const auto = rc === RC.autoProvisioning ? ' (GenerateAppToken answered +1: TPM auto-provisioning, the OS manages the TPM owner key)' : '';
    return {
      result: 'created',
      libraryCode: rc,
      message: `iLOrest's application account was created${auto}${orphanDeleted ? ` after deleting the orphaned one in the iLO (${orphanDeleted})` : ''}: ilo-agent and iLOrest now log in without a password on this host, with ${username}'s privileges`,
      orphanDeleted,
      ilo: after,
    };
  });
}

/**
 * A token that is there but cannot log in is no "already exists": an inactive one (CompareAppIds
 * -62), or one whose iLO account is gone. Said before anything is changed.
 */
async function refuseUnusable(manage: AppAccountManagement, inIlo: boolean, lib: LibraryCall): Promise<void> {
  if (!inIlo) {
    throw new AppAccountError(
      'this host\'s TPM holds iLOrest\'s token but the iLO has no account for it: remove the token with "ilo-agent appaccount delete --confirm-ilorest-account -u USER", then create again; nothing was changed',
    );
  }
  if (manage.missing.includes('CompareAppIds')) return;
  const { rc } = await lib('CompareAppIds', manage.compareAppIds(APPID, APPNAME, SALT));
  if (rc === RC.inactive) {
    throw new AppAccountError(
      'iLOrest\'s application account exists but its token is inactive or expired (CompareAppIds answered -62): reactivate it with "ilorest appaccount reactivate --self -u USER -p PASSWORD", or delete it ("ilo-agent appaccount delete --confirm-ilorest-account -u USER") and create it again; nothing was changed',
      { libraryCode: rc },
    );
  }
}

// ---- delete ---------------------------------------------------------------------------------

/**
 * The TPM token (DeleteAppTokenUsingCreds with credentials, DeleteAppToken without) and, with
 * credentials, the iLO's member (DELETE over the one session). What was removed where, and what
 * is left, is said precisely.
 */
export async function deleteAppAccount(options: ConnectOptions): Promise<DeleteResult> {
  requireRoot('appaccount delete');
  const { login, manage } = await load(options);
  need(manage, [options.username === undefined ? 'DeleteAppToken' : 'DeleteAppTokenUsingCreds']);
  const lib = libraryCalls(options);
  await requireIlo7(login, lib);
  const log = options.logger;
  const tpmExists = async () => {
    const tpm = await lib('AppIdExistsinTPM', login.appIdExistsInTpm(APPID));
    if (tpm.rc !== 0) throw new AppAccountError(`HPE's library could not check the TPM for iLOrest's application account (AppIdExistsinTPM answered ${tpm.rc})`, { libraryCode: tpm.rc });
    return tpm.exists;
  };
  const deleteToken = async (withCreds: boolean) => {
    const { username, password } = options;
    const name = withCreds ? 'DeleteAppTokenUsingCreds' : 'DeleteAppToken';
    const call = withCreds ? manage.deleteAppTokenUsingCreds(APPID, username as string, password as string) : manage.deleteAppToken(APPID, APPNAME, SALT);
    const rc = await lib(name, call, 'the token may or may not have been removed');
    if (rc === RC.invalidCredentials) throw new IloAgentError(`HPE's ${name} refused the user name or password (it answered -8); nothing was removed`, 'E_AUTH');
    if (rc !== 0) throw new AppAccountError(`HPE's ${name} failed (it answered ${rc}, RemoveAccountError); the token is still in the TPM`, { libraryCode: rc });
  };

  if (options.username === undefined) {
    const inTpm = await tpmExists();
    if (inTpm) await deleteToken(false);
    // CompareAppIds needs no credentials: it says whether the iLO still holds the account.
    const compared = await lib('CompareAppIds', manage.compareAppIds(APPID, APPNAME, SALT)).catch((error: unknown) => {
      if (error instanceof AbortedError) throw error;
      log?.debug({ err: error }, 'CompareAppIds failed after the delete');
      return { rc: -1, accounts: [] };
    });
    const known = compared.rc === 0 || compared.rc === RC.noAccounts;
    const iloLeft = known ? compared.accounts.some((a) => isIlorest(a.id, a.name) && a.inIlo) : null;
    const leftText =
      iloLeft === true
        ? 'the iLO still holds iLOrest\'s account (an orphan now): remove it with "ilo-agent appaccount delete --confirm-ilorest-account -u USER" (credentials are needed on the iLO side)'
        : iloLeft === false
          ? 'the iLO holds no iLOrest account'
          : 'whether the iLO still holds iLOrest\'s account is unknown (CompareAppIds did not say): check with "ilo-agent appaccount status -u USER"';
    if (!inTpm && iloLeft === true) {
      throw new AppAccountError(`this host's TPM holds no token for iLOrest, and ${leftText}; nothing was removed`);
    }
    return {
      result: inTpm ? 'deleted' : 'nothing-to-delete',
      removed: { tpm: inTpm, ilo: null },
      left: { tpm: false, ilo: iloLeft },
      message: `${inTpm ? 'iLOrest\'s token was removed from this host\'s TPM (DeleteAppToken)' : 'this host\'s TPM held no token for iLOrest: nothing removed there'}; ${leftText}`,
    };
  }

  return passwordSession(options, async (client) => {
    const inTpm = await tpmExists();
    if (inTpm) await deleteToken(true);
    // The library may or may not remove the iLO's account too (not public): look again.
    const member = ilorestIn(await iloAccounts(client));
    if (member) {
      try {
        await client.delete(member.path);
      } catch (error) {
        if (!(error instanceof RedfishError && error.status === 404)) {
          const gone = inTpm ? 'iLOrest\'s token was removed from this host\'s TPM, but ' : '';
          throw new AppAccountError(`${gone}the iLO's account ${member.path} could not be deleted (${(error as Error).message}): delete it with "ilo-agent raw DELETE ${member.path} -u USER"`);
        }
      }
    }
    const tpmLeft = await tpmExists();
    const iloLeft = ilorestIn(await iloAccounts(client)) !== undefined;
    const removedWhere = [inTpm && 'the token from this host\'s TPM', member && `the account ${member.path} from the iLO`].filter(Boolean).join(' and ');
    return {
      result: inTpm || member ? 'deleted' : 'nothing-to-delete',
      removed: { tpm: inTpm, ilo: member?.path ?? null },
      left: { tpm: tpmLeft, ilo: iloLeft },
      message: `${removedWhere ? `removed ${removedWhere}` : 'neither this host\'s TPM nor the iLO held iLOrest\'s application account: nothing removed'}${tpmLeft || iloLeft ? `; still left: ${[tpmLeft && 'a token in the TPM', iloLeft && 'an account in the iLO'].filter(Boolean).join(', ')}` : '; nothing is left'}; iLOrest and ilo-agent need a password (-u) on this host until the account is created again`,
    };
  });
}
