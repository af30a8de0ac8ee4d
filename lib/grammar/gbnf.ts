/**
 * The grammar IR: GBNF, the grammar format of llama.cpp (`grammars/README.md` there), as a
 * syntax tree. {@link printGbnf} writes it as GBNF text and {@link parseGbnf} reads it back; the
 * native matcher and the TypeScript reference recognizer (`createMatcher`) both consume it.
 *
 * Literals and character classes are over Unicode code points; the matchers run over the UTF-8
 * bytes of the text.
 */

/** A string literal: `"..."`, its characters matched in order. */
export interface GbnfLiteral {
  type: 'literal';
  /** The characters (code points) to match; `''` matches the empty string. */
  value: string;
}

/**
 * A character class: `[a-z0-9_]`, `[^"\\]`, or `.` (any character: `negated` with no ranges).
 * Each range is `[first, last]` in code points, both inclusive.
 */
export interface GbnfClass {
  type: 'class';
  negated: boolean;
  ranges: Array<[number, number]>;
}

/** A reference to another rule by name. */
export interface GbnfRef {
  type: 'ref';
  name: string;
}

/** A sequence: its items matched one after the other. No items: the empty string. */
export interface GbnfSeq {
  type: 'seq';
  items: GbnfExpr[];
}

/** Alternatives: `a | b | c`. */
export interface GbnfAlt {
  type: 'alt';
  options: GbnfExpr[];
}

/**
 * A repetition: `x*` is `{min: 0, max: null}`, `x+` `{1, null}`, `x?` `{0, 1}`, `x{m}` `{m, m}`,
 * `x{m,}` `{m, null}`, `x{m,n}` `{m, n}`.
 */
export interface GbnfRepeat {
  type: 'repeat';
  item: GbnfExpr;
  min: number;
  /** The most repetitions, `null` for no bound. */
  max: number | null;
}

/** A GBNF expression. */
export type GbnfExpr = GbnfLiteral | GbnfClass | GbnfRef | GbnfSeq | GbnfAlt | GbnfRepeat;

/** One rule: `name ::= expr`. Names are made of `a-z A-Z 0-9 -`, as llama.cpp reads them. */
export interface GbnfRule {
  name: string;
  expr: GbnfExpr;
}

/** A grammar: its rules in order. The start rule is the one named `root`. */
export interface GbnfGrammar {
  rules: GbnfRule[];
}

/** The characters a rule name may hold (llama.cpp's `is_word_char`). */
export const GBNF_NAME_PATTERN = /^[a-zA-Z0-9-]+$/;

/** `"value"`. */
export const lit = (value: string): GbnfLiteral => ({ type: 'literal', value });
/** A rule reference. */
export const ref = (name: string): GbnfRef => ({ type: 'ref', name });
/** `[ranges]` or `[^ranges]`, ranges as `[first, last]` code points. */
export const charClass = (ranges: Array<[number, number]>, negated = false): GbnfClass => ({ type: 'class', negated, ranges });
/** `x{min,max}` (`max` null: no bound). */
export const repeat = (item: GbnfExpr, min: number, max: number | null): GbnfRepeat => ({ type: 'repeat', item, min, max });
/** `x?`. */
export const opt = (item: GbnfExpr): GbnfRepeat => repeat(item, 0, 1);
/** `x*`. */
export const star = (item: GbnfExpr): GbnfRepeat => repeat(item, 0, null);

/** A sequence, flattening nested sequences and dropping empty literals; one item stays itself. */
export function seq(...items: GbnfExpr[]): GbnfExpr {
  const flat: GbnfExpr[] = [];
  for (const item of items) {
    if (item.type === 'seq') for (const x of item.items) flat.push(x); // no spread: items can be many
    else if (!(item.type === 'literal' && item.value === '')) flat.push(item);
  }
  return flat.length === 1 ? flat[0]! : { type: 'seq', items: flat };
}

/** Alternatives, flattening nested alternatives; one option stays itself. */
export function alt(...options: GbnfExpr[]): GbnfExpr {
  const flat: GbnfExpr[] = [];
  for (const o of options) {
    if (o.type === 'alt') for (const x of o.options) flat.push(x);
    else flat.push(o);
  }
  return flat.length === 1 ? flat[0]! : { type: 'alt', options: flat };
}

/** The number of nodes of `e`, counting no further than `cap`. */
export function exprSize(e: GbnfExpr, cap = Infinity): number {
  let n = 0;
  const stack: GbnfExpr[] = [e];
  while (stack.length > 0 && n <= cap) {
    const x = stack.pop()!;
    n++;
    if (x.type === 'seq') for (const i of x.items) stack.push(i);
    else if (x.type === 'alt') for (const o of x.options) stack.push(o);
    else if (x.type === 'repeat') stack.push(x.item);
    else if (x.type === 'literal') n += x.value.length;
  }
  return n;
}

/** The empty sequence (matches the empty string). */
export const empty = (): GbnfSeq => ({ type: 'seq', items: [] });
