/**
 * docker's health flags of `run` and `create`: --health-cmd, --health-interval, --health-timeout,
 * --health-start-period, --health-start-interval, --health-retries, --no-healthcheck, made into
 * the request's healthcheck (protocol/health.ts) as docker's CLI makes HealthConfig.
 */
import { SbxError, parseGoDuration, type HealthConfig } from '../protocol/index.js';
import { UsageError, str, type Parsed } from './command.js';

export const HEALTH_OPTIONS = {
  'health-cmd': { type: 'string' },
  'health-interval': { type: 'string' },
  'health-timeout': { type: 'string' },
  'health-start-period': { type: 'string' },
  'health-start-interval': { type: 'string' },
  'health-retries': { type: 'string' },
  'no-healthcheck': { type: 'boolean' },
} as const;

const DURATIONS = [['health-interval', 'Interval'], ['health-timeout', 'Timeout'], ['health-start-period', 'StartPeriod'], ['health-start-interval', 'StartInterval']] as const;

/** The request's healthcheck, or undefined when no health flag was given. @throws UsageError (syntax), SbxError (docker's other refusals; both exit 125) */
export function healthFlags(values: Parsed['values']): HealthConfig | undefined {
  const h: HealthConfig = {};
  for (const [flag, key] of DURATIONS) {
    const v = str(values[flag]);
    if (v === undefined) continue;
    const ns = parseGoDuration(v);
    if (ns === undefined) throw new UsageError(`invalid argument "${v}" for "--${flag}" flag: time: invalid duration "${v}"`);
    if (ns < 0) throw new SbxError('invalid_argument', `--${flag} cannot be negative`);
    h[key] = ns;
  }
  const retries = str(values['health-retries']);
  if (retries !== undefined) {
    if (!/^-?\d+$/.test(retries)) throw new UsageError(`invalid argument "${retries}" for "--health-retries" flag: strconv.ParseInt: parsing "${retries}": invalid syntax`);
    if (Number(retries) < 0) throw new SbxError('invalid_argument', '--health-retries cannot be negative');
    h.Retries = Number(retries);
  }
  const cmd = str(values['health-cmd']);
  const any = cmd !== undefined || Object.keys(h).length > 0;
  if (values['no-healthcheck']) {
    if (any) throw new SbxError('invalid_argument', '--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (cmd) h.Test = ['CMD-SHELL', cmd];
  return any ? h : undefined;
}
