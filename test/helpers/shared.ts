// Tests may use ../shared (reference mockups), but a fresh clone without it must still pass:
// such tests skip with a visible reason, and fail when CI=true (CI always has shared/).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = resolve(PROJECT_ROOT, '../shared');

/** The path of something under ../shared, or undefined (after registering a failing test under CI). */
export function sharedPath(relative: string): string | undefined {
  const path = resolve(SHARED, relative);
  if (existsSync(path)) return path;
  if (process.env.CI === 'true') {
    it(`needs ../shared/${relative} (required when CI=true)`, () => {
      throw new Error(`../shared/${relative} is missing at ${path}; CI must provide shared/`);
    });
  }
  return undefined;
}

export function skipReason(relative: string): string {
  return `SKIPPED: ../shared/${relative} is absent (fresh clone without shared/)`;
}
