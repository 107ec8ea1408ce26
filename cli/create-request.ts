/**
 * The flags `run` and `create` share (docker's container options) and the create request they
 * make. Flag errors are UsageError; the daemon checks the rest (names, capabilities, devices).
 */
import { readFile } from 'node:fs/promises';
import { SbxError, parseBind, parseMountFlag, parseRestartPolicy, parseTmpfs, type CreateContainerRequest } from '../protocol/index.js';
import { UsageError, str, strs, type Parsed } from './command.js';
import { PROCESS_ENV_OPTIONS, entrypointArg, parseDevice, parseEnv, parsePort } from './containers.js';
import { HEALTH_OPTIONS, healthFlags } from './health-options.js';
import { RESOURCE_OPTIONS, resourceFlags } from './resource-options.js';
import { RUN_OPTIONS, applyRunOptions } from './run-options.js';

export const CREATE_OPTIONS = {
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  ...PROCESS_ENV_OPTIONS,
  rm: { type: 'boolean' },
  name: { type: 'string' },
  hostname: { type: 'string', short: 'h' },
  entrypoint: { type: 'string' },
  network: { type: 'string' },
  'network-alias': { type: 'string', multiple: true },
  'add-host': { type: 'string', multiple: true },
  dns: { type: 'string', multiple: true },
  'dns-search': { type: 'string', multiple: true },
  'dns-option': { type: 'string', multiple: true },
  ...RESOURCE_OPTIONS,
  init: { type: 'boolean' },
  publish: { type: 'string', short: 'p', multiple: true },
  'publish-all': { type: 'boolean', short: 'P' },
  privileged: { type: 'boolean' },
  'cap-add': { type: 'string', multiple: true },
  'cap-drop': { type: 'string', multiple: true },
  device: { type: 'string', multiple: true },
  'security-opt': { type: 'string', multiple: true },
  volume: { type: 'string', short: 'v', multiple: true },
  mount: { type: 'string', multiple: true },
  tmpfs: { type: 'string', multiple: true },
  'volumes-from': { type: 'string', multiple: true },
  pull: { type: 'string' },
  restart: { type: 'string' },
  ...RUN_OPTIONS,
  ...HEALTH_OPTIONS,
} as const;

/** IMAGE [COMMAND] [ARG...] and the flags → the create request (consoleSize from a terminal stdout). */
export async function createRequest(image: string, cmd: string[], values: Parsed['values'], env: NodeJS.ProcessEnv, stdout: NodeJS.WriteStream): Promise<CreateContainerRequest> {
  const tty = !!values.tty;
  const req: CreateContainerRequest = { image, tty, openStdin: !!values.interactive, autoRemove: !!values.rm };
  if (cmd.length) req.cmd = cmd;
  const name = str(values.name);
  if (name !== undefined) req.name = name;
  const e = parseEnv(strs(values.env), env);
  if (e.length) req.env = e;
  const wd = str(values.workdir);
  if (wd !== undefined) req.workdir = wd;
  const host = str(values.hostname);
  if (host !== undefined) req.hostname = host;
  const user = str(values.user);
  if (user !== undefined) req.user = user;
  const ep = entrypointArg(str(values.entrypoint));
  if (ep) req.entrypoint = ep;
  const net = str(values.network);
  if (net !== undefined) {
    if (!net) throw new UsageError('invalid argument "" for "--network" flag: a network name is required');
    req.network = net === 'default' ? 'bridge' : net;
  }
  const aliases = strs(values['network-alias']);
  if (aliases.length) req.networkAliases = aliases;
  const hosts = strs(values['add-host']).map((h) => {
    // docker accepts NAME:IP and NAME=IP (IPv6 addresses contain colons)
    const m = /^([^:=]+)[:=](.+)$/.exec(h);
    if (!m) throw new UsageError(`invalid argument "${h}" for "--add-host" flag: bad format for add-host: "${h}"`);
    return `${m[1]}:${m[2]}`;
  });
  if (hosts.length) req.extraHosts = hosts;
  for (const [flag, key] of [['dns', 'dns'], ['dns-search', 'dnsSearch'], ['dns-option', 'dnsOptions']] as const) {
    const v = strs(values[flag]);
    if (v.length) req[key] = v;
  }
  Object.assign(req, resourceFlags(values));
  const health = healthFlags(values);
  if (health) req.healthcheck = health;
  if (values.init) req.init = true;
  const ports = strs(values.publish).flatMap(parsePort);
  if (ports.length) req.ports = ports;
  if (values['publish-all']) req.publishAll = true;
  // capability names are checked by the daemon (exit 125 naming the value, as docker does)
  if (values.privileged) req.privileged = true;
  const capAdd = strs(values['cap-add']);
  if (capAdd.length) req.capAdd = capAdd;
  const capDrop = strs(values['cap-drop']);
  if (capDrop.length) req.capDrop = capDrop;
  const devices = strs(values.device).map(parseDevice);
  if (devices.length) req.devices = devices;
  const sec = strs(values['security-opt']);
  if (sec.length) {
    req.securityOpt = sec;
    const profile = await readSeccompProfile(sec);
    if (profile !== undefined) req.seccompProfile = profile;
  }
  // checked here too (exit 125 before any request); the daemon parses -v itself (HostConfig.Binds)
  const binds = strs(values.volume);
  binds.forEach(parseBind);
  if (binds.length) req.binds = binds;
  const mounts = strs(values.mount).map(parseMountFlag);
  if (mounts.length) req.mounts = mounts;
  const tmpfs = strs(values.tmpfs);
  tmpfs.forEach(parseTmpfs);
  if (tmpfs.length) req.tmpfs = tmpfs;
  const from = strs(values['volumes-from']);
  if (from.length) req.volumesFrom = from;
  const restart = str(values.restart);
  if (restart !== undefined && restart !== '') {
    const policy = parseRestartPolicy(restart);
    if (policy.Name !== 'no' && req.autoRemove) throw new SbxError('invalid_argument', 'Conflicting options: --restart and --rm');
    req.restartPolicy = policy;
  }
  await applyRunOptions(req, values, env);
  if (tty && stdout.isTTY && stdout.columns) req.consoleSize = { cols: stdout.columns, rows: stdout.rows };

  return req;
}

/** docker's CLI reads seccomp=PROFILE.json itself and sends the JSON; the daemon validates it and every other option. */
async function readSeccompProfile(opts: string[]): Promise<string | undefined> {
  for (const o of opts) {
    const m = /^seccomp[=:](.*)$/s.exec(o);
    if (!m || m[1] === 'unconfined' || m[1]!.trimStart().startsWith('{') || !m[1]) continue;
    try { return await readFile(m[1]!, 'utf8'); } catch (e) {
      throw new SbxError('invalid_argument', `opening seccomp profile (${m[1]}) failed: ${(e as Error).message}`);
    }
  }
  return undefined;
}
