/**
 * GBNF IR → the flat form the recognizer runs (llama.cpp's `llama_grammar_element` arrays):
 * every rule is a list of alternatives, each a run of elements (a character set or a rule
 * reference) ended by END. Groups and alternatives inside a sequence become rules of their own;
 * repetitions are expanded as llama.cpp does (`x{2,4}` → `x x R2`, `R2 ::= x R1 |`,
 * `R1 ::= x |`; `x*` → `R ::= x R |`). Left recursion is rejected here.
 */
import { XlamInvalidArgumentError } from '../errors.js';
import type { GbnfExpr, GbnfGrammar } from './gbnf.js';
import { printGbnfExpr } from './gbnf-print.js';

/** A character set: sorted, merged, inclusive code point ranges `[lo0, hi0, lo1, hi1, ...]`. */
export interface CharSet {
  negated: boolean;
  ranges: Int32Array;
}

export const END = 0;
export const CHAR = 1;
export const REF = 2;

/** A grammar ready to run. Positions index `kind` / `arg`. */
export interface CompiledGrammar {
  /** Per position: END, CHAR or REF. */
  kind: Uint8Array;
  /** Per position: the index in `sets` (CHAR) or the rule index (REF). */
  arg: Int32Array;
  sets: CharSet[];
  /** Per rule: the start position of each alternative. */
  alts: number[][];
  /** Per rule: its name (generated rules: the rule they come from, with a suffix). */
  names: string[];
  /** The index of `root`. */
  root: number;
}

type Elem = { set: CharSet } | { rule: number };

function makeSet(negated: boolean, ranges: ReadonlyArray<readonly [number, number]>): CharSet {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: number[] = [];
  for (const [lo, hi] of sorted) {
    const n = merged.length;
    if (n > 0 && lo <= merged[n - 1]! + 1) merged[n - 1] = Math.max(merged[n - 1]!, hi);
    else merged.push(lo, hi);
  }
  return { negated, ranges: Int32Array.from(merged) };
}

function fail(message: string): never {
  throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `grammar: ${message}`);
}

/**
 * The compile budget: a grammar larger than this (elements over all alternatives, or rules) is
 * refused with code `GRAMMAR_TOO_LARGE` before it is built. The BFCL tool sets need < 100,000.
 */
export const MAX_GRAMMAR_ELEMENTS = 2_000_000;
export const MAX_GRAMMAR_RULES = 200_000;

function tooLarge(what: string): never {
  throw new XlamInvalidArgumentError('GRAMMAR_TOO_LARGE',
    `grammar: the tools' schemas need a grammar of more than ${what}; use fewer tools, or smaller schemas (repetition counts, string lengths, enums)`);
}

class Lowering {
  readonly rules: Elem[][][] = [];
  readonly names: string[] = [];
  readonly index = new Map<string, number>();
  private literalSets = new Map<number, CharSet>();
  private size = 0;

  /** Counts `n` more elements against {@link MAX_GRAMMAR_ELEMENTS}. */
  grow(n: number): void {
    this.size += n;
    if (this.size > MAX_GRAMMAR_ELEMENTS) tooLarge(`${MAX_GRAMMAR_ELEMENTS.toLocaleString('en-US')} elements`);
  }

  constructor(grammar: GbnfGrammar) {
    for (const r of grammar.rules) {
      if (this.index.has(r.name)) fail(`rule ${r.name} is defined twice`);
      this.index.set(r.name, this.newRule(r.name));
    }
    for (const r of grammar.rules) {
      const id = this.index.get(r.name)!;
      this.rules[id] = r.expr.type === 'alt' ? r.expr.options.map((o) => this.elems(o, r.name)) : [this.elems(r.expr, r.name)];
    }
  }

  newRule(name: string): number {
    if (this.rules.length >= MAX_GRAMMAR_RULES) tooLarge(`${MAX_GRAMMAR_RULES.toLocaleString('en-US')} rules`);
    this.rules.push([]);
    this.names.push(name);
    return this.rules.length - 1;
  }

  charOf(cp: number): CharSet {
    let s = this.literalSets.get(cp);
    if (!s) this.literalSets.set(cp, (s = makeSet(false, [[cp, cp]])));
    return s;
  }

  /** The elements of one alternative that matches `e`. */
  elems(e: GbnfExpr, owner: string): Elem[] {
    switch (e.type) {
      case 'literal': this.grow(e.value.length); return [...e.value].map((ch) => ({ set: this.charOf(ch.codePointAt(0)!) }));
      case 'class': this.grow(1); return [{ set: makeSet(e.negated, e.ranges) }];
      case 'ref': {
        this.grow(1);
        const rule = this.index.get(e.name);
        if (rule === undefined) fail(`rule ${owner} references undefined rule ${e.name}`);
        return [{ rule }];
      }
      case 'seq': return e.items.flatMap((i) => this.elems(i, owner));
      case 'alt': {
        const id = this.newRule(`${owner}(group)`);
        this.rules[id] = e.options.map((o) => this.elems(o, owner));
        return [{ rule: id }];
      }
      case 'repeat': return this.repetition(e.item, e.min, e.max, owner);
    }
  }

  repetition(item: GbnfExpr, min: number, max: number | null, owner: string): Elem[] {
    if (!Number.isSafeInteger(min) || min < 0 || (max !== null && (!Number.isSafeInteger(max) || max < min))) {
      fail(`rule ${owner}: bad repetition {${min},${max ?? ''}}`);
    }
    const one = this.elems(item, owner);
    this.grow(Math.max(0, min - 1) * one.length + (max === null ? one.length + 1 : (max - min) * (one.length + 1)));
    const text = printGbnfExpr(item);
    const label = `${owner}(repetition of ${text.length > 40 ? `${text.slice(0, 40)}...` : text})`;
    const out: Elem[] = [];
    for (let i = 0; i < min; i++) for (const x of one) out.push(x);
    if (max === null) {
      const id = this.newRule(label);
      this.rules[id] = [[...one, { rule: id }], []];
      out.push({ rule: id });
    } else if (max > min) {
      let inner: number | undefined;
      for (let k = 1; k <= max - min; k++) {
        const id = this.newRule(label);
        this.rules[id] = [inner === undefined ? one : [...one, { rule: inner }], []];
        inner = id;
      }
      out.push({ rule: inner! });
    }
    return out;
  }
}

/** Throws when a rule can reach itself without consuming a character (left recursion). */
function checkLeftRecursion(rules: Elem[][][], names: string[]): void {
  const nullable = rules.map(() => false);
  for (let changed = true; changed; ) {
    changed = false;
    rules.forEach((alts, id) => {
      if (!nullable[id] && alts.some((a) => a.every((e) => 'rule' in e && nullable[e.rule]))) {
        nullable[id] = true;
        changed = true;
      }
    });
  }
  const leftEdges = rules.map((alts) => {
    const edges = new Set<number>();
    for (const a of alts) {
      for (const e of a) {
        if (!('rule' in e)) break;
        edges.add(e.rule);
        if (!nullable[e.rule]) break;
      }
    }
    return [...edges];
  });
  const state = new Uint8Array(rules.length); // 0 new, 1 on the path, 2 done
  const path: number[] = [];
  const visit = (id: number): void => {
    state[id] = 1;
    path.push(id);
    for (const next of leftEdges[id]!) {
      if (state[next] === 1) {
        const cycle = path.slice(path.indexOf(next)).concat(next).map((r) => names[r]!);
        fail(`left recursion: ${cycle.join(' -> ')} (a rule reaches itself without consuming a character)`);
      }
      if (state[next] === 0) visit(next);
    }
    path.pop();
    state[id] = 2;
  };
  for (let id = 0; id < rules.length; id++) if (state[id] === 0) visit(id);
}

/**
 * Compiles a grammar for the recognizer: resolves references, expands groups and repetitions
 * into rules, and rejects left recursion (`a ::= a "x"`, also through nullable prefixes such as
 * `a ::= b? a` or `("x"?)*`).
 *
 * @throws {XlamInvalidArgumentError} `INVALID_ARGUMENT`: no `root` rule, a rule defined twice, a
 *   reference to an undefined rule, a bad repetition count, left recursion (the message names the
 *   rules of the cycle).
 */
export function compileGrammar(grammar: GbnfGrammar): CompiledGrammar {
  const low = new Lowering(grammar);
  const root = low.index.get('root');
  if (root === undefined) fail('no rule named "root"');
  checkLeftRecursion(low.rules, low.names);
  const kind: number[] = [];
  const arg: number[] = [];
  const sets: CharSet[] = [];
  const setIndex = new Map<CharSet, number>();
  const alts = low.rules.map((ruleAlts) =>
    ruleAlts.map((elems) => {
      const start = kind.length;
      for (const e of elems) {
        if ('rule' in e) {
          kind.push(REF);
          arg.push(e.rule);
        } else {
          let i = setIndex.get(e.set);
          if (i === undefined) setIndex.set(e.set, (i = sets.push(e.set) - 1));
          kind.push(CHAR);
          arg.push(i);
        }
      }
      kind.push(END);
      arg.push(0);
      return start;
    }),
  );
  return { kind: Uint8Array.from(kind), arg: Int32Array.from(arg), sets, alts, names: low.names, root };
}

/** Whether `cp` is in the set. */
export function setHas(s: CharSet, cp: number): boolean {
  const r = s.ranges;
  let lo = 0;
  let hi = (r.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < r[2 * mid]!) hi = mid - 1;
    else if (cp > r[2 * mid + 1]!) lo = mid + 1;
    else return !s.negated;
  }
  return s.negated;
}

/** Whether some code point in `[a, b]` is in the set. */
export function setMeets(s: CharSet, a: number, b: number): boolean {
  const r = s.ranges;
  if (!s.negated) {
    for (let i = 0; i < r.length; i += 2) if (r[i]! <= b && r[i + 1]! >= a) return true;
    return false;
  }
  let cur = a;
  for (let i = 0; i < r.length && cur <= b; i += 2) {
    if (r[i + 1]! < cur) continue;
    if (r[i]! > cur) return true;
    cur = r[i + 1]! + 1;
  }
  return cur <= b;
}
