// Helpers of the benchmark: statistics, timed child processes (every one tracked, so that a
// failure or a signal still ends them), /proc readings and the machine description.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, availableParallelism } from 'node:os';
import { delimiter, join } from 'node:path';

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Median of the per-round ratios subject[i] / baseline[i] (rounds run both back to back). */
export function pairedRatio(subject, baseline) {
  return median(subject.map((s, i) => s / baseline[i]));
}

export const fmt = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
export const ratio = (x, digits = 2) => (Number.isFinite(x) ? `${x.toFixed(digits)}×` : 'n/a');

export function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map((r) => line(r.map(String)))].join('\n');
}

/** Rotates `list` by `n`: each round starts with a different subject. */
export function rotate(list, n) {
  const k = n % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

const children = new Set();

/**
 * Spawns a command and times it from spawn() to its exit (ms, hrtime). Answers
 * {ms, code, signal, stdout, stderr}. Never throws for a non-zero exit: callers check.
 */
export function runTimed(command, args, { env, timeoutMs = 60_000, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    let exitedAt;
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', () => (exitedAt = process.hrtime.bigint()));
    child.on('error', (error) => {
      clearTimeout(timer);
      children.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const end = exitedAt ?? process.hrtime.bigint();
      resolve({ ms: Number(end - start) / 1e6, code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

/** A long-running child (serve): tracked for cleanup; the caller reads its streams. */
export function spawnTracked(command, args, options) {
  const child = spawn(command, args, options);
  children.add(child);
  child.on('close', () => children.delete(child));
  return child;
}

/** Ends every child still running (each by its own pid), waiting up to `graceMs` before SIGKILL. */
export async function killChildren(graceMs = 5000) {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const hard = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('close', () => {
            clearTimeout(hard);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM), or NaN. */
export function procStatusBytes(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

export function machine() {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1].trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  return { cpu: model, cores: availableParallelism?.() ?? cpus().length, node: process.version, platform: `${process.platform} ${process.arch}` };
}

/** The first executable named `name` on PATH, or undefined. */
export function which(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export function parseJsonLine(text, what) {
  const line = text.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`${what}: expected a JSON line, got ${JSON.stringify(text.slice(0, 300))}`);
  }
}
