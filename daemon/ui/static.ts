/**
 * The page's files (dist/ui/, built by scripts/build-ui.mjs), served as they are: GET/HEAD only,
 * "/" is index.html, nothing outside the folder, no listing. Every answer forbids framing and
 * sniffing; the page may load and connect only to its own origin.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
};

/** Headers on every answer of the UI listener. */
export const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // xterm.js sets inline styles; nothing else is inline.
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

export async function serveStatic(dir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = { ...SECURITY_HEADERS };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end();
    return;
  }
  const pathname = new URL(req.url ?? '/', 'http://ui').pathname;
  let rel: string;
  try { rel = normalize(decodeURIComponent(pathname === '/' ? '/index.html' : pathname)); } catch { rel = '..'; }
  const type = TYPES[extname(rel)];
  if (rel.includes('..') || rel.includes('\0') || !type) {
    res.writeHead(404, headers).end();
    return;
  }
  let body: Buffer;
  try { body = await readFile(join(dir, rel)); } catch {
    res.writeHead(404, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-type': type, 'content-length': body.length, 'cache-control': 'no-cache' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
