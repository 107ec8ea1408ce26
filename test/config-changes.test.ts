import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ContainerConfig } from '../protocol/index.js';
import { applyChanges, parseDuration } from '../daemon/dockerfile/config-changes.js';
import { SbxError } from '../protocol/index.js';

const BASE: ContainerConfig = {
  Env: ['PATH=/usr/bin:/bin', 'DEBUG=true'],
  Cmd: ['/bin/sh'],
  Labels: { some: 'label' },
  ExposedPorts: { '22/tcp': {} },
  WorkingDir: '/srv',
};

type Case = [string, ContainerConfig, string[], Partial<ContainerConfig>];

const OK: Case[] = [
  ['CMD exec form', {}, ['CMD ["/bin/echo", "hi"]'], { Cmd: ['/bin/echo', 'hi'] }],
  ['CMD shell form', {}, ['CMD echo hi && ls'], { Cmd: ['/bin/sh', '-c', 'echo hi && ls'] }],
  ['CMD shell form uses the config Shell', { Shell: ['/bin/bash', '-xc'] }, ['CMD echo'], { Cmd: ['/bin/bash', '-xc', 'echo'] }],
  ['CMD not-quite-JSON falls back to shell form', {}, ['CMD [oops'], { Cmd: ['/bin/sh', '-c', '[oops'] }],
  ['lowercase instruction', {}, ['cmd ["x"]'], { Cmd: ['x'] }],
  ['ENTRYPOINT alone resets CMD', BASE, ['ENTRYPOINT ["/entry"]'], { Entrypoint: ['/entry'], Cmd: null }],
  ['CMD then ENTRYPOINT keeps CMD', BASE, ['CMD ["/bin/sh"]', 'ENTRYPOINT ["/bin/sh"]'], { Entrypoint: ['/bin/sh'], Cmd: ['/bin/sh'] }],
  ['ENTRYPOINT shell form', {}, ['ENTRYPOINT exec top -b'], { Entrypoint: ['/bin/sh', '-c', 'exec top -b'], Cmd: null }],
  ['ENV replaces in place, appends new', BASE, ['ENV PATH /foo', 'ENV test=1'], { Env: ['PATH=/foo', 'DEBUG=true', 'test=1'] }],
  ['ENV several pairs with quotes', {}, ['ENV a=1 b="two words" c=x\\ y'], { Env: ['a=1', 'b=two words', 'c=x y'] }],
  ['ENV value containing =', {}, ['ENV REQ=cuda>=9.1'], { Env: ['REQ=cuda>=9.1'] }],
  ['EXPOSE default tcp, udp, range; union', BASE, ['EXPOSE 80 53/udp 8000-8001'], {
    ExposedPorts: { '22/tcp': {}, '80/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} } }],
  ['LABEL new values win, old kept', BASE, ['LABEL some=label2 "other key"="v v"'], { Labels: { some: 'label2', 'other key': 'v v' } }],
  ['LABEL legacy form', {}, ['LABEL maintainer me@example.com'], { Labels: { maintainer: 'me@example.com' } }],
  ['ONBUILD stored raw', {}, ['ONBUILD /usr/local/bin/python-build --dir /app/src'], { OnBuild: ['/usr/local/bin/python-build --dir /app/src'] }],
  ['USER', {}, ['USER 1000:1000'], { User: '1000:1000' }],
  ['WORKDIR relative to the previous one', BASE, ['WORKDIR app/../web'], { WorkingDir: '/srv/web' }],
  ['WORKDIR absolute', BASE, ['WORKDIR /data'], { WorkingDir: '/data' }],
  ['VOLUME list and JSON', {}, ['VOLUME /a /b', 'VOLUME ["/c"]'], { Volumes: { '/a': {}, '/b': {}, '/c': {} } }],
  ['HEALTHCHECK with flags, shell form', {}, ['HEALTHCHECK --interval=30s --timeout=1m30s --retries=3 CMD curl -f http://localhost/'], {
    Healthcheck: { Interval: 30e9, Timeout: 90e9, Retries: 3, Test: ['CMD-SHELL', 'curl -f http://localhost/'] } }],
  ['HEALTHCHECK exec form', {}, ['HEALTHCHECK CMD ["/check", "-q"]'], { Healthcheck: { Test: ['CMD', '/check', '-q'] } }],
  ['HEALTHCHECK NONE', {}, ['HEALTHCHECK NONE'], { Healthcheck: { Test: ['NONE'] } }],
  ['STOPSIGNAL', {}, ['STOPSIGNAL SIGINT'], { StopSignal: 'SIGINT' }],
  ['several lines in one change, continuation', {}, ['ENV a=1\nCMD echo \\\n  hi'], { Env: ['a=1'], Cmd: ['/bin/sh', '-c', 'echo   hi'] }],
  ['unchanged fields are kept', BASE, ['USER nobody'], { Cmd: ['/bin/sh'], WorkingDir: '/srv', User: 'nobody' }],
];

for (const [name, base, changes, want] of OK) {
  test(`change: ${name}`, () => {
    const before = structuredClone(base);
    const got = applyChanges(base, changes);
    for (const [k, v] of Object.entries(want)) assert.equal(got[k as keyof ContainerConfig], v, k);
    assert.equal(base, before, 'input not mutated');
  });
}

const BAD: [string, RegExp][] = [
  ['RUN make', /^change "RUN make": RUN is not a valid change command$/],
  ['COPY . /app', /COPY is not a valid change command/],
  ['ADD x /y', /ADD is not a valid change command/],
  ['FROM busybox', /FROM is not a valid change command/],
  ['FROBNICATE x', /^change "FROBNICATE x": unknown instruction: FROBNICATE$/],
  ['CMD', /CMD requires at least one argument/],
  ['EXPOSE 99999', /invalid port range/],
  ['EXPOSE http', /invalid port "http"/],
  ['ENV', /ENV requires at least one argument/],
  ['ENV JUSTKEY', /ENV must have two arguments/],
  ['ENV =x', /names can not be blank/],
  ['LABEL a="unterminated', /unterminated double quote/],
  ['CMD ["a", 1]', /JSON array of strings/],
  ['HEALTHCHECK --interval=soon CMD x', /invalid duration/],
  ['HEALTHCHECK --bogus=1s CMD x', /unknown HEALTHCHECK flag --bogus/],
  ['HEALTHCHECK echo', /expects CMD or NONE/],
  ['ONBUILD ONBUILD RUN x', /ONBUILD ONBUILD/],
  ['STOPSIGNAL not a signal', /invalid signal/],
  ['USER', /USER requires exactly one argument/],
];

for (const [line, re] of BAD) {
  test(`change rejected: ${line}`, () => {
    try {
      applyChanges({}, [line]);
      assert.unreachable('should throw');
    } catch (e) {
      assert.instance(e, SbxError);
      assert.is((e as SbxError).code, 'invalid_argument');
      assert.match((e as SbxError).message, re);
    }
  });
}

test('durations', () => {
  assert.is(parseDuration('1m30s'), 90e9);
  assert.is(parseDuration('500ms'), 500e6);
  assert.is(parseDuration('1.5h'), 5400e9);
  assert.is(parseDuration('x'), undefined);
});

test.run();
