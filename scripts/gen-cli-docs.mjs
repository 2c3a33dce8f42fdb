// Writes docs/cli.md and docs/ilo-agent.1 from the program's own command tree and --help (the
// built one: run `npm run build` first). With --check, writes nothing and exits 1 when either
// file differs from what the program would print (test/cli/help.test.ts runs that).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { buildProgram } = await import(new URL('../dist/cli/program.js', import.meta.url).href);
const { Lifecycle } = await import(new URL('../dist/cli/lifecycle.js', import.meta.url).href);
const { markdownReference, manPage } = await import(new URL('../dist/cli/help/render.js', import.meta.url).href);

const sink = { write: () => true, isTTY: false };
const program = buildProgram({ stdout: sink, stderr: sink, stdin: process.stdin }, {}, new Lifecycle(), () => {
  throw new Error('no logger while generating docs');
});
const files = { 'docs/cli.md': markdownReference(program), 'docs/ilo-agent.1': manPage(program) };

const check = process.argv.includes('--check');
const stale = [];
for (const [path, text] of Object.entries(files)) {
  const target = `${ROOT}${path}`;
  let current;
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) continue;
  if (check) stale.push(path);
  else writeFileSync(target, text);
}
if (stale.length > 0) {
  process.stderr.write(`stale: ${stale.join(', ')}; run \`npm run build && node scripts/gen-cli-docs.mjs\`\n`);
  process.exit(1);
}
