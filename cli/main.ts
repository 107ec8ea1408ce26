#!/usr/bin/env -S node --
/**
 * sbx: the thin CLI. argv → the command table (lazy), flags parsed per command, errors printed as
 * docker prints them: "Error: <message>" on stderr; exit 125 for daemon/API errors and flag errors,
 * 1 for other usage errors (an unknown command, a wrong argument count), the container's own code where a command runs one (126/127 when it cannot be run).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SbxError } from '../protocol/errors.js';
import { parseCommandArgs } from './args.js';
import { UsageError, type CliContext, type Command } from './command.js';
import { ALIASES, COMMANDS, GROUPS, GROUP_VERBS, NODE_ONLY } from './commands/index.js';
import { ON_BUN, runOnNode } from './runtime.js';
import { flagHelp } from './flag-help.js';
import { CLI_VERSION } from './version.js';

const EXIT_FOR_CODE: Partial<Record<SbxError['code'], number>> = { cannot_execute: 126, command_not_found: 127 };

/** The top page: every verb with its one-liner (each command module is loaded for its summary). */
async function help(): Promise<string> {
  const names = Object.keys(COMMANDS).filter((n) => !n.includes('-') && !GROUPS[n]).sort();
  const groups = Object.entries(GROUPS).map(([g, what]) => `  ${g.padEnd(11)} ${what}`).join('\n');
  // the daemon's own verbs are not in the Bun bundle (runtime.ts): their lines are here
  const own: Record<string, string> = { daemon: 'Run sbxd in the foreground', registry: 'Serve an OCI distribution registry' };
  const rows = await Promise.all(names.map(async (n) => `  ${n.padEnd(11)} ${NODE_ONLY.has(n) ? own[n] ?? '' : (await COMMANDS[n]!()).command.summary}`));
  return `Usage: sbx COMMAND [OPTIONS]\n\nA commit-style container sandbox.\n\nManagement Commands:\n${groups}\n\nCommands:\n${rows.join('\n')}\n\nRun 'sbx COMMAND --help' for more information on a command.\n`;
}

/** docker's `docker container` page: the group's verbs with their one-liners. */
async function groupHelp(group: string): Promise<string> {
  const verbs = Object.keys(ALIASES).filter((a) => a.startsWith(`${group} `)).map((a) => a.slice(group.length + 1)).sort();
  const own = GROUP_VERBS[group] ?? {};
  const rows = await Promise.all([...new Set([...verbs, ...Object.keys(own)])].sort().map(async (v) => {
    if (own[v]) return `  ${v.padEnd(11)} ${own[v]}`;
    const { command } = await COMMANDS[ALIASES[`${group} ${v}`]!.split(' ')[0]!]!();
    return `  ${v.padEnd(11)} ${command.summary}`;
  }));
  return `Usage:  sbx ${group} COMMAND\n\n${GROUPS[group] ?? ''}\n\nCommands:\n${rows.join('\n')}\n\nRun 'sbx ${group} COMMAND --help' for more information on a command.\n`;
}

function commandHelp(c: Command): string {
  const opts: [string, { type: string; short?: string }][] = Object.entries({ ...c.options, help: { type: 'boolean' } });
  const cells = opts.map(([name, o]) => [`  ${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ' string' : ''}`, flagHelp(c.name.replace(' ', '-'), name) ?? ''] as const);
  const width = Math.max(...cells.map(([f]) => f.length)) + 3;
  const flags = cells.map(([f, what]) => `${f.padEnd(width)}${what}`.trimEnd());
  return `Usage: ${c.usage}\n\n${c.summary}\n${flags.length ? `\nOptions:\n${flags.join('\n')}\n` : ''}`;
}

export async function main(argv: string[], io: Omit<CliContext, 'client'> = {
  stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env,
}): Promise<number> {
  // `sbx help VERB [VERB]` is `sbx VERB [VERB] --help`, as docker's.
  if (argv[0] === 'help' && argv.length > 1) return main([...argv.slice(1), '--help'], io);
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(await help());
    return argv.length === 0 ? 1 : 0;
  }
  if (argv[0] === '--version' || argv[0] === '-v') {
    io.stdout.write(`sbx version ${CLI_VERSION}\n`);
    return 0;
  }
  let name = argv[0]!;
  let rest = argv.slice(1);
  const two = `${argv[0]} ${argv[1]}`;
  if (ALIASES[two]) {
    const [verb, ...implied] = ALIASES[two]!.split(' ');
    name = verb!;
    rest = [...implied, ...argv.slice(2)];
  }
  // `sbx volume`, `sbx system --help`: the group's page, as docker's
  if (!ALIASES[two] && GROUPS[argv[0]!] && (argv.length === 1 || argv[1] === '--help' || argv[1] === '-h')) {
    io.stdout.write(await groupHelp(argv[0]!));
    return 0;
  }
  if (!ALIASES[two] && GROUPS[argv[0]!] && !COMMANDS[argv[0]!]) {
    io.stderr.write(`sbx: '${two}' is not a sbx command.\nSee 'sbx ${argv[0]} --help'\n`);
    return 1;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr.write(`sbx: '${name}' is not a sbx command.\nSee 'sbx --help'\n`);
    return 1;
  }
  if (ON_BUN && NODE_ONLY.has(name)) return runOnNode(argv);
  // The client (node:http, the whole protocol) loads only for a command, never for --version/--help.
  const [{ command }, { Client }] = await Promise.all([load(), import('./client.js')]);
  const verb = command.verbOptions ? rest.find((a) => !a.startsWith('-')) : undefined;
  const options = { ...command.options, ...(verb ? command.verbOptions?.[verb] : undefined), help: { type: 'boolean' as const } };
  try {
    const args = parseCommandArgs(rest, options, command.stopAtPositional ?? false, command.usage);
    if (args.values.help) { io.stdout.write(commandHelp(command)); return 0; }
    const client = new Client({ autostart: !command.local && io.env.SBX_NO_AUTOSTART !== '1' });
    const code = await command.run(args, { ...io, client });
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`Error: ${e.message}\n\nUsage:  ${e.usage ?? command.usage}\n\nRun 'sbx ${name.replace('-', ' ')} --help' for more information\n`);
      return e.status;
    }
    if (e instanceof SbxError) {
      io.stderr.write(`Error: ${e.message}\n`);
      return EXIT_FOR_CODE[e.code] ?? 125;
    }
    io.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (io.env.SBX_DEBUG) io.stderr.write(`${(e as Error).stack}\n`);
    return 125;
  }
}

// Run when started as a program, under any name (npm links /usr/bin/sbx here), not when imported.
// The Bun-compiled binary's module lives in a virtual file system: Bun says itself (import.meta.main).
const isMain = ON_BUN ? (import.meta as { main?: boolean }).main === true
  : !!process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  // A reader that went away (`sbx events | head -2`): leave quietly, as docker does on SIGPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(141); });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // Let stdout drain, then leave even if a handle (a socket) lingers.
    process.stdout.write('', () => process.exit(code));
  }, (e) => {
    process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(125);
  });
}
