import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { SbxError, type Digest } from '../../protocol/index.js';

/** A pass-through that fails at EOF (or as soon as too many bytes pass) unless digest and size match. */
export class VerifyingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private seen = 0;

  constructor(private readonly digest: Digest, private readonly size?: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.size !== undefined && this.seen > this.size) {
      cb(new SbxError('digest_mismatch', `verify ${this.digest}: more than the expected ${this.size} bytes`));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.size !== undefined && this.seen !== this.size) {
      cb(new SbxError('digest_mismatch', `verify ${this.digest}: got ${this.seen} bytes, expected ${this.size}`));
      return;
    }
    const got = `sha256:${this.hash.digest('hex')}`;
    if (got !== this.digest) {
      cb(new SbxError('digest_mismatch', `verify ${this.digest}: content hashes to ${got}`));
      return;
    }
    cb();
  }
}

export function sha256(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
