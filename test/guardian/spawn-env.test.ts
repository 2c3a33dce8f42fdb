// The guardian's environment is the agent's minus ILO_PASSWORD, also when the agent is the library
// (the CLI removes ILO_PASSWORD from its own environment as soon as it reads it; a program using
// startGuardian may not have). The guardian gets the credentials over its pipe, never otherwise.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setGuardianLaunch, startGuardian } from '../../src/guardian/spawn.js';
import { until } from '../helpers/wait.js';

const PASSWORD = 'env-secret-3f9c1a';
const dirs: string[] = [];
const saved = { ILO_PASSWORD: process.env.ILO_PASSWORD, MARKER: process.env.GUARDIAN_ENV_MARKER };

afterEach(() => {
  for (const [name, value] of [['ILO_PASSWORD', saved.ILO_PASSWORD], ['GUARDIAN_ENV_MARKER', saved.MARKER]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the guardian\'s environment', () => {
  it('is inherited without ILO_PASSWORD, though the agent\'s own environment still holds it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guardian-env-'));
    dirs.push(dir);
    const out = join(dir, 'env.json');
    process.env.ILO_PASSWORD = PASSWORD;
    process.env.GUARDIAN_ENV_MARKER = 'inherited';
    // A stand-in guardian: writes the environment it got, then lives until its pipe closes.
    const script = "require('fs').writeFileSync(process.argv[1], JSON.stringify(process.env)); process.stdin.on('end', () => process.exit(0)).resume();";
    setGuardianLaunch({ command: process.execPath, args: ['-e', script, out] });
    const guardian = startGuardian({
      transport: { kind: 'https', url: 'https://ilo.invalid', ca: null, insecure: false },
      credentials: { username: 'Administrator', password: PASSWORD },
      logLevel: 'silent',
    });
    expect(guardian).toBeDefined();
    try {
      await until(() => existsSync(out) && readFileSync(out, 'utf8').endsWith('}'), 'the stand-in wrote its environment', 20_000);
      const env = readFileSync(out, 'utf8');
      expect(JSON.parse(env).GUARDIAN_ENV_MARKER).toBe('inherited'); // the reading works
      expect(env).not.toContain('ILO_PASSWORD');
      expect(env).not.toContain(PASSWORD);
      expect(process.env.ILO_PASSWORD).toBe(PASSWORD); // the agent's own is not touched
    } finally {
      await guardian?.detach();
    }
  });
});
