/**
 * Health checks, docker's: the image's HEALTHCHECK (its config's Healthcheck) or the run flags
 * --health-cmd/-interval/-timeout/-start-period/-start-interval/-retries and --no-healthcheck.
 * The daemon runs the test in the running container as an exec would (CMD-SHELL through
 * /bin/sh -c), first one interval after the start, and keeps Status (starting → healthy or,
 * after Retries failures in a row, unhealthy), FailingStreak and the last five results.
 * Failures inside the start period do not count. A test that outlives Timeout is killed and
 * counts as a failure (ExitCode -1). ps shows "Up 5 seconds (healthy)" and takes --filter health=.
 */
import type { HealthConfig } from './oci.js';
import { arrayOf, object, opt, str, uint, type Fields } from './validate.js';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** docker's defaults for a zero field (durations in nanoseconds). */
export const HEALTH_DEFAULTS = { Interval: 30e9, Timeout: 30e9, StartPeriod: 0, StartInterval: 5e9, Retries: 3 } as const;

export interface HealthOptions {
  /**
   * The request's health check, docker's HealthConfig: Test ["CMD-SHELL", cmd] | ["CMD", arg...] |
   * ["NONE"] (no check, not even the image's); zero or absent fields take the image's values,
   * then HEALTH_DEFAULTS. Durations in nanoseconds, at least 1 ms when not 0.
   */
  healthcheck?: HealthConfig;
}

export const healthConfigType = object<HealthConfig>({
  Test: opt(arrayOf(str)), Interval: opt(uint), Timeout: opt(uint), StartPeriod: opt(uint), StartInterval: opt(uint), Retries: opt(uint),
}, 'a health check {Test, Interval, Timeout, StartPeriod, StartInterval, Retries}', 'health checks');

export const healthOptionFields: Fields<HealthOptions> = { healthcheck: opt(healthConfigType) };

/** One result in State.Health.Log (docker's HealthcheckResult). */
export interface HealthLogEntry { Start: string; End: string; ExitCode: number; Output: string }

/** inspect's State.Health: present only while the container has a health check. */
export interface HealthState { Status: HealthStatus; FailingStreak: number; Log: HealthLogEntry[] }

/** What ps adds to "Up 3 seconds": " (healthy)", " (unhealthy)", " (health: starting)". */
export function healthSuffix(s: HealthStatus | undefined): string {
  if (!s) return '';
  return s === 'starting' ? ' (health: starting)' : ` (${s})`;
}
