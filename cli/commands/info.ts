/**
 * `sbx info [--format TEMPLATE|json]` (also `sbx system info`): docker's layout, the lines sbx has
 * (Storage Driver is the snapshotter; "Sbx Root Dir" stands for "Docker Root Dir").
 */
import { System, type SystemInfo } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';
import { checkTemplate, isJsonFormat, renderTemplate } from '../template.js';
import { CLI_VERSION } from '../version.js';

/** docker's units.BytesSize: binary units, 4 significant digits ("3.822GiB"). */
export function bytesSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

export function infoText(i: SystemInfo): string {
  return [
    'Client:', ` Version:    ${CLI_VERSION}`, '',
    'Server:',
    ` Containers: ${i.Containers}`, `  Running: ${i.ContainersRunning}`, `  Paused: ${i.ContainersPaused}`, `  Stopped: ${i.ContainersStopped}`,
    ` Images: ${i.Images}`, ` Server Version: ${i.ServerVersion}`, ` Storage Driver: ${i.Driver}`,
    ` Cgroup Driver: ${i.CgroupDriver}`, ` Cgroup Version: ${i.CgroupVersion}`,
    ` Kernel Version: ${i.KernelVersion}`, ` Operating System: ${i.OperatingSystem}`, ` OSType: ${i.OSType}`,
    ` Architecture: ${i.Architecture}`, ` CPUs: ${i.NCPU}`, ` Total Memory: ${bytesSize(i.MemTotal)}`,
    ` Name: ${i.Name}`, ` Sbx Root Dir: ${i.SbxRootDir}`, '',
  ].join('\n');
}

export const command: Command = {
  name: 'info',
  summary: 'Display system-wide information',
  usage: 'sbx info [OPTIONS]',
  options: { format: { type: 'string', short: 'f' } },
  async run({ values, positionals }, { client, stdout }) {
    if (positionals.length) throw new UsageError('"sbx info" accepts no arguments.');
    const format = str(values.format);
    if (format && !isJsonFormat(format)) checkTemplate(format);
    const info = await client.call(System.info, {});
    if (format) stdout.write(`${isJsonFormat(format) ? JSON.stringify(info) : renderTemplate(format, info, 'command.info')}\n`);
    else stdout.write(infoText(info));
  },
};
