// The second half of `npm test`: the whole suite again under the current LTS line (Node 24, the
// official binary from the npm registry), so every change is tested on the oldest supported Node
// (the one running npm) and on the one users run. Child processes the tests spawn inherit it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { LTS_VERSION, ROOT, officialNode } from './lib/official-node.mjs';

const say = (line) => process.stderr.write(`test-lts: ${line}\n`);
const target = { linux: 'linux-x64', win32: 'win-x64' }[process.platform];
const major = Number(process.versions.node.split('.')[0]);

if (major >= Number(LTS_VERSION.split('.')[0])) {
  say(`already on Node ${process.versions.node}: the run above was the LTS run`);
  process.exit(0);
}
if (!target || process.arch !== 'x64') {
  say(`no official Node package for ${process.platform}-${process.arch}; the LTS run is skipped`);
  process.exit(process.env.CI === 'true' ? 1 : 0);
}
const node = officialNode(target, say);
say(`running the suite under Node ${LTS_VERSION} (${node})`);
// The deployment tests drive the single executables, which carry their own Node: once is enough.
const result = spawnSync(node, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--exclude', 'test/deploy/**', ...process.argv.slice(2)], { stdio: 'inherit', cwd: ROOT });
process.exit(result.status ?? 1);
