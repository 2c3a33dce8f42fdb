// Keeps the arrows one way: reads the imports of src/ and fails on a forbidden edge.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './helpers/shared.js';

const SRC = join(PROJECT_ROOT, 'src');
const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));

function imports(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
}

/** The top folder under src/ an import lands in ('' for src/*.ts), or the package name. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  const rel = relative(SRC, resolve(dirname(join(SRC, file)), spec));
  return rel.includes('/') ? (rel.split('/')[0] as string) : '';
}

const folder = (file: string) => (file.includes('/') ? (file.split('/')[0] as string) : '');

describe('architecture', () => {
  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it('the simulator imports nothing of the client side (cli, client, session, transport)', () => {
    const bad = files
      .filter((f) => folder(f) === 'simulator')
      .flatMap((f) => imports(f).map((s) => [f, target(f, s)]))
      .filter(([, t]) => ['cli', 'client', 'session', 'transport', 'binding'].includes(t as string));
    expect(bad).toEqual([]);
  });

  it('commander is used only in cli/, and signals and exit codes are set only there', () => {
    const offenders: string[] = [];
    for (const f of files) {
      if (folder(f) === 'cli') continue;
      const text = readFileSync(join(SRC, f), 'utf8');
      if (imports(f).includes('commander')) offenders.push(`${f}: imports commander`);
      if (/process\.(exitCode|exit\()/.test(text)) offenders.push(`${f}: sets the exit code`);
      if (/process\.(on|once)\(\s*['"]SIG/.test(text)) offenders.push(`${f}: handles signals`);
    }
    expect(offenders).toEqual([]);
  });

  it('nothing calls process.exit()', () => {
    const offenders = files.filter((f) => /process\.exit\(/.test(readFileSync(join(SRC, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('errors.ts and log/ are leaves', () => {
    for (const f of files.filter((x) => x === 'errors.ts' || folder(x) === 'log')) {
      expect(imports(f).filter((s) => s.startsWith('.')), f).toEqual([]);
    }
  });
});
