/**
 * docker's POST /build (the classic builder's API: a tar context in the body, options in the
 * query) and POST /build/prune, over sbx's builder. Progress is streamed as the classic builder
 * writes it — {"stream":"Step 1/5 : FROM busybox\n"}, " ---> Using cache", " ---> 0123456789ab",
 * {"aux":{"ID":"sha256:..."}}, "Successfully built …", "Successfully tagged …" — so `docker build`
 * prints it and `-q`/`--iidfile` find the image ID. A query option sbx does not do is refused
 * naming it when it carries a value; the CLI sends most at their zero value.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SbxError, familiarString, parseReference, type BuildEvent } from '../../../protocol/index.js';
import { receiveContext, tmpRoot } from '../../build/context.js';
import { buildImage } from '../../build/executor.js';
import { pruneBuildCache } from '../../build/prune.js';
import type { Services } from '../../services.js';
import { qbool, type DockerRouter } from './http.js';
import type { JsonLines } from './progress.js';
import { streamJson } from './progress.js';

/** Handled below, or meaning nothing to sbx (the builder always removes its containers; session is BuildKit's). */
const KNOWN = new Set(['t', 'dockerfile', 'buildargs', 'target', 'nocache', 'labels', 'pull', 'q', 'rm', 'forcerm', 'session', 'version']);
const ZERO = new Set(['', '0', 'null', '[]', '{}', 'false', 'default']);

/** A JSON object query value of string values (docker's buildargs, labels); null values are unset (docker's). */
function jsonMap(q: URLSearchParams, key: string): Record<string, string> {
  const text = q.get(key);
  if (!text) return {};
  let v: unknown;
  try { v = JSON.parse(text); } catch { throw new SbxError('invalid_argument', `build: ${key} is not valid JSON (expected {"KEY":"VALUE"})`); }
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new SbxError('invalid_argument', `build: ${key}: expected a JSON object {"KEY":"VALUE"}`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === null) continue;
    if (typeof x !== 'string') throw new SbxError('invalid_argument', `build: ${key}.${k}: expected a string`);
    out[k] = x;
  }
  return out;
}

const short = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

/** The classic builder's lines for one build event. */
function classic(out: JsonLines, e: BuildEvent): void {
  switch (e.kind) {
    case 'start': out.write({ stream: `Step ${e.step}/${e.total} : ${e.text}\n` }); break;
    case 'cached': out.write({ stream: ' ---> Using cache\n' }); out.write({ stream: ` ---> ${short(e.image)}\n` }); break;
    case 'done': out.write({ stream: ` ---> ${short(e.image)}\n` }); break;
    case 'output': out.write({ stream: e.data }); break;
    case 'warning': out.write({ stream: `[WARNING]: ${e.message}\n` }); break;
    case 'error': break; // the stream's error line says it
  }
}

export function registerDockerBuild(r: DockerRouter, s: Services): void {
  r.on('POST', '/build', async (req) => {
    const q = req.query;
    for (const [k, v] of q) if (!KNOWN.has(k) && !ZERO.has(v)) throw new SbxError('invalid_argument', `build: ${k} is not supported by sbx`, { detail: { field: k, expected: 'absent or zero' } });
    if (q.get('version') === '2') throw new SbxError('invalid_argument', 'build: BuildKit (version=2) is not supported by sbx; use the classic builder (DOCKER_BUILDKIT=0)');
    const tags = q.getAll('t').filter(Boolean);
    for (const t of tags) parseReference(t);
    const buildArgs = jsonMap(q, 'buildargs');
    const labels = jsonMap(q, 'labels');
    const target = q.get('target');
    const quiet = qbool(q, 'q');
    const context = await receiveContext(s.config.root, req.req, q.get('dockerfile') || 'Dockerfile', req.signal);
    const tmp = await mkdtemp(join(tmpRoot(s.config.root), 'work-'));
    try {
      return await streamJson(req, async (out) => {
        const res = await buildImage({ ...s, cache: s.buildCache }, {
          dockerfile: context.dockerfile, contextDir: context.dir, ignore: context.ignore, tmp,
          tags, buildArgs, labels, noCache: qbool(q, 'nocache'), pull: qbool(q, 'pull'),
          ...(target ? { target } : {}),
          signal: req.signal,
          emit: (e) => { if (!quiet) classic(out, e); },
        });
        out.write({ aux: { ID: res.Id } });
        // -q: the ID alone, which the CLI prints
        if (quiet) out.write({ stream: `${res.Id}\n` });
        else {
          out.write({ stream: `Successfully built ${short(res.Id)}\n` });
          for (const t of res.Tags) out.write({ stream: `Successfully tagged ${familiarString(parseReference(t))}\n` });
        }
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
      await context.dispose();
    }
  }, { raw: true });

  r.on('POST', '/build/prune', async ({ query }) => {
    const res = await pruneBuildCache(s.cacheSources, qbool(query, 'all'));
    return { json: { CachesDeleted: res.deleted, SpaceReclaimed: res.reclaimed } };
  });
}
