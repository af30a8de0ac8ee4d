/**
 * IR → GBNF text. The output is what llama.cpp's grammar parser reads: one rule per line,
 * escapes for quotes, backslashes, control characters and the characters a class treats
 * specially; other characters are written as themselves (UTF-8).
 */
import { XlamInvalidArgumentError } from '../errors.js';
import { GBNF_NAME_PATTERN, type GbnfExpr, type GbnfGrammar } from './gbnf.js';

const hex = (cp: number, digits: number) => cp.toString(16).toUpperCase().padStart(digits, '0');

/** One code point as GBNF writes it inside a literal (`inClass` false) or a class. */
function escapeChar(cp: number, inClass: boolean): string {
  switch (cp) {
    case 0x0a: return '\\n';
    case 0x0d: return '\\r';
    case 0x09: return '\\t';
    case 0x5c: return '\\\\';
  }
  if (!inClass && cp === 0x22) return '\\"';
  if (inClass && cp === 0x5d) return '\\]';
  if (inClass && cp === 0x5b) return '\\[';
  // `-` and `^` have meanings in a class; llama.cpp has no `\-`, so write them as hex escapes.
  if (inClass && (cp === 0x2d || cp === 0x5e)) return `\\x${hex(cp, 2)}`;
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex(cp, 2)}`;
  if ((cp >= 0x80 && cp < 0xa0) || (cp >= 0xd800 && cp <= 0xdfff)) return cp <= 0xff ? `\\x${hex(cp, 2)}` : `\\u${hex(cp, 4)}`;
  if (cp > 0x10ffff) return `\\U${hex(cp, 8)}`;
  return String.fromCodePoint(cp);
}

function printLiteral(value: string): string {
  let out = '"';
  for (const ch of value) out += escapeChar(ch.codePointAt(0)!, false);
  return `${out}"`;
}

function printClass(negated: boolean, ranges: Array<[number, number]>): string {
  if (negated && ranges.length === 0) return '.';
  let out = negated ? '[^' : '[';
  for (const [lo, hi] of ranges) out += lo === hi ? escapeChar(lo, true) : `${escapeChar(lo, true)}-${escapeChar(hi, true)}`;
  return `${out}]`;
}

function printRepeatSuffix(min: number, max: number | null): string {
  if (min === 0 && max === null) return '*';
  if (min === 1 && max === null) return '+';
  if (min === 0 && max === 1) return '?';
  if (max === null) return `{${min},}`;
  return min === max ? `{${min}}` : `{${min},${max}}`;
}

function checkName(name: string): string {
  if (!GBNF_NAME_PATTERN.test(name)) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `GBNF: rule name ${JSON.stringify(name)} is not made of a-z A-Z 0-9 -`);
  return name;
}

/** Prints an expression; `ctx` says where it stands (`top`: a rule body or inside parentheses). */
function printExpr(e: GbnfExpr, ctx: 'top' | 'seq' | 'postfix'): string {
  switch (e.type) {
    case 'literal': return printLiteral(e.value);
    case 'class': return printClass(e.negated, e.ranges);
    case 'ref': return checkName(e.name);
    case 'alt': {
      const body = e.options.map((o) => printExpr(o, 'top')).join(' | ');
      return ctx === 'top' ? body : `(${body})`;
    }
    case 'seq': {
      if (e.items.length === 0) return '()';
      const body = e.items.map((i) => printExpr(i, 'seq')).join(' ');
      return ctx === 'top' ? body : `(${body})`;
    }
    case 'repeat': {
      const inner = printExpr(e.item, 'postfix');
      return `${e.item.type === 'repeat' ? `(${inner})` : inner}${printRepeatSuffix(e.min, e.max)}`;
    }
  }
}

/**
 * Writes a grammar as GBNF text, one `name ::= ...` line per rule, in order. Parentheses are
 * added where the structure needs them, so {@link parseGbnf} gives the same tree back (for trees
 * built with the `seq` / `alt` helpers, which never nest a one-item sequence).
 *
 * @throws {XlamInvalidArgumentError} `INVALID_ARGUMENT` for a rule or reference name outside
 *   `[a-zA-Z0-9-]+`.
 * @example printGbnf({ rules: [{ name: 'root', expr: seq(lit('a'), star(ref('b'))) }, ...] })  // 'root ::= "a" b*\n...'
 */
export function printGbnf(grammar: GbnfGrammar): string {
  return grammar.rules.map((r) => `${checkName(r.name)} ::= ${printExpr(r.expr, 'top')}\n`).join('');
}

/** Prints one expression as GBNF (what a rule body holds), e.g. for messages. */
export function printGbnfExpr(expr: GbnfExpr): string {
  return printExpr(expr, 'top');
}
