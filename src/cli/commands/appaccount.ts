// `ilo-agent appaccount`: iLOrest's application account on this host (iLO 7). See README
// "Application accounts". HPE allows application accounts only for its own tools, so this
// manages iLOrest's (the one ilo-agent logs in with), never an account of ilo-agent's own.
import { Command } from 'commander';
import { appAccountStatus, createAppAccount, deleteAppAccount, requireRoot } from '../../client/index.js';
import { UsageError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { outputFormat, printResult } from '../output.js';

const CONFIRM = '--confirm-ilorest-account';
const WHOSE =
  'HPE allows application accounts only for its own tools (SUM, SUT, AMS, iLOrest): this is iLOrest\'s account (the "self_register" triple), the one ilo-agent logs in with when no -u is given';

function requireConfirmation(flags: { confirmIlorestAccount?: boolean }, what: string, effect: string): void {
  if (!flags.confirmIlorestAccount) {
    throw new UsageError(
      `${what} ${effect} iLOrest's application account (HPE allows application accounts only for its own tools), which iLOrest and ilo-agent share: it also changes iLOrest's password-less login on this host. Add ${CONFIRM} to confirm; nothing was done`,
    );
  }
}

export function appAccountCommand(ctx: CommandContext): Command {
  const appaccount = new Command('appaccount').description(
    `iLOrest's application account on this host (iLO 7, in-band only): status, create, delete. ${WHOSE}. Credentials: -u with ILO_PASSWORD, --password-file or --password-stdin (never -p)`,
  );

  appaccount
    .command('status')
    .description('read-only: iLO generation, vNIC ready, token in the TPM, accounts (DetectILO, ReadyToUse, AppIdExistsinTPM, CompareAppIds); with -u also the iLO side over one session')
    .action(async (_flags: unknown, command: Command) => {
      const options = await ctx.connector.localOptions(command, 'appaccount status');
      printResult(ctx.io, outputFormat(command, ctx.io), await appAccountStatus(options));
    });

  appaccount
    .command('create')
    .description(`as root, with -u and a password: create iLOrest's account (deletes an orphan left in the iLO first; GenerateAppToken). Needs ${CONFIRM}`)
    .option(CONFIRM, 'confirm: this creates iLOrest\'s account, shared with iLOrest (its password-less login on this host changes too)')
    .action(async (flags: { confirmIlorestAccount?: boolean }, command: Command) => {
      requireConfirmation(flags, 'appaccount create', 'creates');
      requireRoot('appaccount create'); // before a password is read or the library loaded
      const options = await ctx.connector.localOptions(command, 'appaccount create');
      if (options.username === undefined) throw new UsageError('appaccount create needs an iLO user with the privileges to give the account: --username NAME (with ILO_PASSWORD, --password-file or --password-stdin)');
      printResult(ctx.io, outputFormat(command, ctx.io), await createAppAccount(options));
    });

  appaccount
    .command('delete')
    .description(`as root: delete iLOrest's account (the TPM token; with -u also the iLO's account over one session). Needs ${CONFIRM}`)
    .option(CONFIRM, 'confirm: this deletes iLOrest\'s account, shared with iLOrest (its password-less login on this host stops working)')
    .action(async (flags: { confirmIlorestAccount?: boolean }, command: Command) => {
      requireConfirmation(flags, 'appaccount delete', 'deletes');
      requireRoot('appaccount delete');
      const options = await ctx.connector.localOptions(command, 'appaccount delete');
      printResult(ctx.io, outputFormat(command, ctx.io), await deleteAppAccount(options));
    });
  return appaccount;
}
