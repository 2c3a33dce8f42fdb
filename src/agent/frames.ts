// Splits a byte stream into '\n'-ended frames in linear time: each byte is searched for '\n' once
// (only the new chunk is scanned) and copied once (when its frame is complete). A frame that grows
// past the cap stops the splitter: the connection is refused instead of buffered without end.

export class FrameSplitter {
  readonly #max: number;
  #parts: Buffer[] = [];
  #length = 0;
  #overflowed = false;

  constructor(maxFrameBytes: number) {
    this.#max = maxFrameBytes;
  }

  /** Whether a frame grew past the cap; from then on push returns nothing more. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  /** The frames this chunk completes (without their '\n', as UTF-8 text: '\n' never occurs inside a UTF-8 sequence). */
  push(chunk: Buffer): string[] {
    if (this.#overflowed) return [];
    const frames: string[] = [];
    let start = 0;
    let newline: number;
    while ((newline = chunk.indexOf(0x0a, start)) >= 0) {
      if (this.#length + newline - start > this.#max) return this.#overflow(frames);
      this.#parts.push(chunk.subarray(start, newline));
      frames.push(Buffer.concat(this.#parts).toString('utf8'));
      this.#parts = [];
      this.#length = 0;
      start = newline + 1;
    }
    if (start < chunk.length) {
      this.#length += chunk.length - start;
      if (this.#length > this.#max) return this.#overflow(frames);
      this.#parts.push(chunk.subarray(start));
    }
    return frames;
  }

  /** Frames completed before the oversize one are still delivered. */
  #overflow(frames: string[]): string[] {
    this.#overflowed = true;
    this.#parts = [];
    this.#length = 0;
    return frames;
  }
}
