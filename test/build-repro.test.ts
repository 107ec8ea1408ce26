/**
 * sbx build --source-date-epoch N (or SOURCE_DATE_EPOCH in the CLI's environment): two --no-cache
 * builds of the same context give the same image ID; the image's created times are N.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { buildSuite } from './_helpers/build.js';
import { build, imageId } from './_helpers/build-cli.js';
import { privileged } from './_helpers/root.js';

const s = buildSuite('build: --source-date-epoch');

const DOCKERFILE = `FROM busybox AS tools
RUN echo made in another stage > /tool

FROM busybox
ENV A=1 \\
    B=2
WORKDIR /app/sub
COPY app.js ./
COPY assets /app/assets
COPY --from=tools /tool /tool
RUN echo ran > /stamp && mkdir -p /var/made && touch /var/made/f
LABEL kind=repro
CMD ["sh", "/app/sub/app.js"]
`;

s('two --no-cache builds give the same image ID; SOURCE_DATE_EPOCH does the same; created is N', privileged(async (c) => {
  await writeFile(join(c.ctx, 'app.js'), 'echo app\n');
  await mkdir(join(c.ctx, 'assets', 'img'), { recursive: true });
  await writeFile(join(c.ctx, 'assets', 'img', 'a.txt'), 'asset\n');
  const epoch = '1700000000';
  const one = await build(c, ['--no-cache', '--source-date-epoch', epoch, '-t', 'one', c.ctx], DOCKERFILE);
  assert.is(one.code, 0, one.stderr);
  const two = await build(c, ['--no-cache', '--source-date-epoch', epoch, '-t', 'two', c.ctx]);
  assert.is(two.code, 0, two.stderr);
  assert.not.match(two.stderr, /CACHED/);
  const id = await imageId(c, 'one');
  assert.ok(id);
  assert.is(await imageId(c, 'two'), id, 'the same image ID from two builds that ran every step');
  const env = await build(c, ['--no-cache', '-t', 'three', c.ctx], undefined, { SOURCE_DATE_EPOCH: epoch });
  assert.is(env.code, 0, env.stderr);
  const insp = JSON.parse((await sbx(c.d.root, ['image', 'inspect', 'three'])).stdout)[0];
  assert.is(insp.Created, '2023-11-14T22:13:20.000Z', JSON.stringify(insp.Created));
  const hist = await sbx(c.d.root, ['history', '--no-trunc', '--format', '{{.CreatedAt}}', 'three']);
  assert.ok(hist.stdout.trim().split('\n').slice(0, 8).every((l) => l.includes('2023-11-14')), hist.stdout);
  const stat = await sbx(c.d.root, ['run', '--rm', 'three', 'stat', '-c', '%Y %n', '/app/sub/app.js', '/app/assets/img/a.txt', '/var/made/f', '/tool']);
  assert.is(stat.stdout, [`${epoch} /app/sub/app.js`, `${epoch} /app/assets/img/a.txt`, `${epoch} /var/made/f`, `${epoch} /tool`].join('\n') + '\n', stat.stderr);

  const later = await build(c, ['--no-cache', '--source-date-epoch', '1700000001', '-t', 'later', c.ctx]);
  assert.is(later.code, 0, later.stderr);
  assert.is.not(await imageId(c, 'later'), id, 'another epoch is another image');
}));

s.run();
