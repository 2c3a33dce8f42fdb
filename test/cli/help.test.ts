// --help pages with examples, environment and exit statuses; docs/cli.md and the man page made
// from them (and failing here when stale); shell completion scripts from the same command tree.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_MEANINGS } from '../../src/cli/exit-codes.js';
import { COMMAND_DOCS } from '../../src/cli/help/commands.js';
import { exitLabel } from '../../src/cli/help/document.js';
import { helpText } from '../../src/cli/help/render.js';
import { commandTree } from '../../src/cli/help/tree.js';
import { Lifecycle } from '../../src/cli/lifecycle.js';
import { buildProgram } from '../../src/cli/program.js';
import { killLive, runToEnd } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/shared.js';

afterAll(killLive);

function program() {
  const sink = new PassThrough();
  return buildProgram({ stdout: sink, stderr: sink, stdin: new PassThrough() }, {}, new Lifecycle(), () => {
    throw new Error('no logger in this test');
  });
}
const tree = commandTree(program());
const names = (root = tree) => root.map((c) => c.path.join(' '));

describe('--help', () => {
  it.each(names())('"%s" has examples, the environment it reads and its exit statuses', (path) => {
    const info = tree.find((c) => c.path.join(' ') === path)!;
    const text = helpText(info.command);
    const doc = COMMAND_DOCS[path]!;
    expect(text).toMatch(/\nExamples:\n {2}(\$|#) /);
    expect(doc.examples.join('\n')).toContain(`ilo-agent ${path}`.trim());
    for (const name of doc.env) expect(text).toContain(`\n  ${name} `);
    expect(text).toContain('\nExit status:\n');
    for (const status of doc.exits) expect(text).toMatch(new RegExp(`\\n  ${exitLabel(status).replace('+', '\\+')} +${EXIT_MEANINGS[status].slice(0, 20).replace(/[()+.]/g, '\\$&')}`));
  });

  it('commands that log in list the connection variables, ILO_CA_CERT among them, and exit statuses 3 to 8', () => {
    for (const path of ['get', 'sessions prune', 'info', 'serve']) {
      expect(COMMAND_DOCS[path]!.env).toEqual(expect.arrayContaining(['ILO_URL', 'ILO_PASSWORD', 'ILO_CA_CERT', 'ILO_PIN']));
      expect(COMMAND_DOCS[path]!.exits).toEqual(expect.arrayContaining([3, 4, 5, 6, 7, 8]));
    }
    expect(COMMAND_DOCS.set!.exits).toContain(10);
    expect(COMMAND_DOCS.crawl!.exits).toContain(11);
    expect(COMMAND_DOCS.wait!.exits).toContain(12);
    expect(COMMAND_DOCS.serve!.env).toContain('NOTIFY_SOCKET');
  });

  it('documents no command that does not exist', () => {
    expect(Object.keys(COMMAND_DOCS).sort()).toEqual(names().sort());
  });

  it('the built bin prints it, with the global options a command accepts', async () => {
    const r = await runToEnd(['sessions', 'prune', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--idle-for <duration>');
    expect(r.stdout).toContain('Global Options:');
    expect(r.stdout).toContain('(env: ILO_CA_CERT)');
    expect(r.stdout).toContain('$ ilo-agent sessions prune --idle-for 30m');
    expect(r.stdout).toContain('128+n');
  });

  it('README\'s exit code table has a row for every status', () => {
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Exit codes'));
    const rows = [...table.matchAll(/^\| ([0-9][0-9, +n]*) \|/gm)].flatMap((m) => m[1]!.split(', '));
    for (const status of Object.keys(EXIT_MEANINGS)) expect(rows).toContain(exitLabel(Number(status) as keyof typeof EXIT_MEANINGS));
  });
});

describe('generated docs', () => {
  it('docs/cli.md and docs/ilo-agent.1 are what `node scripts/gen-cli-docs.mjs` writes (run it after changing a command)', () => {
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts/gen-cli-docs.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('docs/cli.md holds every command\'s help page', () => {
    const md = readFileSync(join(PROJECT_ROOT, 'docs/cli.md'), 'utf8');
    for (const info of tree) expect(md).toContain(`## ${['ilo-agent', ...info.path].join(' ')}\n\n\`\`\`text\n${helpText(info.command).trimEnd()}\n\`\`\``);
  });

  it('`ilo-agent man` prints roff with every command, the environment and the exit statuses', async () => {
    const r = await runToEnd(['man']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(PROJECT_ROOT, 'docs/ilo-agent.1'), 'utf8'));
    expect(r.stdout).toMatch(/^\.TH ILO-AGENT 1 /);
    for (const info of tree.slice(1)) expect(r.stdout).toContain(`.SS "${['ilo-agent', ...info.path].join(' ').replace(/-/g, '\\-')} `);
    expect(r.stdout).toContain('.SH ENVIRONMENT\n.TP\n.B ILO_URL');
    expect(r.stdout).toContain('.SH EXIT STATUS');
    // No line starts with a control character by accident (an example starting with "." or "'").
    expect(r.stdout.split('\n').filter((l) => /^[.'](?!TH|SH|SS|TP|B |I |PP|RS|RE|nf|fi)/.test(l))).toEqual([]);
  });
});

describe('completion', () => {
  const TMP = mkdtempSync(join(tmpdir(), 'ilo-agent-completion-'));
  const scripts: Partial<Record<string, string>> = {};
  async function script(shell: string): Promise<string> {
    if (scripts[shell] === undefined) {
      const r = await runToEnd(['completion', shell]);
      expect(r.code).toBe(0);
      scripts[shell] = r.stdout;
    }
    return scripts[shell]!;
  }

  /** What bash completes for `words`, the last being the word under the cursor. */
  async function bashComplete(words: string[]): Promise<string[]> {
    const file = join(TMP, 'ilo-agent.bash');
    writeFileSync(file, await script('bash'));
    const quoted = words.map((w) => `'${w}'`).join(' ');
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `source '${file}' && COMP_WORDS=(${quoted}) && COMP_CWORD=${words.length - 1} && _ilo_agent && printf '%s\\n' "\${COMPREPLY[@]}"`], {
      encoding: 'utf8',
      cwd: TMP,
    });
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter(Boolean).sort();
  }

  it('bash completes a command, a subcommand, an option and an option\'s choices', async () => {
    expect(await bashComplete(['ilo-agent', 'sess'])).toEqual(['sessions']);
    expect(await bashComplete(['ilo-agent', 'sessions', 'pr'])).toEqual(['prune']);
    expect(await bashComplete(['ilo-agent', 'sessions', 'prune', '--idle'])).toEqual(['--idle-for']);
    // a global option after the command, and an option's value is not taken for a command
    expect(await bashComplete(['ilo-agent', '--url', 'sessions', 'get', '--sel'])).toEqual(['--select']);
    expect(await bashComplete(['ilo-agent', 'get', '--inb'])).toEqual(['--inband']);
    expect(await bashComplete(['ilo-agent', '--inband', ''])).toEqual(['auto', 'chif', 'vnic']);
    expect(await bashComplete(['ilo-agent', 'completion', 'z'])).toEqual([]);
    expect(await bashComplete(['ilo-agent', 'simulate', '--profile', 'ilo5'])).toEqual(['ilo5', 'ilo5-legacy']);
  });

  const zsh = spawnSync('zsh', ['-f', '-c', 'true']).status === 0;
  it.skipIf(!zsh)(`zsh completes a command, an option and an option's choices${zsh ? '' : ' (skipped: zsh is not installed)'}`, async () => {
    const file = join(TMP, '_ilo-agent');
    writeFileSync(file, await script('zsh'));
    // compadd and _files exist only inside zsh's completion system: stand-ins print what they are given.
    const complete = (words: string[]) => {
      const quoted = words.map((w) => `'${w}'`).join(' ');
      const r = spawnSync('zsh', ['-f', '-c', `autoload -Uz compinit && compinit -u -d '${TMP}/zcompdump' && source '${file}' && compadd() { shift; print -l -- "$@" } && _files() { print -- '<files>' } && words=(${quoted}) && CURRENT=${words.length} && _ilo_agent`], { encoding: 'utf8', cwd: TMP });
      expect(r.stderr).toBe('');
      const cur = words[words.length - 1]!;
      return r.stdout.split('\n').filter((w) => w !== '' && w.startsWith(cur)).sort();
    };
    expect(complete(['ilo-agent', 'sess'])).toEqual(['sessions']);
    expect(complete(['ilo-agent', 'sessions', 'prune', '--idle'])).toEqual(['--idle-for']);
    expect(complete(['ilo-agent', '--url', 'sessions', 'get', '--sel'])).toEqual(['--select']);
    expect(complete(['ilo-agent', '--inband', ''])).toEqual(['auto', 'chif', 'vnic']);
  });

  it.each(['bash', 'zsh', 'powershell'])('the %s script names every command and its options', async (shell) => {
    const text = await script(shell);
    for (const info of tree) {
      for (const sub of info.subcommands) expect(text).toMatch(new RegExp(`[' ]${sub}[' ]`));
      for (const option of info.options) for (const flag of option.flags) expect(text).toContain(flag);
    }
    expect(text).toContain('--idle-for');
  });

  it('an unknown shell is a usage error (exit 2)', async () => {
    const r = await runToEnd(['completion', 'fish']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
});
