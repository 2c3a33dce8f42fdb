// The test process may carry ILO_* variables (a developer's shell): every CLI run starts without
// them, and sets what it means to use.
export const CLEAN_ENV: NodeJS.ProcessEnv = {
  ILO_URL: undefined,
  ILO_USERNAME: undefined,
  ILO_PASSWORD: undefined,
  ILO_AGENT_DEBUG: undefined,
  ILO_AGENT_SOCKET: undefined,
  ILO_AUTH: undefined,
  ILO_CA_CERT: undefined,
  ILO_CHIF_LIB: undefined,
  ILO_CHIF_EMULATOR_SOCKET: undefined,
  ILO_INBAND: undefined,
  ILO_VNIC_URL: undefined,
  ILO_PIN: undefined,
  ILO_TLS_SERVERNAME: undefined,
};
