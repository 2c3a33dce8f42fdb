// `set`: idempotent settings, for configuration management (Chef, Puppet). GET, compare, PATCH
// only what differs, read back. `--check` changes nothing and says by its exit status (0 / 10)
// whether a run would change anything.
import { Command } from 'commander';
import { applyPatch, buildDesired, checkPath, diffResource, isPlainObject, masked, missingProperties, parseAssignment, parseJsonInput, project, writeOnlyPaths, type JsonObject } from '../../client/index.js';
import { InvalidInputError, MissingPropertyError, UsageError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { readDataFile } from '../data-file.js';
import { CommandOutcome, EXIT_WOULD_CHANGE } from '../exit-codes.js';
import { outputFormat, printResult } from '../output.js';

interface SetFlags {
  data?: string;
  dataFile?: string;
  check?: boolean;
}

interface SetResult {
  changed: boolean;
  before: JsonObject;
  after: JsonObject;
}

export function setCommand(ctx: CommandContext): Command {
  return new Command('set')
    .description('set properties of a resource if they differ (idempotent); {changed, before, after} on stdout')
    .argument('<path>', 'a Redfish path, e.g. /redfish/v1/Systems/1')
    .argument('[assignments...]', 'key=value; the key may be dotted (Boot.BootSourceOverrideTarget=Pxe), the value is JSON if it parses, else a string')
    .option('--data <json>', 'the desired properties as a JSON object (key=value pairs apply on top)')
    .option('--data-file <file>', 'the same JSON object from FILE, or from standard input with -')
    .option('--check', 'change nothing: exit 0 when the resource matches, 10 when a run would change it, 6 when it lacks a property named')
    .action(async (path: string, assignments: string[], flags: SetFlags, command: Command) => {
      // Everything is checked before the login: nothing half-validated is sent.
      checkPath(path);
      if (flags.data !== undefined && flags.dataFile !== undefined) throw new UsageError('give the properties with --data or --data-file, not both');
      if (assignments.length === 0 && flags.data === undefined && flags.dataFile === undefined) {
        throw new UsageError('nothing to set: give key=value pairs (e.g. Boot.BootSourceOverrideTarget=Pxe) and/or --data JSON (--data-file FILE)');
      }
      let base: JsonObject | undefined;
      if (flags.data !== undefined || flags.dataFile !== undefined) {
        const option = flags.data !== undefined ? '--data' : '--data-file';
        const data = flags.data !== undefined ? parseJsonInput(flags.data, '--data') : await readDataFile(ctx.connector, flags.dataFile as string, 'the properties');
        if (!isPlainObject(data)) throw new InvalidInputError(`${option} must be a JSON object of the properties to set, e.g. {"AssetTag":"rack-42"}`);
        base = data;
      }
      const desired = buildDesired(base, assignments.map(parseAssignment));
      if (Object.keys(desired).length === 0) throw new InvalidInputError(`nothing to set: ${flags.dataFile !== undefined ? '--data-file' : '--data'} is an empty object`);
      const writeOnly = writeOnlyPaths(desired);
      if (flags.check && writeOnly.length > 0) {
        // It would never match, and a guard that always says "would change" re-sets it every run.
        throw new UsageError(
          `${writeOnly.join(', ')} is write-only: the iLO never shows its value (it answers null), so --check cannot tell whether it matches. ` +
            'Leave it out of the --check guard; `set` without --check sends it every time',
        );
      }

      const { result, pending } = await ctx.connector.withClient(command, async (client) => {
        const current = await client.get(path);
        if (flags.check) {
          // A property the resource lacks can never match: a typo would read "would change" on
          // every run of a guard, and the real `set` would then fail. An error, not a drift.
          const missing = missingProperties(current, desired);
          if (missing.length > 0) {
            const named = missing.map((m) => (m.near ? `${m.path} (did you mean ${m.near}?)` : m.path)).join(', ');
            throw new MissingPropertyError(`${path} has no ${named}: --check cannot match a property the resource lacks (misspelt, or not on this iLO)`);
          }
        }
        const difference = diffResource(current, desired);
        if (difference.matches) return { result: { changed: false, before: difference.before, after: difference.before }, pending: [] };
        if (flags.check) {
          return { result: { changed: true, before: difference.before, after: project(applyPatch(current, difference.patch), desired) }, pending: [] };
        }
        // Only the differing properties: a PATCH of an unchanged BIOS attribute can still mark
        // the settings pending, and the smaller the body, the less the iLO can refuse.
        // A rejected property is a RedfishError (exit 6) carrying the iLO's MessageIds.
        await client.patch(path, difference.patch);
        // Report what the iLO holds now, not what was asked for.
        const readBack = diffResource(await client.get(path), desired);
        // A write-only property reads back null: not "pending", just never shown.
        return { result: { changed: true, before: difference.before, after: readBack.before }, pending: readBack.differing.filter((p) => !writeOnly.includes(p)) };
      });

      // Secrets never reach stdout, whatever the iLO answered: shown as null, as the iLO shows them.
      printResult(ctx.io, outputFormat(command, ctx.io), { changed: result.changed, before: masked(result.before), after: masked(result.after) } satisfies SetResult);
      if (pending.length > 0) {
        ctx.io.stderr.write(
          `ilo-agent: pending: the iLO reports a different value until the change takes effect (some settings, e.g. BIOS attributes, apply at the next reboot): ${pending.join(', ')}\n`,
        );
      }
      if (flags.check && result.changed) throw new CommandOutcome(EXIT_WOULD_CHANGE, `${path} does not match: a run without --check would change it`);
    });
}
