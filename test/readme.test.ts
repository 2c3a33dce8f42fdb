// README's recipes run as written, so they cannot rot: every ```sh block of its "Recipes" section
// is run by bash (set -e) with an `ilo-agent` on PATH (the built bin), against a fresh simulator,
// over HTTPS (ILO_URL, ILO_CA_CERT, ILO_USERNAME, ILO_PASSWORD set, as the section says) and
// in-band (ILO_URL left out, the emulator library as HPE's). Each must exit 0 and leave no session.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { BIN, killLive, runProgram } from './helpers/cli.js';
import { CLEAN_ENV } from './helpers/env.js';
import { client } from './helpers/https-client.js';
import { PROJECT_ROOT } from './helpers/shared.js';

const README = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const start = README.indexOf('## Recipes');
const section = README.slice(start, README.indexOf('\n## ', start + 1));
const recipes = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);

const TMP = mkdtempSync(join(tmpdir(), 'ilo-agent-readme-'));
const BINDIR = join(TMP, 'bin');
mkdirSync(BINDIR);
writeFileSync(join(BINDIR, 'ilo-agent'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
chmodSync(join(BINDIR, 'ilo-agent'), 0o755);
let n = 0;
let sim: Simulator | undefined;
afterEach(async () => {
  killLive();
  await sim?.close();
  sim = undefined;
});
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe('README recipes', () => {
  it('finds the recipes', () => {
    expect(recipes.length).toBeGreaterThanOrEqual(6);
  });

  describe.each(['https', 'in-band'] as const)('over %s', (transport) => {
    // --auth basic is for HTTPS and the vNIC (README says so): the clean-up recipe runs over HTTPS only.
    const cases = recipes.map((r, i) => [i + 1, r.split('\n')[0] as string, r] as const).filter(([, , r]) => transport === 'https' || !r.includes('--auth basic'));
    it.each(cases)('recipe %i (%s) exits 0 and leaves no session', async (_i, _first, script) => {
      const cleanup = script.includes('sessions prune');
      sim = await startSimulator({ loginFailureDelayMs: 0, chifSocket: join(TMP, `c${n++}.sock`), ...(cleanup ? { maxSessions: 3 } : {}) });
      const cwd = join(TMP, `run${n++}`);
      mkdirSync(cwd);
      const ca = join(cwd, 'ca.pem');
      writeFileSync(ca, sim.ca);
      if (cleanup) {
        // What the recipe is for: a table other clients filled.
        const other = client(sim);
        for (let i = 0; i < 3; i++) expect((await other.login()).res.status).toBe(201);
        other.close();
        await new Promise((r) => setTimeout(r, 1_100)); // --older-than 1s: LoginTime has one-second steps
      }
      const env =
        transport === 'https'
          ? { ...CLEAN_ENV, ILO_URL: sim.url, ILO_CA_CERT: ca, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' }
          : { ...CLEAN_ENV, ILO_URL: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: sim.chifSocket as string };
      const run = runProgram('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd, env: { ...env, PATH: `${BINDIR}:${process.env.PATH ?? ''}` } });
      const { code } = await run.exited;
      expect(code, `${run.stdout()}\n${run.stderr()}`).toBe(0);
      expect(sim.sessions().filter((s) => !s.transient)).toEqual([]);
    }, 60_000);
  });
});
