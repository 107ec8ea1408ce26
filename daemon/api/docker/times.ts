/** docker's time query parameters: /events' since/until, and GET /containers/{id}/logs' since, until, timestamps, details. */
import type { LogOptions } from '../../containers/logs.js';
import { timeParam } from '../../util/clock.js';
import { qbool } from './http.js';

/** since/until as docker's clients send them ("SECONDS[.NANOS]"; "0" and "" mean unset). */
export function dockerTimes(query: URLSearchParams): { since?: bigint; until?: bigint } {
  const t = (k: string): bigint | undefined => (query.get(k) === '0' ? undefined : timeParam(k, query.get(k)));
  const since = t('since');
  const until = t('until');
  return { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) };
}

export function dockerLogTimes(query: URLSearchParams): Pick<LogOptions, 'since' | 'until' | 'timestamps' | 'details'> {
  return { ...dockerTimes(query), timestamps: qbool(query, 'timestamps'), details: qbool(query, 'details') };
}
