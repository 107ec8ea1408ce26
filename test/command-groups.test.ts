/**
 * docker's management commands (issue 12 "command groups", "Help"): every verb docker lists under
 * `docker container|image|volume|system|network` that sbx has at top level also answers in its
 * two-word form, with the same help; `sbx help VERB` is `sbx VERB --help`.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { COMMANDS } from '../cli/commands/index.js';
import { sbx } from './_helpers/cli.js';
import { tmpdir, rmrf } from './_helpers/tmp.js';

/** docker 25's `docker GROUP --help` verbs → the top-level sbx verb each stands for. */
const DOCKER: Record<string, Record<string, string>> = {
  container: {
    attach: 'attach', commit: 'commit', cp: 'cp', create: 'create', diff: 'diff', exec: 'exec', export: 'export',
    inspect: 'inspect', kill: 'kill', logs: 'logs', ls: 'ps', pause: 'pause', port: 'port', prune: 'container-prune',
    rename: 'rename', restart: 'restart', rm: 'rm', run: 'run', start: 'start', stats: 'stats', stop: 'stop', top: 'top',
    unpause: 'unpause', update: 'update', wait: 'wait',
  },
  image: {
    build: 'build', history: 'history', import: 'import', inspect: 'inspect', load: 'load', ls: 'images', prune: 'image-prune',
    pull: 'pull', push: 'push', rm: 'rmi', save: 'save', tag: 'tag',
  },
  system: { df: 'system', events: 'events', info: 'info', prune: 'system-prune' },
  volume: { create: 'volume', inspect: 'volume', ls: 'volume', prune: 'volume', rm: 'volume' },
  network: { connect: 'network', create: 'network', disconnect: 'network', inspect: 'network', ls: 'network', prune: 'network', rm: 'network' },
};

const s = suite<{ root: string }>('command groups and help', { root: '' });
s.before(async (ctx) => { ctx.root = await tmpdir('sbx-groups-'); });
s.after(async (ctx) => { await rmrf(ctx.root); });

/** The summary line of a help page (its third line). */
const summary = (help: string): string => help.split('\n')[2] ?? '';

s('every docker group verb sbx has at top level answers in the two-word form', async ({ root }) => {
  let checked = 0;
  for (const [group, verbs] of Object.entries(DOCKER)) {
    for (const [verb, top] of Object.entries(verbs)) {
      if (!COMMANDS[top]) continue; // sbx has no such verb at all yet
      const r = await sbx(root, [group, verb, '--help']);
      assert.is(r.code, 0, `sbx ${group} ${verb} --help: ${r.stderr}`);
      assert.match(r.stdout, /^Usage: /, `sbx ${group} ${verb}`);
      if (!top.includes('-') && top !== group) {
        const direct = await sbx(root, [top, '--help']);
        assert.is(summary(r.stdout), summary(direct.stdout), `sbx ${group} ${verb} is sbx ${top}`);
      }
      checked++;
    }
  }
  assert.ok(checked >= 45, `${checked} verbs checked`);
});

s('the group pages list their verbs; an unknown verb in a group is docker\'s error', async ({ root }) => {
  const page = await sbx(root, ['container']);
  assert.is(page.code, 0);
  for (const v of ['logs', 'start', 'stop', 'exec', 'prune', 'ls']) assert.match(page.stdout, new RegExp(`\\n  ${v} +\\S`), v);
  // the groups whose verbs live in one sbx command have docker's page too
  for (const [group, verbs] of Object.entries({ system: ['df', 'events', 'info', 'prune'], volume: ['create', 'inspect', 'ls', 'prune', 'rm'], network: ['connect', 'create', 'disconnect', 'inspect', 'ls', 'prune', 'rm'] })) {
    for (const args of [[group], [group, '--help']]) {
      const p = await sbx(root, args);
      assert.is(p.code, 0, args.join(' '));
      assert.match(p.stdout, new RegExp(`^Usage:  sbx ${group} COMMAND\n`));
      for (const v of verbs) assert.match(p.stdout, new RegExp(`\n  ${v} +\\S`), `${group} ${v}`);
    }
  }
  const bad = await sbx(root, ['image', 'frobnicate']);
  assert.is(bad.code, 1);
  assert.is(bad.stderr, "sbx: 'image frobnicate' is not a sbx command.\nSee 'sbx image --help'\n");
});

s('sbx help VERB is sbx VERB --help; sbx help alone the overview', async ({ root }) => {
  const viaHelp = await sbx(root, ['help', 'rmi']);
  const direct = await sbx(root, ['rmi', '--help']);
  assert.is(viaHelp.code, 0);
  assert.is(viaHelp.stdout, direct.stdout);
  assert.match(viaHelp.stdout, /^Usage: sbx rmi /);
  const two = await sbx(root, ['help', 'container', 'prune']);
  assert.is(two.code, 0);
  assert.match(two.stdout, /^Usage: sbx container prune /);
  const overview = await sbx(root, ['help']);
  assert.is(overview.code, 0);
  assert.match(overview.stdout, /^Usage: sbx COMMAND/);
  const unknown = await sbx(root, ['help', 'nosuch']);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /'nosuch' is not a sbx command/);
});
s('every command and every flag has a one-line description, in --help and on the overview', async ({ root }) => {
  const overview = (await sbx(root, ['--help'])).stdout;
  for (const name of Object.keys(COMMANDS).filter((n) => !n.includes('-'))) {
    assert.match(overview, new RegExp(`\\n  ${name} +\\S`), `the overview describes ${name}`);
    const r = await sbx(root, [name, '--help']);
    assert.is(r.code, 0, `${name} --help: ${r.stderr}`);
    const flags = r.stdout.split('\nOptions:\n')[1]?.trimEnd().split('\n') ?? [];
    for (const line of flags) assert.match(line, /^ {2}(-\w, |    )--[\w-]+( string)? {2,}\S/, `sbx ${name}: ${line}`);
  }
  for (const two of [['image', 'prune'], ['container', 'prune'], ['system', 'prune']]) {
    const r = await sbx(root, [...two, '--help']);
    for (const line of r.stdout.split('\nOptions:\n')[1]!.trimEnd().split('\n')) assert.match(line, / {2,}\S/, `sbx ${two.join(' ')}: ${line}`);
  }
  assert.match((await sbx(root, ['ps', '--help'])).stdout, /\n  -a, --all +Show all containers \(default shows just running\)\n/);
});

s.run();
