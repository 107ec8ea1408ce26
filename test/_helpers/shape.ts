/**
 * Compares a JSON answer's shape with docker's documented one (test/fixtures/docker-*.ts): every
 * key docker has is there with docker's JSON type (a Go nil slice/map/pointer may be null on
 * either side); maps keyed by data (labels, ports, networks) are compared value by value against
 * the fixture's first entry; docker's omitempty fields may be absent.
 */

export interface ShapeRules {
  /** Maps whose keys are data: each value is checked against the fixture's first value. */
  keyed: ReadonlySet<string>;
  /** docker's omitempty fields: absent when unset. */
  omitempty: ReadonlySet<string>;
}

/** The rules of `docker inspect`'s container and image JSON. */
export const INSPECT_RULES: ShapeRules = {
  keyed: new Set(['Labels', 'PortBindings', 'Ports', 'Networks', 'Data', 'Volumes', 'ExposedPorts', 'Config.Config']),
  omitempty: new Set(['StopSignal', 'Variant', 'ExposedPorts']),
};

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Where `got` differs from docker's shape `want`: "Path.To.Key: what". */
export function shapeGaps(want: unknown, got: unknown, path: string, rules: ShapeRules = INSPECT_RULES, name = ''): string[] {
  const kw = kind(want);
  const kg = kind(got);
  if (kw !== kg) {
    const nilable = (k: string): boolean => k === 'array' || k === 'object';
    if ((kw === 'null' && nilable(kg)) || (kg === 'null' && nilable(kw))) return [];
    return [`${path}: docker has ${kw}, sbx ${kg}`];
  }
  if (kw === 'array') {
    const [first] = want as unknown[];
    return first === undefined ? [] : (got as unknown[]).flatMap((g, i) => shapeGaps(first, g, `${path}[${i}]`, rules));
  }
  if (kw !== 'object') return [];
  const w = want as Record<string, unknown>;
  const g = got as Record<string, unknown>;
  if (rules.keyed.has(name)) {
    const first = Object.values(w)[0];
    return first === undefined ? [] : Object.entries(g).flatMap(([k, v]) => shapeGaps(first, v, `${path}[${k}]`, rules));
  }
  return Object.keys(w).flatMap((k) => {
    if (k in g) return shapeGaps(w[k], g[k], `${path}.${k}`, rules, k === 'Config' && name === 'LogConfig' ? 'Config.Config' : k);
    return rules.omitempty.has(k) ? [] : [`${path}.${k}: missing`];
  });
}
