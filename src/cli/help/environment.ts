// Every environment variable ilo-agent reads, with what it does: `--help`, docs/cli.md and the
// man page list them from here.
export const ENVIRONMENT = {
  ILO_URL: 'the iLO to reach over HTTPS (as --url); unset: the local iLO, in-band',
  ILO_USERNAME: 'iLO user (as -u)',
  ILO_PASSWORD: 'iLO password; removed from the environment once read (no child inherits it)',
  ILO_AGENT_SOCKET: 'send the work through a running `ilo-agent serve` (as --agent)',
  ILO_INBAND: 'in-band path: auto, chif or vnic (as --inband)',
  ILO_VNIC_URL: "iLO 7 in-band: the iLO's vNIC address (as --vnic-url)",
  ILO_CHIF_LIB: "HPE's CHIF library to load (as --chif-lib)",
  ILO_AUTH: 'session or basic (as --auth)',
  ILO_CA_CERT: "PEM file of the CA that signed the iLO's certificate (as --ca-cert)",
  ILO_PIN: "vNIC: the SHA-256 fingerprint of the iLO's certificate (as --pin); ignored with --url",
  ILO_TLS_SERVERNAME: "vNIC: the name the iLO's certificate carries (as --tls-servername); ignored with --url",
  ILO_AGENT_DEBUG: 'any value: print the stack of an internal error',
  NOTIFY_SOCKET: 'serve: set by systemd (Type=notify); READY=1 is sent there once the socket listens',
  ILO_SIM_USERS: 'simulate: the accounts, name:password,... (as --users)',
  ILO_CHIF_EMULATOR_SOCKET: "read by the CHIF emulator library (not by HPE's): the simulator's --chif-socket",
} as const;

export type EnvName = keyof typeof ENVIRONMENT;

/** What every command that talks to an iLO reads. */
export const CONNECTION_ENV: readonly EnvName[] = [
  'ILO_URL',
  'ILO_USERNAME',
  'ILO_PASSWORD',
  'ILO_AGENT_SOCKET',
  'ILO_INBAND',
  'ILO_VNIC_URL',
  'ILO_CHIF_LIB',
  'ILO_AUTH',
  'ILO_CA_CERT',
  'ILO_PIN',
  'ILO_TLS_SERVERNAME',
  'ILO_AGENT_DEBUG',
];
