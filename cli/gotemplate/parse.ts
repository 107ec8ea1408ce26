/**
 * Go text/template's parser, for `--format`: pieces from lex.ts become a tree of text, actions
 * and the control structures docker users write (if / else if / else, range with optional
 * `$i, $v :=`, with, break, continue, end). define/template/block are refused: a format is one
 * template. Function names are checked here, as Go does at parse time.
 */
import { lex, templateError, type Piece, type Tok } from './lex.js';

export type Operand =
  | { k: 'field'; path: string[] }
  | { k: 'var'; name: string; path: string[] }
  | { k: 'lit'; v: unknown }
  | { k: 'fn'; name: string }
  | { k: 'pipe'; pipe: Pipeline; path: string[] };
export interface Command { args: Operand[] }
export interface Pipeline { decl: string[]; assign: boolean; cmds: Command[]; line: number }
export type Node =
  | { n: 'text'; text: string }
  | { n: 'action'; pipe: Pipeline }
  | { n: 'if' | 'with'; pipe: Pipeline; then: Node[]; else: Node[] }
  | { n: 'range'; pipe: Pipeline; then: Node[]; else: Node[] }
  | { n: 'break' | 'continue' };

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

export function parseTemplate(src: string, funcs: ReadonlySet<string>): Node[] {
  const pieces = lex(src);
  let i = 0;
  let loops = 0;

  // Parse nodes until an {{else}} or {{end}}; returns the nodes and the stopping keyword.
  function list(stopAt: boolean): { nodes: Node[]; stop?: { kw: 'else' | 'end'; rest: Tok[]; line: number } } {
    const nodes: Node[] = [];
    while (i < pieces.length) {
      const p = pieces[i++]!;
      if (p.kind === 'text') { nodes.push({ n: 'text', text: p.text }); continue; }
      const [head, ...rest] = p.toks;
      const kw = head?.t === 'ident' && KEYWORDS.has(head.v) ? head.v : undefined;
      if (kw === 'end' || kw === 'else') {
        if (!stopAt) throw templateError(p.line, `unexpected {{${kw}}}`);
        if (kw === 'end' && rest.length) throw templateError(p.line, 'unexpected tokens after end');
        return { nodes, stop: { kw, rest, line: p.line } };
      }
      if (kw === 'if' || kw === 'with' || kw === 'range') { nodes.push(control(kw, rest, p.line)); continue; }
      if (kw === 'break' || kw === 'continue') {
        if (!loops) throw templateError(p.line, `{{${kw}}} outside {{range}}`);
        nodes.push({ n: kw });
        continue;
      }
      if (kw) throw templateError(p.line, `{{${kw}}} is not supported in --format`);
      nodes.push({ n: 'action', pipe: pipeline(p.toks, p.line, true) });
    }
    if (stopAt) throw templateError(pieces.length ? lineOf(pieces[pieces.length - 1]!) : 1, 'unexpected EOF');
    return { nodes };
  }

  function control(kw: 'if' | 'with' | 'range', toks: Tok[], line: number): Node {
    const pipe = pipeline(toks, line, true, kw === 'range');
    if (kw === 'range') loops++;
    const body = list(true);
    if (kw === 'range') loops--;
    let elseNodes: Node[] = [];
    if (body.stop!.kw === 'else') {
      const r = body.stop!.rest;
      if (r.length && r[0]!.t === 'ident' && (r[0]!.v === 'if' || r[0]!.v === 'with') && kw !== 'range') {
        // {{else if …}} / {{else with …}}: a nested control ending at the same {{end}}
        elseNodes = [control(r[0]!.v as 'if' | 'with', r.slice(1), body.stop!.line)];
        return { n: kw, pipe, then: body.nodes, else: elseNodes };
      }
      if (r.length) throw templateError(body.stop!.line, 'unexpected tokens after else');
      const tail = list(true);
      if (tail.stop!.kw !== 'end') throw templateError(tail.stop!.line, 'expected end; found else');
      elseNodes = tail.nodes;
    }
    return { n: kw, pipe, then: body.nodes, else: elseNodes };
  }

  function pipeline(toks: Tok[], line: number, allowDecl: boolean, range = false): Pipeline {
    let decl: string[] = [];
    let assign = false;
    let k = 0;
    // $x := …, $x = …, and range's $i, $v := …
    const declEnd = toks.findIndex((t) => t.t === 'punct' && (t.v === ':=' || t.v === '='));
    if (allowDecl && declEnd > 0 && toks.slice(0, declEnd).every((t) => t.t === 'var' || (t.t === 'punct' && t.v === ','))) {
      decl = toks.slice(0, declEnd).filter((t): t is Extract<Tok, { t: 'var' }> => t.t === 'var').map((t) => t.v);
      if (decl.length > (range ? 2 : 1)) throw templateError(line, 'too many declarations');
      assign = (toks[declEnd] as { v: string }).v === '=';
      k = declEnd + 1;
    }
    const cmds: Command[] = [];
    let args: Operand[] = [];
    const stack: { cmds: Command[]; args: Operand[] }[] = [];
    for (; k < toks.length; k++) {
      const t = toks[k]!;
      if (t.t === 'punct' && t.v === '|') {
        if (!args.length) throw templateError(line, 'missing command before |');
        cmds.push({ args }); args = [];
      } else if (t.t === 'punct' && t.v === '(') {
        stack.push({ cmds: [...cmds], args }); cmds.length = 0; args = [];
      } else if (t.t === 'punct' && t.v === ')') {
        const outer = stack.pop();
        if (!outer) throw templateError(line, 'unexpected right paren');
        if (!args.length) throw templateError(line, 'missing value in parenthesis');
        const inner: Pipeline = { decl: [], assign: false, cmds: [...cmds, { args }], line };
        cmds.length = 0; cmds.push(...outer.cmds); args = outer.args;
        const chain = toks[k + 1]?.t === 'chain' ? (toks[++k] as { v: string[] }).v : [];
        args.push({ k: 'pipe', pipe: inner, path: chain });
      } else if (t.t === 'punct') {
        throw templateError(line, `unexpected ${JSON.stringify(t.v)} in operand`);
      } else {
        args.push(operand(t, line));
      }
    }
    if (stack.length) throw templateError(line, 'unclosed left paren');
    if (args.length) cmds.push({ args });
    if (!cmds.length) throw templateError(line, 'missing value for command');
    return { decl, assign, cmds, line };
  }

  function operand(t: Tok, line: number): Operand {
    switch (t.t) {
      case 'field': return { k: 'field', path: t.v };
      case 'var': return { k: 'var', name: t.v, path: t.fields };
      case 'str': return { k: 'lit', v: t.v };
      case 'num': return { k: 'lit', v: t.v };
      case 'chain': throw templateError(line, 'unexpected field chain');
      case 'ident':
        if (t.v === 'true' || t.v === 'false') return { k: 'lit', v: t.v === 'true' };
        if (t.v === 'nil') return { k: 'lit', v: null };
        if (!funcs.has(t.v)) throw templateError(line, `function "${t.v}" not defined`);
        return { k: 'fn', name: t.v };
      default: throw templateError(line, 'unexpected token');
    }
  }

  return list(false).nodes;
}

function lineOf(p: Piece): number { return p.kind === 'action' ? p.line : 1; }
