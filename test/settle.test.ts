/**
 * The heap settler: an idle daemon also settles after work that no request started (journals'
 * periodic rescans), once its heap has grown by `growth` since the last settle.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { heapSettler } from '../daemon/util/settle.js';
import { eventually } from './_helpers/wait.js';

test('the heap growing by `growth` while no request runs settles it again', async () => {
  const settles: number[] = [];
  const s = heapSettler({ quietMs: 1, watchMs: 20, growth: 4 << 20, onSettle: (u) => settles.push(u) });
  try {
    s.busy();
    const first = await eventually('the first settle (after busy)', () => settles[0]);
    // kept alive, so no collection of V8's own can shrink it back under the threshold
    const kept = Array.from({ length: 8 }, () => Array.from({ length: 1 << 17 }, (_, i) => i + 0.5)); // 8 × 1 MiB of doubles
    const again = await eventually('a settle with no busy()', () => settles[1], 5_000);
    assert.ok(again - first >= 4 << 20, `the second settle saw the grown heap (${first} -> ${again})`);
    assert.is(kept.length, 8);
  } finally {
    s.close();
  }
});

test.run();
