// stdout carries only the result. JSON (one line) when stdout is not a terminal, indented JSON
// or a table for people.
import type { Command } from 'commander';
import type { GlobalFlags, Io } from './connection.js';

export type OutputFormat = 'json' | 'pretty';

export function outputFormat(command: Command, io: Io): OutputFormat {
  return command.optsWithGlobals<GlobalFlags>().output ?? (io.stdout.isTTY ? 'pretty' : 'json');
}

export function printResult(io: Io, format: OutputFormat, value: unknown): void {
  io.stdout.write(format === 'json' ? `${JSON.stringify(value)}\n` : `${JSON.stringify(value, null, 2)}\n`);
}

/** A plain text table (for people; scripts get JSON). */
export function formatTable<T extends object>(rows: readonly T[], columns: ReadonlyArray<keyof T & string>): string {
  const cell = (v: unknown) => (v === undefined || v === null ? '-' : typeof v === 'boolean' ? (v ? 'yes' : '') : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n') + '\n';
}
