/**
 * Executes a parsed `--format` template against a JSON value, with Go text/template's rules:
 * dot moves in range/with, `$` is the root, variables are scoped to their control structure, a
 * pipeline passes each command's value as the next command's last argument.
 */
import { SbxError } from '../../protocol/index.js';
import { FUNCS, NO_VALUE, goString, truth } from './funcs.js';
import type { Node, Operand, Pipeline } from './parse.js';

class Break { constructor(readonly kind: 'break' | 'continue') {} }

type Scope = Map<string, unknown>[];

const STRUCT = Symbol('go struct');
type Method = (...args: unknown[]) => unknown;
interface StructInfo { type: string; methods: Record<string, Method> }
/** A method value found by a field path: called with the command's arguments (none: at once). */
class Bound {
  constructor(readonly name: string, private readonly method: Method) {}
  /** Go checks the arity of a method call. */
  fn(...args: unknown[]): unknown {
    if (args.length !== this.method.length) throw new SbxError('invalid_argument', `wrong number of args for ${this.name}: want ${this.method.length} got ${args.length}`);
    return this.method(...args);
  }
}

function callBound(b: Bound, line: number, args: unknown[] = []): unknown {
  try { return b.fn(...args); } catch (e) {
    throw new SbxError('invalid_argument', `template: :${line}: executing "" at <.${b.name}>: ${(e as Error).message}`);
  }
}

/**
 * Mark `v` as a Go struct of type `type` (docker's formatter contexts, inspect's top level): a
 * field it lacks is an error ("can't evaluate field X in type T"), as in Go, rather than
 * "<no value>" as for a map; `methods` are called as Go methods (`{{.Label "app"}}`). The mark is
 * invisible to JSON.stringify and Object.keys.
 */
export function goStruct<T extends object>(v: T, type: string, methods: Record<string, Method> = {}): T {
  Object.defineProperty(v, STRUCT, { value: { type, methods } satisfies StructInfo, enumerable: false });
  return v;
}

function field(v: unknown, path: string[], line: number, callable = false): unknown {
  let cur = v;
  for (const [i, key] of path.entries()) {
    if (cur instanceof Bound) cur = callBound(cur, line);
    if (cur === NO_VALUE || cur === undefined || cur === null) return NO_VALUE;
    if (typeof cur !== 'object' || Array.isArray(cur)) {
      throw new SbxError('invalid_argument', `template: :${line}: can't evaluate field ${key} in type ${Array.isArray(cur) ? '[]interface {}' : typeof cur}`);
    }
    const st = (cur as { [STRUCT]?: StructInfo })[STRUCT];
    if (Object.prototype.hasOwnProperty.call(cur, key)) cur = (cur as Record<string, unknown>)[key];
    else if (st?.methods[key]) cur = new Bound(key, st.methods[key]!);
    else if (st) throw new SbxError('invalid_argument', `template: :${line}: executing "" at <.${path.slice(0, i + 1).join('.')}>: can't evaluate field ${key} in type ${st.type}`);
    else cur = NO_VALUE;
  }
  return cur instanceof Bound && !callable ? callBound(cur, line) : cur;
}

function lookupVar(scope: Scope, name: string, line: number): unknown {
  for (let i = scope.length - 1; i >= 0; i--) if (scope[i]!.has(name)) return scope[i]!.get(name);
  throw new SbxError('invalid_argument', `template parsing error: template: :${line}: undefined variable "${name}"`);
}

export function execute(nodes: Node[], data: unknown): string {
  const out: string[] = [];
  run(nodes, data, [new Map([['$', data]])], out);
  return out.join('');
}

function run(nodes: Node[], dot: unknown, scope: Scope, out: string[]): void {
  for (const node of nodes) {
    switch (node.n) {
      case 'text': out.push(node.text); break;
      case 'action': {
        const v = pipe(node.pipe, dot, scope);
        if (!node.pipe.decl.length) out.push(goString(v));
        break;
      }
      case 'if': case 'with': {
        scope.push(new Map());
        const v = pipe(node.pipe, dot, scope);
        if (truth(v)) run(node.then, node.n === 'with' ? v : dot, scope, out);
        else run(node.else, dot, scope, out);
        scope.pop();
        break;
      }
      case 'range': rangeNode(node, dot, scope, out); break;
      case 'break': case 'continue': throw new Break(node.n);
    }
  }
}

function rangeNode(node: Extract<Node, { n: 'range' }>, dot: unknown, scope: Scope, out: string[]): void {
  scope.push(new Map());
  const decl = node.pipe.decl;
  const v = pipe({ ...node.pipe, decl: [] }, dot, scope);
  let items: [unknown, unknown][];
  if (Array.isArray(v)) items = v.map((e, i) => [i, e]);
  else if (v && typeof v === 'object') items = Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]);
  else if (v === null || v === undefined || v === NO_VALUE) items = [];
  else if (typeof v === 'number' && Number.isInteger(v)) items = Array.from({ length: Math.max(0, v) }, (_x, i) => [i, i]);
  else throw new SbxError('invalid_argument', `template: :${node.pipe.line}: range can't iterate over ${goString(v)}`);
  if (!items.length) run(node.else, dot, scope, out);
  for (const [k, e] of items) {
    const s = new Map<string, unknown>();
    if (decl.length === 1) s.set(decl[0]!, e);
    if (decl.length === 2) { s.set(decl[0]!, k); s.set(decl[1]!, e); }
    scope.push(s);
    try { run(node.then, e, scope, out); } catch (err) {
      if (!(err instanceof Break)) throw err;
      if (err.kind === 'break') { scope.pop(); break; }
    }
    scope.pop();
  }
  scope.pop();
}

function pipe(p: Pipeline, dot: unknown, scope: Scope): unknown {
  let value: unknown;
  let piped = false;
  for (const cmd of p.cmds) {
    const [head, ...rest] = cmd.args;
    if (head!.k === 'fn') {
      const args = rest.map((a) => operand(a, dot, scope, p.line));
      if (piped) args.push(value);
      try { value = FUNCS[head!.name]!(...args); } catch (e) {
        if (e instanceof SbxError) throw new SbxError('invalid_argument', e.message.replace(/^template: /, `template: :${p.line}: `));
        throw e;
      }
    } else {
      const target = head!.k === 'field' ? field(dot, head!.path, p.line, true) : operand(head!, dot, scope, p.line);
      if (target instanceof Bound) {
        const args = rest.map((a) => operand(a, dot, scope, p.line));
        if (piped) args.push(value);
        value = callBound(target, p.line, args);
      } else {
        if (rest.length || piped) throw new SbxError('invalid_argument', `template: :${p.line}: can't give argument to non-function ${describe(head!)}`);
        value = target;
      }
    }
    piped = true;
  }
  if (p.decl.length) {
    const name = p.decl[0]!;
    if (p.assign) {
      const s = [...scope].reverse().find((m) => m.has(name));
      if (!s) throw new SbxError('invalid_argument', `template parsing error: template: :${p.line}: undefined variable "${name}"`);
      s.set(name, value);
    } else scope[scope.length - 1]!.set(name, value);
  }
  return value;
}

function operand(a: Operand, dot: unknown, scope: Scope, line: number): unknown {
  switch (a.k) {
    case 'lit': return a.v;
    case 'field': return field(dot, a.path, line);
    case 'var': return field(lookupVar(scope, a.name, line), a.path, line);
    case 'pipe': return field(pipe(a.pipe, dot, scope), a.path, line);
    case 'fn': return FUNCS[a.name]!();
  }
}

function describe(a: Operand): string {
  if (a.k === 'field') return `.${a.path.join('.')}`;
  if (a.k === 'var') return a.name;
  return goString(a.k === 'lit' ? a.v : '(…)');
}
