// The browser page: ui/main.ts bundled by esbuild (with xterm.js and the protocol's stream
// client) into dist/ui/app.js, next to the page's static files. Nothing is fetched at run time.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(repo, 'dist', 'ui');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(repo, 'ui', 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, sourcemap: true,
  logLevel: 'warning',
});
copyFileSync(join(repo, 'ui', 'index.html'), join(out, 'index.html'));
copyFileSync(join(repo, 'ui', 'style.css'), join(out, 'style.css'));
copyFileSync(join(repo, 'node_modules', '@xterm', 'xterm', 'css', 'xterm.css'), join(out, 'xterm.css'));
