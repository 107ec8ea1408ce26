/**
 * A byte ring addressed by absolute offsets: bytes [start, end) are retained, older ones are
 * dropped once more than `capacity` bytes are held. Offsets never reset (JS numbers are exact to
 * 2^53 bytes), so a reader's cursor stays meaningful across drops: a cursor below `start` has
 * lost [cursor, start) and must be told so (a gap), never silently skipped.
 */
export class ByteRing {
  private chunks: Buffer[] = [];
  private first = 0; // offset of chunks[0]
  private held = 0;
  end = 0;

  constructor(readonly capacity: number) {}

  get start(): number { return this.first; }

  append(data: Buffer): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.held += data.length;
    this.end += data.length;
    while (this.held - this.chunks[0]!.length >= this.capacity && this.chunks.length > 1) {
      const c = this.chunks.shift()!;
      this.held -= c.length;
      this.first += c.length;
    }
  }

  /** Up to `max` bytes from `from` (start ≤ from ≤ end). */
  read(from: number, max: number): Buffer {
    return this.copy(from, max, false, 0);
  }

  /**
   * Up to `max` bytes from `from` behind one `prefix` byte, in one allocation and one copy: a
   * data frame ready for the wire (sbx.stream.v1's channel byte, then the payload).
   */
  readFrame(prefix: number, from: number, max: number): Buffer {
    return this.copy(from, max, true, prefix);
  }

  private copy(from: number, max: number, framed: boolean, prefix: number): Buffer {
    if (from < this.first || from > this.end) throw new RangeError(`ring read at ${from}: retained [${this.first}, ${this.end})`);
    const n = Math.max(0, Math.min(max, this.end - from));
    // readers are usually near the end: find the chunk holding `from` walking backwards
    let i = this.chunks.length;
    let pos = this.end;
    while (i > 0 && pos > from) pos -= this.chunks[--i]!.length;
    const head = framed ? 1 : 0;
    if (!framed && i < this.chunks.length) {
      const c = this.chunks[i]!;
      const s = from - pos;
      if (s + n <= c.length) return c.subarray(s, s + n); // within one chunk: no copy
    }
    const out = Buffer.allocUnsafe(head + n);
    if (framed) out[0] = prefix;
    let at = head;
    for (; at < out.length && i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      const s = Math.max(0, from - pos);
      const len = Math.min(c.length - s, out.length - at);
      c.copy(out, at, s, s + len);
      at += len;
      pos += c.length;
      from = pos;
    }
    return out;
  }
}
