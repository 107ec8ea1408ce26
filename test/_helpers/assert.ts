import * as assert from 'uvu/assert';
import { SbxError, type ErrorCode } from '../../protocol/index.js';

/** Await `fn` and assert it rejects with an SbxError of `code` (uvu's throws is sync-only). */
export async function rejects(fn: () => Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<SbxError> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof SbxError)) assert.unreachable(`expected SbxError ${code}, got ${e instanceof Error ? e.stack : String(e)}`);
    assert.is((e as SbxError).code, code, `expected code ${code}, got ${(e as SbxError).code}: ${(e as SbxError).message}`);
    if (message) assert.match((e as SbxError).message, message);
    return e as SbxError;
  }
  assert.unreachable(`expected a rejection with ${code}`);
  throw new Error('unreachable');
}
