/** Push-time gzip leaves libuv's pool room for the daemon's file-system calls (daemon/registry/compress.ts). */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { gzipSlots, threadPoolSize } from '../daemon/images/compress.js';

const s = suite('registry: gzip slots');

s('the pool size is what libuv reads from UV_THREADPOOL_SIZE (default 4, at most 1024)', () => {
  assert.is(threadPoolSize({}), 4);
  assert.is(threadPoolSize({ UV_THREADPOOL_SIZE: '16' }), 16);
  assert.is(threadPoolSize({ UV_THREADPOOL_SIZE: '5000' }), 1024);
  assert.is(threadPoolSize({ UV_THREADPOOL_SIZE: 'lots' }), 4);
  assert.is(threadPoolSize({ UV_THREADPOOL_SIZE: '0' }), 4);
});

s('gzip never takes the whole pool: a thread stays free for file-system calls', () => {
  assert.is(gzipSlots(4, 2), 2, '2 cores, default pool');
  assert.is(gzipSlots(4, 16), 3, 'many cores, default pool: the pool decides');
  assert.is(gzipSlots(32, 16), 16, 'a raised pool: all cores gzip');
  assert.is(gzipSlots(2, 8), 1);
  assert.is(gzipSlots(1, 8), 1, 'a pool of one still makes progress');
});

s.run();
