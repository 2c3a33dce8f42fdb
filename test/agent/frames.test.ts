// The agent's frame splitter: frames across chunks, the cap, and linear work.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FrameSplitter } from '../../src/agent/frames.js';

afterEach(() => vi.restoreAllMocks());

describe('FrameSplitter', () => {
  it('returns the frames a chunk completes, across chunk boundaries and inside UTF-8 sequences', () => {
    const splitter = new FrameSplitter(1024);
    const bytes = Buffer.from('{"a":"é€"}\n\n{"b":2}\n{"c"');
    const frames: string[] = [];
    for (let i = 0; i < bytes.length; i++) frames.push(...splitter.push(bytes.subarray(i, i + 1)));
    expect(frames).toEqual(['{"a":"é€"}', '', '{"b":2}']);
    expect(splitter.push(Buffer.from(':3}\n'))).toEqual(['{"c":3}']);
  });

  it('measures each frame of a chunk from its own start: a short frame after a long one fits', () => {
    const splitter = new FrameSplitter(10);
    expect(splitter.push(Buffer.from('aaaaaaaa\nbbb\n'))).toEqual(['aaaaaaaa', 'bbb']);
    expect(splitter.overflowed).toBe(false);
  });

  it('stops at a frame longer than the cap, whether its newline came or not, after the frames before it', () => {
    const open = new FrameSplitter(10);
    expect(open.push(Buffer.from('ok\n0123456789'))).toEqual(['ok']);
    expect(open.overflowed).toBe(false);
    expect(open.push(Buffer.from('x'))).toEqual([]);
    expect(open.overflowed).toBe(true);
    expect(open.push(Buffer.from('\nlater\n'))).toEqual([]);

    const ended = new FrameSplitter(10);
    expect(ended.push(Buffer.from('ok\n0123456789x\nnext\n'))).toEqual(['ok']);
    expect(ended.overflowed).toBe(true);
    // exactly the cap is allowed
    expect(new FrameSplitter(10).push(Buffer.from('0123456789\n'))).toEqual(['0123456789']);
  });

  it('scans each byte once: a large frame in many small chunks costs work linear in its size', () => {
    let scanned = 0;
    const indexOf = Buffer.prototype.indexOf;
    vi.spyOn(Buffer.prototype, 'indexOf').mockImplementation(function (this: Buffer, value: unknown, offset?: unknown, encoding?: unknown) {
      scanned += this.length - (typeof offset === 'number' ? offset : 0);
      return indexOf.call(this, value as number, offset as number, encoding as BufferEncoding);
    });
    const concat = vi.spyOn(Buffer, 'concat');
    const splitter = new FrameSplitter(8 * 1024 * 1024);
    const chunk = Buffer.alloc(1024, 0x61);
    const chunks = 4096; // a 4 MiB frame in 1 KiB chunks
    for (let i = 0; i < chunks; i++) expect(splitter.push(chunk)).toEqual([]);
    const [frame] = splitter.push(Buffer.from('\n'));
    expect(frame).toHaveLength(chunks * 1024);
    // a splitter that searched its whole buffer on each chunk would scan about 8 GiB here
    expect(scanned).toBeLessThanOrEqual(chunks * 1024 + 1);
    expect(concat).toHaveBeenCalledTimes(1);
  });
});
