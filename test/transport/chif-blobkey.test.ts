// HPE's blob keys (src/transport/chif/blobstore.ts blobKey): ten characters of [A-Za-z0-9] from
// one random draw, bytes 248..255 skipped so that no character is likelier than another.
import { afterEach, describe, expect, it, vi } from 'vitest';

const draws = vi.hoisted(() => ({ queue: [] as Buffer[], count: 0 }));
vi.mock('node:crypto', async (original) => {
  const real = await original<typeof import('node:crypto')>();
  return {
    ...real,
    randomBytes: (size: number) => {
      draws.count++;
      return draws.queue.shift() ?? real.randomBytes(size);
    },
  };
});

const { blobKey } = await import('../../src/transport/chif/blobstore.js');

afterEach(() => {
  draws.queue = [];
  draws.count = 0;
});

describe('blobKey', () => {
  it('ten characters of [A-Za-z0-9], a different key each time', () => {
    const keys = new Set(Array.from({ length: 50 }, () => blobKey()));
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9]{10}$/);
    expect(keys.size).toBe(50);
  });

  it('maps each byte below 248 to one character (byte mod 62), skips 248..255, stops at ten, from one draw', () => {
    draws.queue = [Buffer.from([248, 255, 0, 61, 62, 247, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])];
    expect(blobKey()).toBe('A9A9BCDEFG');
    expect(draws.count).toBe(1);
  });

  it('draws again when one draw has too few usable bytes', () => {
    draws.queue = [Buffer.from([...Array<number>(12).fill(250), 25, 26, 51, 52]), Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])];
    expect(blobKey()).toBe('Zaz0ABCDEF');
    expect(draws.count).toBe(2);
  });
});
