/**
 * docker's streamed JSON lines (pull, push, build, load): one JSON object per line, answered 200
 * with the first line. An error before any line is a plain error answer (docker's 404 for a
 * missing image); after it, docker's `{"errorDetail":{"message"},"error"}` line ends the stream.
 */
import type { ServerResponse } from 'node:http';
import type { ProgressEvent } from '../../../protocol/index.js';
import { DOCKER_API_VERSION, type DockerAnswer, type DockerReq } from './http.js';

export interface JsonLines {
  /** Whether a line went out (the answer is 200 from then on). */
  started(): boolean;
  write(line: Record<string, unknown>): void;
  /** docker's progress line for an sbx progress event (build events are the builder's, not here). */
  progress(e: ProgressEvent): void;
}

function lines(res: ServerResponse): JsonLines {
  let started = false;
  const out: JsonLines = {
    started: () => started,
    write(line) {
      if (res.destroyed) return;
      if (!started) {
        res.writeHead(200, { 'content-type': 'application/json', 'api-version': DOCKER_API_VERSION });
        started = true;
      }
      res.write(JSON.stringify(line) + '\r\n');
    },
    progress(e) {
      if (e.type === 'log') out.write({ status: e.message });
      else if (e.type === 'progress') {
        // a byte count only while moving (Downloading, Pushing): docker's CLI hides lines with a
        // progress bar when it is not on a terminal, and "Pushed" / "Pull complete" must show
        const moving = e.current !== undefined && /ing$/.test(e.status);
        const detail = moving ? { current: e.current, ...(e.total ? { total: e.total } : {}) } : {};
        out.write({ status: e.status, progressDetail: detail, id: e.id });
      }
    },
  };
  return out;
}

/** Runs `fn` with a JSON-lines writer on the response; the answer is always `handled` once lines went out. */
export async function streamJson(r: DockerReq, fn: (out: JsonLines) => Promise<void>): Promise<DockerAnswer> {
  const out = lines(r.res);
  try {
    await fn(out);
  } catch (err) {
    if (!out.started()) throw err;
    const e = r.fail(err);
    out.write({ errorDetail: { message: e.message }, error: e.message });
  }
  if (!out.started()) r.res.writeHead(200, { 'content-type': 'application/json', 'api-version': DOCKER_API_VERSION });
  r.res.end();
  return 'handled';
}
