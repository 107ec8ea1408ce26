/**
 * Input schemas for the /v1 API: each request type in protocol/ has its fields listed next to
 * it (`Fields<T>`, one line per field), and the daemon's router checks every request against its
 * route's schema before a handler runs. The compiler keeps a schema and its type in step: a
 * field added to a request interface without a line here does not compile, and an optional
 * field must use `opt(...)`.
 *
 * What a check does, the same for every route:
 * - wrong type → SbxError invalid_argument (HTTP 400) "cmd must be an array of strings (got a
 *   string)", detail `{ field, expected }`; nested fields are named as paths ("ports[0].hostPort");
 * - an unknown field → 400 naming it; a missing required field → 400 naming it;
 * - `null` counts as absent for an optional field (JSON clients send it for "unset");
 * - never a coercion: "true" is not a boolean in a JSON body and a string is not a list.
 * Query strings carry text, so there each type reads its own text form: booleans as docker
 * reads them (1/true/0/false, nothing else), integers in decimal, arrays as a JSON array
 * (the CLI's encoding) or one plain string, strings as they are.
 *
 * Pure TypeScript: no Node imports (protocol/ is a leaf).
 */
import { SbxError } from './errors.js';

export interface Type<T, O extends boolean = boolean> {
  /** For messages: "a string", "an array of strings", "true or false". */
  readonly expected: string;
  /** The plural, for arrays of this type ("strings", "port mappings"). */
  readonly plural: string;
  /** May the field be absent (or null)? */
  readonly optional: O;
  /** Check a JSON value; throws invalid_argument naming `field`. */
  check(v: unknown, field: string): T;
  /** Read a query-string value (text) and check it. */
  fromQuery(raw: string, field: string): T;
}

/** A request's schema: every field of T with its type; `opt()` exactly for T's optional fields. */
export type Fields<T> = {
  [K in keyof T]-?: {} extends Pick<T, K> ? Type<Exclude<T[K], undefined>, true> : Type<T[K], false>;
};

export interface ObjectType<T> extends Type<T, false> {
  /** Field name → type (checked against T by `object()`'s parameter, not here, so any route fits Route<any, any>). */
  readonly fields: Readonly<Record<string, Type<unknown>>>;
}

/** "a string", "an object", "null", "an array": what a wrong value was, for messages. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  if (t === 'string') return `the string ${JSON.stringify((v as string).length > 40 ? `${(v as string).slice(0, 40)}…` : v)}`;
  if (t === 'number') return `the number ${String(v)}`;
  if (t === 'boolean') return String(v);
  return t === 'object' ? 'an object' : `a ${t}`;
}

export function invalid(field: string, expected: string, got?: string): SbxError {
  const name = field || 'request body';
  return new SbxError('invalid_argument', `${name} must be ${expected}${got ? ` (got ${got})` : ''}`, { detail: { field: name, expected } });
}

function scalar<T>(expected: string, plural: string, test: (v: unknown) => boolean, query: (raw: string) => unknown,
  queryExpected = expected): Type<T, false> {
  const t: Type<T, false> = {
    expected, plural, optional: false,
    check(v, field) {
      if (!test(v)) throw invalid(field, expected, describeValue(v));
      return v as T;
    },
    fromQuery(raw, field) {
      const v = query(raw);
      if (!test(v)) throw invalid(field, queryExpected, describeValue(raw));
      return v as T;
    },
  };
  return t;
}

const decimal = (raw: string): unknown => (/^-?\d+$/.test(raw) ? Number(raw) : raw);

export const str = scalar<string>('a string', 'strings', (v) => typeof v === 'string', (raw) => raw);

export const bool = scalar<boolean>('true or false', 'booleans', (v) => typeof v === 'boolean', (raw) => {
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  return raw;
}, '1, true, 0 or false');

export const int = scalar<number>('an integer', 'integers', (v) => Number.isSafeInteger(v), decimal);

/** A count or sequence number: an integer ≥ 0. */
export const uint = scalar<number>('an integer ≥ 0', 'integers ≥ 0', (v) => Number.isSafeInteger(v) && (v as number) >= 0, decimal);

/** An integer from min to max inclusive. */
export function intIn(min: number, max: number): Type<number, false> {
  return scalar<number>(`an integer from ${min} to ${max}`, `integers from ${min} to ${max}`,
    (v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max, decimal);
}

/** One of a closed set of strings. */
export function oneOf<const V extends string>(...values: V[]): Type<V, false> {
  const list = values.map((v) => JSON.stringify(v)).join(', ');
  return scalar<V>(`one of ${list}`, `strings, each one of ${list}`, (v) => values.includes(v as V), (raw) => raw);
}

export function arrayOf<T>(item: Type<T, false>): Type<T[], false> {
  const expected = `an array of ${item.plural}`;
  const check = (v: unknown, field: string): T[] => {
    if (!Array.isArray(v)) throw invalid(field, expected, describeValue(v));
    return v.map((x, i) => {
      try { return item.check(x, `${field}[${i}]`); } catch (e) {
        // An element of the wrong type: name the array's type, not only the element's.
        if (e instanceof SbxError && (e.detail as { field?: string } | undefined)?.field === `${field}[${i}]`) {
          throw invalid(field, expected, `${describeValue(x)} at [${i}]`);
        }
        throw e;
      }
    });
  };
  return {
    expected, plural: `arrays of ${item.plural}`, optional: false, check,
    fromQuery(raw, field) {
      if (!raw.startsWith('[')) return [item.fromQuery(raw, field)];
      let v: unknown;
      try { v = JSON.parse(raw); } catch { throw invalid(field, `${expected} (a JSON array)`, describeValue(raw)); }
      return check(v, field);
    },
  };
}

/** The same type, allowed to be absent. */
export function opt<T>(t: Type<T, false>): Type<T, true> {
  return { ...t, optional: true };
}

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

export function object<T>(fields: Fields<T>, expected = 'an object', plural = 'objects'): ObjectType<T> {
  const entries = Object.entries(fields) as [string, Type<unknown>][];
  const known = entries.map(([k]) => k);
  const check = (v: unknown, field: string): T => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid(field, expected, describeValue(v));
    const at = (k: string): string => (field ? `${field}.${k}` : k);
    for (const k of Object.keys(v)) {
      if (!own(fields, k)) {
        throw new SbxError('invalid_argument', `unknown field "${at(k)}"${known.length ? ` (known: ${known.join(', ')})` : ' (this request takes none)'}`,
          { detail: { field: at(k), expected: 'no such field' } });
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, t] of entries) {
      const x = (v as Record<string, unknown>)[k];
      if (x === undefined || (x === null && t.optional)) {
        if (!t.optional) throw new SbxError('invalid_argument', `${at(k)} is required (${t.expected})`, { detail: { field: at(k), expected: t.expected } });
        continue;
      }
      out[k] = t.check(x, at(k));
    }
    return out as T;
  };
  return {
    expected, plural, optional: false, fields: fields as Record<string, Type<unknown>>, check,
    fromQuery(raw, field) {
      let v: unknown;
      try { v = JSON.parse(raw); } catch { throw invalid(field, `${expected} (as JSON)`, describeValue(raw)); }
      return check(v, field);
    },
  };
}

/** Where a request's fields came from: the query string, the JSON body, the path. */
export interface RequestParts {
  query: Iterable<[string, string]>;
  body?: Record<string, unknown>;
  params: Record<string, string>;
}

/**
 * Check one request against its schema: query values read by their field's type (an unknown
 * query parameter is refused like an unknown body field), body values as they are, then path
 * parameters; the merged object is checked as a whole. Returns the checked request.
 */
export function checkRequest<T>(schema: ObjectType<T>, parts: RequestParts): T {
  const input: Record<string, unknown> = {};
  const types = schema.fields;
  for (const [k, raw] of parts.query) {
    if (!own(types, k)) {
      throw new SbxError('invalid_argument', `unknown query parameter "${k}"`, { detail: { field: k, expected: 'no such parameter' } });
    }
    input[k] = types[k]!.fromQuery(raw, k);
  }
  Object.assign(input, parts.body ?? {}, parts.params);
  return schema.check(input, '');
}
