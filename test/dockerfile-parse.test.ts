/**
 * The Dockerfile parser against docker's rules (moby/buildkit frontend/dockerfile/parser):
 * directives, continuations with comments inside, heredocs, JSON-form detection, flags, stages,
 * and errors that name FILE:LINE.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDockerfile, parseTrigger } from '../daemon/dockerfile/parse.js';
import type { CopyInstr, Instruction, RunInstr } from '../daemon/dockerfile/types.js';
import { SbxError } from '../protocol/index.js';

const only = (text: string): Instruction[] => parseDockerfile(text).stages.flatMap((s) => s.instructions);

function throwsAt(text: string, re: RegExp, file = 'Dockerfile'): void {
  try {
    parseDockerfile(text, file);
  } catch (e) {
    assert.instance(e, SbxError);
    assert.is((e as SbxError).code, 'invalid_argument');
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected ${re} for:\n${text}`);
}

test('the seed web-ping Dockerfile: ENV with continuations, WORKDIR, COPY, CMD, with source lines', () => {
  const df = parseDockerfile([
    'FROM busybox',
    '',
    'ENV TARGET="blog.sixeyed.com" \\',
    '    METHOD="HEAD" \\',
    '    INTERVAL="3000"',
    '',
    'WORKDIR /web-ping',
    'COPY app.js .',
    '',
    'CMD ["node", "/web-ping/app.js"]',
  ].join('\n'), 'web-ping/Dockerfile');
  assert.is(df.stages.length, 1);
  assert.is(df.stages[0]!.from.image, 'busybox');
  const [env, wd, copy, cmd] = df.stages[0]!.instructions;
  assert.equal(env!.kind === 'ENV' && env.pairs, [['TARGET', '"blog.sixeyed.com"'], ['METHOD', '"HEAD"'], ['INTERVAL', '"3000"']]);
  assert.equal(env!.src, { file: 'web-ping/Dockerfile', line: 3, endLine: 5 });
  assert.equal(wd!.kind === 'WORKDIR' && wd.path, '/web-ping');
  assert.equal(copy!.kind === 'COPY' && [copy.sources, copy.dest], [['app.js'], '.']);
  assert.equal(cmd!.kind === 'CMD' && cmd.command, { exec: ['node', '/web-ping/app.js'] });
  assert.is(cmd!.src.line, 10);
});

test('comment and empty lines inside a continuation are dropped; continuation keeps the next line\'s blanks', () => {
  const [run] = only('FROM x\nRUN echo a \\\n# a comment\n\n    b \\\n  # indented comment\n  c');
  assert.equal((run as RunInstr).command, { shell: 'echo a     b   c' });
  assert.equal(run!.src, { file: 'Dockerfile', line: 2, endLine: 7 });
});

test('the escape directive makes ` the continuation and leaves \\ alone', () => {
  const df = parseDockerfile('# escape=`\nFROM x\nRUN dir c:\\ `\n  && echo ok');
  assert.is(df.directives.escape, '`');
  assert.equal((df.stages[0]!.instructions[0] as RunInstr).command, { shell: 'dir c:\\   && echo ok' });
});

test('directives only at the top: after a comment or a blank line they are plain comments', () => {
  assert.is(parseDockerfile('# syntax=docker/dockerfile:1\n# check=skip=all\nFROM x').directives.syntax, 'docker/dockerfile:1');
  assert.is(parseDockerfile('# hello\n# escape=`\nFROM x').directives.escape, '\\');
  assert.is(parseDockerfile('\n# escape=`\nFROM x').directives.escape, '\\');
  throwsAt('# escape=`\n# escape=\\\nFROM x', /^Dockerfile:2: only one escape parser directive/);
  throwsAt('# escape=x\nFROM x', /^Dockerfile:1: invalid escape token 'x'/);
});

test('JSON form: an array of strings is exec form, not-JSON is shell form, a non-string array is an error', () => {
  const [a, b, c] = only('FROM x\nCMD ["a", "b c"]\nCMD [oops\nENTRYPOINT []');
  assert.equal((a as { command: unknown }).command, { exec: ['a', 'b c'] });
  assert.equal((b as { command: unknown }).command, { shell: '[oops' });
  assert.equal((c as { command: unknown }).command, { exec: [] });
  throwsAt('FROM x\n\nCMD ["a", 1]', /^Dockerfile:3: when using JSON array syntax, arrays must be comprised of strings only/);
  throwsAt('FROM x\nSHELL /bin/bash -c', /^Dockerfile:2: SHELL requires the arguments to be in JSON form/);
});

test('heredocs: RUN <<EOF, <<-EOF strips tabs, quoted delimiter does not expand, several in COPY', () => {
  const [run, copy, run2] = only([
    'FROM x',
    'RUN <<EOF',
    'echo $HOME',
    'echo two',
    'EOF',
    'COPY <<one <<"two" /dst/',
    'first',
    'one',
    '$second',
    'two',
    'RUN <<-END cat > /f',
    '\tindented',
    '\tEND',
    'CMD x',
  ].join('\n'));
  assert.equal(run!.heredocs, [{ name: 'EOF', chomp: false, expand: true, content: 'echo $HOME\necho two\n' }]);
  assert.equal(run!.src, { file: 'Dockerfile', line: 2, endLine: 5 });
  const c = copy as CopyInstr;
  assert.equal(c.sources, ['<<one', '<<"two"']);
  assert.equal(c.heredocs.map((h) => [h.name, h.expand, h.content]), [['one', true, 'first\n'], ['two', false, '$second\n']]);
  assert.equal(run2!.heredocs, [{ name: 'END', chomp: true, expand: true, content: 'indented\n' }]);
  throwsAt('FROM x\nRUN <<EOF\necho', /^Dockerfile:2: unterminated heredoc EOF/);
});

test('a heredoc marker inside quotes is not a heredoc', () => {
  const [run] = only('FROM x\nRUN echo "<<EOF"\nCMD y');
  assert.equal(run!.heredocs, []);
});

test('flags: typed COPY/ADD/RUN flags, repeated --mount, booleans, unknown flag is an error', () => {
  const [copy, run, add] = only([
    'FROM x',
    'COPY --from=build --chown=1:2 --chmod=0755 --link src/ /app/',
    'RUN --mount=type=cache,target=/root/.cache,id=pip --mount=type=bind,from=build,source=/out,target=/in --network=none make',
    'ADD --checksum=sha256:abc https://example.invalid/x /x',
  ].join('\n'));
  const c = copy as CopyInstr;
  assert.equal([c.from, c.chown, c.chmod, c.link, c.sources, c.dest], ['build', '1:2', '0755', true, ['src/'], '/app/']);
  const r = run as RunInstr;
  assert.is(r.network, 'none');
  assert.equal(r.mounts, [
    { type: 'cache', readonly: false, target: '/root/.cache', id: 'pip', sharing: 'shared' },
    { type: 'bind', readonly: true, from: 'build', source: '/out', target: '/in' },
  ]);
  assert.equal(r.command, { shell: 'make' });
  assert.is((add as CopyInstr).checksum, 'sha256:abc');
  throwsAt('FROM x\nCOPY --frm=a b c', /^Dockerfile:2: unknown flag: --frm/);
  throwsAt('FROM x\nRUN --mount=type=nfs,target=/x true', /^Dockerfile:2: unsupported mount type "nfs"/);
  throwsAt('FROM x\nENV --x=1 a=b', /^Dockerfile:2: unknown flag: --x/);
});

test('ENV/LABEL: several pairs keep quotes for expansion; the legacy one-pair form takes the rest of the line', () => {
  const [e1, e2, l] = only('FROM x\nENV a=1 b="two words" c=x\\ y\nENV PATH /usr/bin:/bin  extra\nLABEL "com.x"="y z"');
  assert.equal((e1 as { pairs: unknown }).pairs, [['a', '1'], ['b', '"two words"'], ['c', 'x\\ y']]);
  assert.equal((e2 as { pairs: unknown }).pairs, [['PATH', '/usr/bin:/bin  extra']]);
  assert.equal((l as { pairs: unknown }).pairs, [['"com.x"', '"y z"']]);
  throwsAt('FROM x\nENV a=1 b', /^Dockerfile:2: Syntax error - can't find = in "b"/);
  throwsAt('FROM x\nENV onlykey', /^Dockerfile:2: ENV must have two arguments/);
});

test('stages: AS names (case-insensitive), global ARGs before FROM, duplicate names refused', () => {
  const df = parseDockerfile('ARG V=1\nARG BASE\nFROM alpine:${V} AS Build\nRUN x\nfrom scratch\nCOPY --from=build /a /a');
  assert.equal(df.globalArgs.map((a) => a.vars), [[{ key: 'V', value: '1' }], [{ key: 'BASE' }]]);
  assert.equal(df.stages.map((s) => [s.index, s.name, s.from.image, s.instructions.length]), [[0, 'build', 'alpine:${V}', 1], [1, undefined, 'scratch', 1]]);
  throwsAt('FROM a AS x\nFROM b AS X', /^Dockerfile:2: duplicate stage name "x"/);
  throwsAt('FROM a AS 1x', /^Dockerfile:1: invalid name for build stage/);
  throwsAt('FROM a b', /^Dockerfile:1: FROM requires either one or three arguments/);
});

test('errors name the file and line: unknown instruction, instruction before FROM, empty file', () => {
  throwsAt('FROM x\n\n# c\nRUNN make', /^df\/Dockerfile\.dev:4: unknown instruction: RUNN \(did you mean RUN\?\)/, 'df/Dockerfile.dev');
  throwsAt('RUN x\nFROM y', /^Dockerfile:1: no build stage in current context/);
  throwsAt('# only a comment\n', /^Dockerfile:1: file with no instructions/);
  throwsAt('FROM x\nCOPY onlyone', /^Dockerfile:2: COPY requires at least two arguments/);
  throwsAt('FROM x\nONBUILD ONBUILD RUN x', /^Dockerfile:2: Chaining ONBUILD/);
  throwsAt('FROM x\nONBUILD FROM y', /^Dockerfile:2: FROM isn't allowed as an ONBUILD trigger/);
  throwsAt('FROM x\nONBUILD BOGUS y', /^Dockerfile:2: unknown instruction: BOGUS/);
});

test('lower-case instructions, CRLF line ends and a BOM are accepted', () => {
  const [r] = only('\uFEFFfrom x\r\nrun echo hi\r\n');
  assert.equal((r as RunInstr).command, { shell: 'echo hi' });
});

test('an ONBUILD trigger parses as an instruction at the FROM line', () => {
  const t = parseTrigger('COPY . /app', { file: 'Dockerfile', line: 1 });
  assert.is(t.kind, 'COPY');
  assert.equal(t.src, { file: 'Dockerfile', line: 1, endLine: 1 });
});

test.run();
