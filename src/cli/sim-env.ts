// `simulate --env-dir DIR`: what a shell needs to use the simulator, in a directory the user named:
// `env` (variables to source), `ca.pem` (its CA), `vnic-ca.pem` (iLO 7) and the CHIF socket. Made
// private (0700) so no other user can plant a file there; emptied again when the simulator stops.
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InvalidInputError } from '../errors.js';

export interface EnvDir {
  dir: string;
  chifSocket: string;
  /** Writes the files once the simulator runs. */
  write(info: { url: string; ca: string; vnicUrl: string | null; vnicCa: string | null }, password: string | undefined): void;
  /** Removes what was written (and the directory, if it was made here). */
  remove(): void;
}

export function prepareEnvDir(path: string): EnvDir {
  const dir = resolve(path);
  let made = false;
  if (existsSync(dir)) {
    const stat = lstatSync(dir);
    if (!stat.isDirectory() || stat.isSymbolicLink()) throw new InvalidInputError(`--env-dir ${path} exists and is not a directory`);
    if (process.getuid && stat.uid !== process.getuid()) throw new InvalidInputError(`--env-dir ${path} belongs to another user`);
    if (readdirSync(dir).length > 0) throw new InvalidInputError(`--env-dir ${path} is not empty: give a new or empty directory`);
  } else {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    made = true;
  }
  chmodSync(dir, 0o700);
  const files = ['env', 'ca.pem', 'vnic-ca.pem'].map((f) => join(dir, f));
  return {
    dir,
    chifSocket: join(dir, 'chif.sock'),
    write(info, password) {
      const emulator = resolve(dirname(process.argv[1] ?? '.'), '../native/libilorestchif.so');
      const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
      const lines = [
        '# ilo-agent simulate --env-dir: source this file (. ./env) while the simulator runs',
        `export ILO_SIM_URL=${q(info.url)}`,
        `export ILO_CA_CERT=${q(join(dir, 'ca.pem'))}`,
        // The simulator's own account (not a secret of any real iLO), for `--url "$ILO_SIM_URL" -u Administrator`.
        ...(password !== undefined ? [`export ILO_PASSWORD=${q(password)}`] : []),
        ...(existsSync(emulator) ? [`export ILO_CHIF_LIB=${q(emulator)}`] : []),
        `export ILO_CHIF_EMULATOR_SOCKET=${q(join(dir, 'chif.sock'))}`,
      ];
      writeFileSync(join(dir, 'ca.pem'), info.ca, { mode: 0o600 });
      if (info.vnicUrl && info.vnicCa) {
        writeFileSync(join(dir, 'vnic-ca.pem'), info.vnicCa, { mode: 0o600 });
        const pin = `sha256:${new X509Certificate(info.vnicCa).fingerprint256.replace(/:/g, '').toLowerCase()}`;
        lines.push(`export ILO_VNIC_URL=${q(info.vnicUrl)}`, `export ILO_PIN=${q(pin)}`);
      }
      writeFileSync(join(dir, 'env'), `${lines.join('\n')}\n`, { mode: 0o600 });
    },
    remove() {
      for (const f of files) rmSync(f, { force: true });
      if (made) rmSync(dir, { recursive: true, force: true });
    },
  };
}
