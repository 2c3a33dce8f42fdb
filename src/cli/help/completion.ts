// Shell completion scripts generated from the command tree: subcommands, options (a command's own
// and the global ones, which commander accepts after the command too) and the choices of an
// option's value. Redfish paths are not completed (that would need a login).
import type { Command } from 'commander';
import { commandTree } from './tree.js';

export const SHELLS = ['bash', 'zsh', 'powershell'] as const;
export type Shell = (typeof SHELLS)[number];

interface Model {
  /** Keyed by the command path joined by spaces ('' for the root). */
  subcommands: Map<string, string[]>;
  options: Map<string, string[]>;
  valued: Map<string, string[]>;
  /** Keyed by `path|flag`. */
  choices: Map<string, readonly string[]>;
}

function model(root: Command): Model {
  const m: Model = { subcommands: new Map(), options: new Map(), valued: new Map(), choices: new Map() };
  for (const info of commandTree(root)) {
    const key = info.path.join(' ');
    m.subcommands.set(key, info.subcommands);
    m.options.set(key, info.options.flatMap((o) => o.flags));
    m.valued.set(key, info.options.filter((o) => o.takesValue).flatMap((o) => o.flags));
    for (const o of info.options) if (o.choices.length > 0) for (const f of o.flags) m.choices.set(`${key}|${f}`, o.choices);
  }
  return m;
}

export function completionScript(root: Command, shell: Shell): string {
  const m = model(root);
  return shell === 'bash' ? bash(m) : shell === 'zsh' ? zsh(m) : powershell(m);
}

/** A `case` over keys: the POSIX-shell body shared by bash and zsh (names are plain words). */
function caseOf(fn: string, map: Map<string, readonly string[]>): string {
  const arms = [...map].filter(([, v]) => v.length > 0).map(([k, v]) => `    '${k}') echo '${v.join(' ')}' ;;`);
  return `${fn}() {\n  case "$1" in\n${arms.join('\n')}\n  esac\n}\n`;
}

const HEADER = (how: string) => `# ilo-agent completion, generated from its command tree by \`ilo-agent completion\`.\n# ${how}\n`;

/** The word scan both POSIX shells use: the command path so far, skipping options and their values. */
function posixScan(first: string, last: string): string {
  return `  local cmdpath="" w before i
  for (( i=${first}; i<${last}; i++ )); do
    w="\${words_[i]}"
    before="\${words_[i-1]}"
    case " $(_ilo_agent_valued "$cmdpath") $(_ilo_agent_valued '') " in *" $before "*) continue ;; esac
    case "$w" in -*) continue ;; esac
    case " $(_ilo_agent_subcommands "$cmdpath") " in *" $w "*) cmdpath="\${cmdpath:+$cmdpath }$w" ;; esac
  done
`;
}

function shared(m: Model): string {
  return [caseOf('_ilo_agent_subcommands', m.subcommands), caseOf('_ilo_agent_options', m.options), caseOf('_ilo_agent_valued', m.valued), caseOf('_ilo_agent_choices', m.choices)].join('');
}

function bash(m: Model): string {
  return `${HEADER('Load it with: source <(ilo-agent completion bash)')}${shared(m)}
_ilo_agent() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local -a words_=("\${COMP_WORDS[@]}")
${posixScan('1', 'COMP_CWORD')}  local choices
  choices="$(_ilo_agent_choices "$cmdpath|$prev")"
  [[ -z "$choices" ]] && choices="$(_ilo_agent_choices "|$prev")"
  if [[ -n "$choices" ]]; then
    COMPREPLY=($(compgen -W "$choices" -- "$cur"))
  elif [[ " $(_ilo_agent_valued "$cmdpath") $(_ilo_agent_valued '') " == *" $prev "* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(_ilo_agent_options "$cmdpath") $(_ilo_agent_options '')" -- "$cur"))
  else
    local subs
    subs="$(_ilo_agent_subcommands "$cmdpath")"
    if [[ -n "$subs" ]]; then COMPREPLY=($(compgen -W "$subs" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
  fi
}
complete -o filenames -F _ilo_agent ilo-agent
`;
}

function zsh(m: Model): string {
  // zsh's words are 1-based and CURRENT is the word under the cursor; the case/scan code is shared
  // with bash (zsh runs it as is), only the answer goes through compadd/_files.
  return `#compdef ilo-agent
${HEADER('Load it with: source <(ilo-agent completion zsh), or save it as _ilo-agent in $fpath')}${shared(m)}
_ilo_agent() {
  local cur="\${words[CURRENT]}" prev="\${words[CURRENT-1]}"
  local -a words_=("\${words[@]}")
${posixScan('2', 'CURRENT')}  local choices
  choices="$(_ilo_agent_choices "$cmdpath|$prev")"
  [[ -z "$choices" ]] && choices="$(_ilo_agent_choices "|$prev")"
  if [[ -n "$choices" ]]; then
    compadd -- \${=choices}
  elif [[ " $(_ilo_agent_valued "$cmdpath") $(_ilo_agent_valued '') " == *" $prev "* ]]; then
    _files
  elif [[ "$cur" == -* ]]; then
    local opts="$(_ilo_agent_options "$cmdpath") $(_ilo_agent_options '')"
    compadd -- \${=opts}
  else
    local subs="$(_ilo_agent_subcommands "$cmdpath")"
    if [[ -n "$subs" ]]; then compadd -- \${=subs}; else _files; fi
  fi
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then _ilo_agent "$@"; else compdef _ilo_agent ilo-agent; fi
`;
}

function powershell(m: Model): string {
  const ps = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const table = (map: Map<string, readonly string[]>) => `@{\n${[...map].map(([k, v]) => `    ${ps(k)} = @(${v.map(ps).join(', ')})`).join('\n')}\n  }`;
  return `${HEADER('Load it with: ilo-agent completion powershell | Out-String | Invoke-Expression (add that line to $PROFILE)')}Register-ArgumentCompleter -Native -CommandName ilo-agent, ilo-agent.exe -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $subcommands = ${table(m.subcommands)}
  $options = ${table(m.options)}
  $valued = ${table(m.valued)}
  $choices = ${table(m.choices)}
  $words = @($commandAst.CommandElements | Where-Object { $_.Extent.EndOffset -lt $cursorPosition } | ForEach-Object { $_.ToString() })
  $path = ''
  for ($i = 1; $i -lt $words.Count; $i++) {
    $w = $words[$i]
    if ($i -gt 1 -and (($valued[$path] -contains $words[$i - 1]) -or ($valued[''] -contains $words[$i - 1]))) { continue }
    if ($w.StartsWith('-')) { continue }
    if ($subcommands[$path] -contains $w) { $path = if ($path) { "$path $w" } else { $w } }
  }
  $prev = if ($words.Count -gt 0) { $words[-1] } else { '' }
  $candidates = $choices["$path|$prev"]
  if (-not $candidates) { $candidates = $choices["|$prev"] }
  if (-not $candidates) {
    if (($valued[$path] -contains $prev) -or ($valued[''] -contains $prev)) { return }
    if ($wordToComplete.StartsWith('-')) { $candidates = @($options[$path]) + @($options['']) }
    else { $candidates = $subcommands[$path] }
  }
  $candidates | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
  }
}
`;
}
