/**
 * `sbx completion bash|zsh|fish`: bash, with the script sourced, completes verbs, two-word forms,
 * sub-verbs and each verb's flags (the same table the CLI parses with); zsh and fish scripts
 * name the same verbs; an unknown shell is refused.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SBX_BIN, sbx } from './_helpers/cli.js';
import { tmpdir } from './_helpers/tmp.js';

const s = suite('completion');

/** What bash's completion function offers for the words typed so far (the last one being completed). */
function complete(words: string[]): string[] {
  const script = [
    `source <("${SBX_BIN}" completion bash) || exit 3`,
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}`,
    '_sbx; printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', env: { ...process.env, SBX_NO_AUTOSTART: '1' } });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

s('bash: verbs, groups, two-word forms and sub-verbs', () => {
  assert.equal(complete(['sbx', 'ru']), ['run']);
  assert.equal(complete(['sbx', 'co']), ['commit', 'completion', 'container']);
  const all = complete(['sbx', '']);
  for (const v of ['run', 'ps', 'exec', 'image', 'volume', 'update', 'help']) assert.ok(all.includes(v), `${v} in ${all.join(' ')}`);
  assert.equal(complete(['sbx', 'container', 'l']), ['list', 'logs', 'ls']);
  assert.equal(complete(['sbx', 'volume', 'p']), ['prune']);
  assert.equal(complete(['sbx', 'help', 'insp']), ['inspect']);
});

s('bash: a verb\'s flags, also through its two-word form', () => {
  const run = complete(['sbx', 'run', '--health-']);
  assert.equal(run, ['--health-cmd', '--health-interval', '--health-retries', '--health-start-interval', '--health-start-period', '--health-timeout']);
  assert.equal(complete(['sbx', 'run', '-d', '--cpuset-']), ['--cpuset-cpus', '--cpuset-mems']);
  assert.equal(complete(['sbx', 'container', 'ls', '--fi']), ['--filter']);
  assert.equal(complete(['sbx', 'ps', '--fi']), ['--filter']);
  assert.equal(complete(['sbx', 'update', '--memory-']), ['--memory-reservation', '--memory-swap']);
  assert.equal(complete(['sbx', 'volume', '--q']), ['--quiet']);
});

s('bash: file names where a path goes', async () => {
  const dir = await tmpdir('sbx-compl-');
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
  assert.equal(complete(['sbx', 'build', `${dir}/D`]), [`${dir}/Dockerfile`]);
});

s('zsh and fish scripts; an unknown shell exits 1', async () => {
  const root = await tmpdir('sbx-compl-root-');
  const z = await sbx(root, ['completion', 'zsh']);
  assert.is(z.code, 0, z.stderr);
  assert.match(z.stdout, /^#compdef sbx\n/);
  assert.match(z.stdout, /bashcompinit/);
  assert.match(z.stdout, /complete -F _sbx sbx/);
  const f = await sbx(root, ['completion', 'fish']);
  assert.is(f.code, 0, f.stderr);
  assert.match(f.stdout, /^complete -c sbx -n __fish_use_subcommand -a 'run' -d 'Create and run a new container from an image'$/m);
  assert.match(f.stdout, /^complete -c sbx -n '__fish_seen_subcommand_from run' -l health-cmd$/m);
  const bad = await sbx(root, ['completion', 'powershell']);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /requires one of bash, zsh, fish/);
});

s.run();
