// Keeps the arrows one way: reads the imports of src/ and fails on a forbidden edge.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

/**
 * The one exception to "only cli/ exits": the guardian's entry point is a program of its own
 * (spawned by the agent, see src/guardian/) and must leave at its deadline, whatever is pending.
 */
const OTHER_PROGRAMS = ['guardian/main.ts'];
/**
 * Files that own the process, not a layer: they exit past pending native calls (exitNow,
 * nativeCallsPending), harden it (protectSecrets, refuseDebugSignal) or pick the native module.
 * They take those from binding/ directly rather than through every layer's index.
 */
const PROCESS_LEVEL = ['cli/main.ts', 'cli/connection.ts', 'guardian/main.ts', 'bin/run-entry.ts', 'bin/single-executable.ts'];
/** SIGUSR1 is no stop: its listener only keeps Node from opening a debugger (see the file). */
const DEBUG_SIGNAL_REFUSAL = 'binding/process-hardening.ts';

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
      if (/process\.(exitCode|exit\()/.test(text) && !OTHER_PROGRAMS.includes(f)) offenders.push(`${f}: sets the exit code`);
      if (/process\.(on|once)\(\s*['"]SIG/.test(text) && f !== DEBUG_SIGNAL_REFUSAL) offenders.push(`${f}: handles signals`);
    }
    expect(offenders).toEqual([]);
  });

  it('only cli/main.ts (and the guardian\'s entry point) call process.exit()', () => {
    const offenders = files.filter((f) => f !== 'cli/main.ts' && !OTHER_PROGRAMS.includes(f) && /process\.exit\(/.test(readFileSync(join(SRC, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('data flows one way: cli → client → guardian → session → transport', () => {
    const forbidden: Record<string, string[]> = {
      binding: ['transport', 'session', 'guardian', 'client', 'cli', 'simulator'],
      transport: ['session', 'guardian', 'client', 'cli', 'simulator'],
      session: ['guardian', 'client', 'cli', 'simulator'],
      guardian: ['client', 'cli', 'simulator'],
      client: ['cli', 'simulator'],
      // Shared by the client and the simulator: a leaf.
      redfish: ['binding', 'transport', 'session', 'guardian', 'client', 'cli', 'simulator', 'agent', 'log', ''],
    };
    const bad = files.flatMap((f) =>
      imports(f)
        .map((s) => target(f, s))
        .filter((t) => forbidden[folder(f)]?.includes(t))
        .map((t) => `${f} imports ${t}/`),
    );
    expect(bad).toEqual([]);
  });

  it('cli imports neither session/ nor transport/: the client is its one door below', () => {
    const bad = files
      .filter((f) => folder(f) === 'cli')
      .flatMap((f) => imports(f).map((s) => [f, target(f, s)]))
      .filter(([, t]) => t === 'session' || t === 'transport')
      .map(([f, t]) => `${f} imports ${t}/`);
    expect(bad).toEqual([]);
  });

  it('other folders import a folder only through its index.ts', () => {
    const bad: string[] = [];
    for (const f of files) {
      for (const spec of imports(f).filter((s) => s.startsWith('.'))) {
        const resolved = relative(SRC, resolve(dirname(join(SRC, f)), spec));
        const to = resolved.includes('/') ? (resolved.split('/')[0] as string) : '';
        if (to && to !== folder(f) && ['transport', 'session', 'guardian', 'client', 'simulator', 'binding'].includes(to) && resolved !== `${to}/index.js`) {
          bad.push(`${f} reaches into ${resolved}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('koffi is loaded only by binding/ (the one door to native code), and only lazily', () => {
    const users = files.filter((f) => /['"]koffi['"]/.test(readFileSync(join(SRC, f), 'utf8')));
    expect(users).toEqual(['binding/chif-library.ts']);
    // a static import would load the native module even for HTTPS-only runs
    expect(readFileSync(join(SRC, 'binding/chif-library.ts'), 'utf8')).not.toMatch(/^import [^;]*from 'koffi'/m);
  });

  it('binding/ is reached only through transport/ (and agent/, for the peer credentials of its socket), and by the programs for process-level concerns', () => {
    const bad = files.filter((f) => !['transport', 'binding', 'agent'].includes(folder(f)) && !PROCESS_LEVEL.includes(f) && imports(f).some((s) => target(f, s) === 'binding'));
    expect(bad).toEqual([]);
    // No layer passes binding/'s process calls on: a program takes them from binding/ itself.
    for (const index of ['transport/index.ts', 'client/index.ts']) expect(readFileSync(join(SRC, index), 'utf8'), index).not.toMatch(/exitNow|nativeCallsPending|protectSecrets|refuseDebugSignal|useKoffiNativeModule/);
  });

  it('errors.ts and log/ are leaves', () => {
    for (const f of files.filter((x) => x === 'errors.ts' || folder(x) === 'log')) {
      expect(imports(f).filter((s) => s.startsWith('.')), f).toEqual([]);
    }
  });
});

// Comments cite the repository's own reference notes as `docs/reference/<file> §N` (or an RFC):
// a fresh clone must be able to follow every citation, so none may point outside the repository.
describe('reference citations', () => {
  const REFERENCE = join(PROJECT_ROOT, 'docs', 'reference');
  const CITED_IN = ['src', 'native-bindings', 'scripts'];
  const sources = CITED_IN.flatMap((dir) =>
    readdirSync(join(PROJECT_ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.(ts|mjs|cjs|js|c|h|md)$/.test(f))
      .map((f) => join(dir, f)),
  );
  /** A document name, then any run of "§N", "§N.M" joined by commas, dashes or "and". */
  const CITATION = /docs\/reference\/([\w.-]+\.md)((?:\s*(?:,|–|-|and)?\s*§\d+(?:\.\d+)*)*)/g;
  const lines = () =>
    sources.flatMap((file) => readFileSync(join(PROJECT_ROOT, file), 'utf8').split('\n').map((text, i) => ({ where: `${file}:${i + 1}`, text })));

  it('finds the files it checks, and the notes', () => {
    expect(sources.length).toBeGreaterThan(20);
    expect(existsSync(join(REFERENCE, 'README.md'))).toBe(true);
  });

  it('every docs/reference citation names an existing note and a section it has', () => {
    const bad: string[] = [];
    let cited = 0;
    for (const { where, text } of lines()) {
      for (const [, doc, sections] of text.matchAll(CITATION)) {
        const path = join(REFERENCE, doc as string);
        if (!existsSync(path)) {
          bad.push(`${where}: no file docs/reference/${doc}`);
          continue;
        }
        const note = readFileSync(path, 'utf8');
        for (const [, section] of (sections as string).matchAll(/§(\d+(?:\.\d+)*)/g)) {
          cited++;
          const heading = new RegExp(`^#{2,6} ${(section as string).replace(/\./g, '\\.')}\\.?\\s`, 'm');
          if (!heading.test(note)) bad.push(`${where}: docs/reference/${doc} has no section ${section}`);
        }
      }
    }
    expect(bad).toEqual([]);
    expect(cited).toBeGreaterThan(50);
  });

  it('no citation points outside the repository or leaves out its document', () => {
    const bad: string[] = [];
    for (const { where, text } of lines()) {
      if (/shared\/reference/.test(text)) bad.push(`${where}: cites ../shared/reference (outside the repository)`);
      if (/reference §/i.test(text)) bad.push(`${where}: "reference §" without naming the document`);
      // Whatever remains after the named citations must hold no "§": a bare "§12.2" names nothing.
      const rest = text.replace(CITATION, '').replace(/RFC \d+ §\d+(?:\.\d+)*/g, '');
      if (rest.includes('§')) bad.push(`${where}: a "§" that names no document (write docs/reference/<file> §N)`);
    }
    expect(bad).toEqual([]);
  });
});
