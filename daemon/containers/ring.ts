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
    if (from < this.first || from > this.end) throw new RangeError(`ring read at ${from}: retained [${this.first}, ${this.end})`);
    const out: Buffer[] = [];
    let pos = this.first;
    let want = Math.min(max, this.end - from);
    for (const c of this.chunks) {
      if (want <= 0) break;
      const cEnd = pos + c.length;
      if (cEnd > from) {
        const s = Math.max(0, from - pos);
        const piece = c.subarray(s, Math.min(c.length, s + want));
        out.push(piece);
        want -= piece.length;
        from += piece.length;
      }
      pos = cEnd;
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }
}
