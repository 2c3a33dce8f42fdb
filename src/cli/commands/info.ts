import { Command } from 'commander';
import { dig, hpeManager, hpeOem, SERVICE_ROOT, SESSION_SERVICE_PATH } from '../../redfish/index.js';
import { ProtocolError, RedfishError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { outputFormat, printResult } from '../output.js';

export function infoCommand(ctx: CommandContext): Command {
  return new Command('info')
    .description('the server (model, serial number, power and POST state, BIOS and iLO firmware) and the iLO (generation, session timeout, transport in use)')
    .action(async (_flags: unknown, command: Command) => {
      const info = await ctx.connector.withClient(command, async (client) => {
        const root = await client.get(SERVICE_ROOT);
        const manager = hpeManager(root);
        const service = await client.get(SESSION_SERVICE_PATH).catch(() => undefined);
        const own = client.session.path ? await client.get(client.session.path).catch(() => undefined) : undefined;
        // HPE's fixed paths for the one system and the iLO itself (iLO Redfish reference). A fact
        // the iLO does not give (an older firmware, a resource it refuses) is null, never an error.
        const system = await answered(client.get('/redfish/v1/Systems/1'));
        const ilo = await answered(client.get('/redfish/v1/Managers/1'));
        return {
          model: dig(system, ['Model']) ?? null,
          serialNumber: dig(system, ['SerialNumber']) ?? null,
          hostName: dig(system, ['HostName']) ?? null,
          powerState: dig(system, ['PowerState']) ?? null,
          postState: hpeOem(system)?.PostState ?? null,
          biosVersion: dig(system, ['BiosVersion']) ?? null,
          iloFirmwareVersion: dig(ilo, ['FirmwareVersion']) ?? null,
          product: root.Product ?? null,
          generation: dig(manager, ['ManagerType']) ?? null,
          firmware: dig(manager, ['ManagerFirmwareVersion']) ?? null,
          redfishVersion: root.RedfishVersion ?? null,
          // iLO reports this in minutes although the schema says seconds (docs/reference/ilo-sessions.md §1.4).
          sessionTimeoutMinutes: service?.SessionTimeout ?? null,
          session: { id: client.session.id, path: client.session.path, expires: hpeOem(own)?.UserExpires ?? null },
          transport: client.transportDescription,
          // In-band on iLO 7: the path, the login kind and the TLS trust (README "iLO 7 in-band").
          connection: client.connection ?? null,
        };
      });
      printResult(ctx.io, outputFormat(command, ctx.io), info);
    });
}

/** The body, or undefined when the iLO answered with an error or something not JSON; a lost connection still fails. */
async function answered<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof RedfishError || error instanceof ProtocolError) return undefined;
    throw error;
  }
}

