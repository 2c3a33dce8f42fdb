// Examples, environment and exit statuses of every command, keyed by its path. documentAll()
// refuses a command missing here, so a new command cannot ship without them.
import type { Command } from 'commander';
import { EXIT_MEANINGS, type ExitStatus } from '../exit-codes.js';
import { connected, document, type CommandDoc } from './document.js';
import { ENVIRONMENT, type EnvName } from './environment.js';
import { commandTree } from './tree.js';

const SYSTEM = '/redfish/v1/Systems/1';
const RESET = `${SYSTEM}/Actions/ComputerSystem.Reset`;

export const COMMAND_DOCS: Readonly<Record<string, CommandDoc>> = {
  '': {
    examples: [
      '# the local iLO, in-band (as root): no address, no password',
      `ilo-agent get ${SYSTEM} --select PowerState,Oem.Hpe.PostState`,
      '# an iLO over HTTPS; the password from the environment',
      'export ILO_URL=https://ilo.example.net ILO_USERNAME=admin ILO_CA_CERT=/etc/ilo/ca.pem',
      'read -rs ILO_PASSWORD && export ILO_PASSWORD',
      'ilo-agent info',
      `ilo-agent set ${SYSTEM} Boot.BootSourceOverrideTarget=Pxe Boot.BootSourceOverrideEnabled=Once`,
      `ilo-agent raw post ${RESET} --data '{"ResetType":"ForceRestart"}'`,
    ],
    env: Object.keys(ENVIRONMENT) as EnvName[],
    exits: Object.keys(EXIT_MEANINGS).map(Number) as ExitStatus[],
  },
  get: connected([`ilo-agent get ${SYSTEM}`, `ilo-agent get ${SYSTEM} --select PowerState,Oem.Hpe.PostState`, '# one value as plain text, for a shell variable', `state=$(ilo-agent get ${SYSTEM} --value PowerState)`]),
  raw: connected(
    [
      `ilo-agent raw get /redfish/v1/Managers/1 --include`,
      '# a reset; its answer is an iLO "Success" message (shown as a result on a terminal)',
      `ilo-agent raw post ${RESET} --data '{"ResetType":"ForceRestart"}'`,
      '# an operation the iLO runs as a task: follow it to its end',
      "ilo-agent raw post /redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate --data-file update.json --wait-task 1h",
    ],
    { exits: [12] },
  ),
  batch: connected(['printf \'%s\\n\' \'{"method":"GET","path":"/redfish/v1/Systems/1"}\' \'{"method":"GET","path":"/redfish/v1/Managers/1"}\' | ilo-agent batch', 'ilo-agent batch requests.jsonl --fail-fast']),
  set: connected(
    [
      '# one-time PXE boot at the next reset',
      `ilo-agent set ${SYSTEM} Boot.BootSourceOverrideTarget=Pxe Boot.BootSourceOverrideEnabled=Once`,
      '# a BIOS change goes to the settings object, applied at the next reboot',
      `ilo-agent set ${SYSTEM}/Bios/Settings Attributes.WorkloadProfile=Virtualization-MaxPerformance`,
      `ilo-agent set ${SYSTEM}/Bios/Settings --data-file bios-baseline.json`,
      '# a guard for Puppet/Chef/Ansible: exit 0 in line, 10 would change',
      `ilo-agent set --check ${SYSTEM} AssetTag=rack-42`,
    ],
    { exits: [10] },
  ),
  apply: connected(['ilo-agent apply --check baseline.json', 'ilo-agent apply baseline.json --detailed-exit', 'ilo-agent capture /redfish/v1/Systems/1/Bios/Settings | ilo-agent apply --check -'], { exits: [10, 13, 14] }),
  capture: connected([`ilo-agent capture ${SYSTEM} ${SYSTEM}/Bios/Settings --out baseline.json`]),
  list: connected(['ilo-agent list /redfish/v1/Systems', 'ilo-agent list /redfish/v1/Managers/1/LogServices/IEL/Entries --expand']),
  sessions: connected(['ilo-agent sessions list', 'ilo-agent sessions prune --idle-for 30m', 'ilo-agent sessions prune --tag REST --yes']),
  'sessions list': connected(['ilo-agent sessions list', 'ilo-agent sessions list --output json']),
  'sessions delete': connected(['ilo-agent sessions delete 1a2b3c4d5e6f']),
  'sessions prune': connected([
    '# show what would go: sessions idle (by the iLO\'s clock) for 30 minutes',
    'ilo-agent sessions prune --idle-for 30m',
    '# delete the REST sessions of one user that logged in over 2 hours ago',
    'ilo-agent sessions prune --user svc-backup --tag REST --older-than 2h --yes',
    '# a full session table: basic authentication needs no session slot',
    'ilo-agent --auth basic sessions prune --all --yes',
  ]),
  info: connected(['ilo-agent info', 'ilo-agent info --output json | jq -r .serialNumber']),
  doctor: connected(['# in-band on this host', 'sudo ilo-agent doctor', 'ilo-agent --url https://ilo.example.net -u admin doctor']),
  crawl: connected(['ilo-agent crawl --out tree.json', 'ilo-agent crawl /redfish/v1/Systems --max-resources 500 --allow-partial'], { exits: [11] }),
  wait: connected(
    [
      `ilo-agent raw post ${RESET} --data '{"ResetType":"ForceRestart"}'`,
      `ilo-agent wait ${SYSTEM} PowerState=On Oem.Hpe.PostState=FinishedPost --for 15m`,
    ],
    { exits: [12] },
  ),
  serve: connected(
    [
      'ilo-agent serve --socket /run/ilo-agent.sock &',
      'ILO_AGENT_SOCKET=/run/ilo-agent.sock ilo-agent get /redfish/v1/Systems/1 --value PowerState',
      '# under systemd: Type=notify (READY=1 once the socket listens); see README',
    ],
    { env: ['NOTIFY_SOCKET'] },
  ),
  appaccount: connected(['sudo ilo-agent appaccount status', 'sudo -E ilo-agent appaccount create -u admin --confirm-ilorest-account']),
  'appaccount status': connected(['sudo ilo-agent appaccount status']),
  'appaccount create': connected(['read -rs ILO_PASSWORD && export ILO_PASSWORD', 'sudo -E ilo-agent appaccount create -u admin --confirm-ilorest-account']),
  'appaccount delete': connected(['sudo ilo-agent appaccount delete --confirm-ilorest-account']),
  simulate: {
    examples: ['ilo-agent simulate --port 8443', '# in-band too: point the CHIF emulator library at it', 'ilo-agent simulate --chif-socket /tmp/chif.sock', 'ilo-agent simulate --mockup ./mockups/ilo6-dl380a --users admin:secret'],
    env: ['ILO_SIM_USERS', 'ILO_CHIF_EMULATOR_SOCKET'],
    exits: [0, 1, 2, 130],
  },
  rawget: connected(['ilo-agent rawget /redfish/v1/Systems/1 --expand']),
  rawhead: connected(['ilo-agent rawhead /redfish/v1/']),
  rawdelete: connected(['ilo-agent rawdelete /redfish/v1/SessionService/Sessions/admin1a2b3c']),
  rawpost: connected([`echo '{"${RESET}": {"ResetType": "ForceRestart"}}' > reset.json`, 'ilo-agent rawpost reset.json']),
  rawput: connected(['ilo-agent rawput body.json']),
  rawpatch: connected([`echo '{"${SYSTEM}": {"AssetTag": "rack-42"}}' | ilo-agent rawpatch -`]),
  completion: {
    examples: ['# bash: now, and in every new shell', 'source <(ilo-agent completion bash)', "echo 'source <(ilo-agent completion bash)' >> ~/.bashrc", '# zsh', 'ilo-agent completion zsh > "${fpath[1]}/_ilo-agent"', '# PowerShell', 'ilo-agent completion powershell | Out-String | Invoke-Expression'],
    env: [],
    exits: [0, 2],
  },
  man: { examples: ['ilo-agent man | man -l -', 'ilo-agent man > /usr/local/share/man/man1/ilo-agent.1'], env: [], exits: [0] },
};

/** Attaches its doc to every command of the tree; a command without one is a programming error. */
export function documentAll(root: Command): void {
  for (const { path, command } of commandTree(root)) {
    const doc = COMMAND_DOCS[path.join(' ')];
    if (!doc) throw new Error(`no help examples for "${path.join(' ')}" in src/cli/help/commands.ts`);
    document(command, doc);
  }
}
