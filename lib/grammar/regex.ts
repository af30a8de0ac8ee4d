/**
 * JSON Schema `pattern` (an ECMA-262 regular expression) → the grammar of the characters between
 * a JSON string's quotes, for a subset of regular expressions:
 *
 * - literal characters and the escapes `\t \n \r \f \v \0 \xHH \uHHHH` and `\` before a
 *   punctuation character;
 * - classes `[a-z_]`, `[^...]`, `\d \w \s` and their negations `\D \W \S` (outside classes; inside
 *   a class only `\d \w \s`), `.` (any character but a line terminator);
 * - groups `( )`, `(?: )`, `(?<name> )`; alternation `|`;
 * - quantifiers `? * + {m} {m,} {m,n}`, greedy or lazy (same language);
 * - `^` at the start and `$` at the end of a top-level alternative (`^a$|^b$`; `^a|b$` is
 *   `(^a)|(b$)`). Without them the alternative may match anywhere: any characters may come before
 *   (no `^`) or after (no `$`) the match.
 *
 * Anything else — backreferences, lookaround, `\b`, `\p{...}`, `^`/`$` elsewhere, a `*` or `+` on
 * something that can match the empty string — makes {@link patternToGrammar} return undefined
 * (the caller then allows any string). A character the pattern allows is written as JSON writes
 * it: as itself, or escaped when it must be (`\"`, `\\`, control characters as a short escape or
 * `\u00HH`; `/` also as `\/`); other `\uHHHH` spellings of ordinary characters are not accepted.
 *
 * The validator (`new RegExp(pattern)` in zod) runs patterns without the `u` flag, on UTF-16
 * units, where a character beyond U+FFFF is two units: `.`, negated classes and `\D \W \S` match
 * only characters up to U+FFFF here (the same strings under both readings), and a character
 * beyond U+FFFF in a class or before a quantifier (`[😀]`, `😀+`: one unit of it, in JavaScript)
 * is unsupported.
 */
import { alt, charClass, lit, repeat, seq, type GbnfExpr } from './gbnf.js';

class Unsupported extends Error {}

type Ranges = Array<[number, number]>;
interface Part {
  expr: GbnfExpr;
  nullable: boolean;
  /** A character beyond U+FFFF: two UTF-16 units, so a quantifier after it applies to its second half only. */
  astral?: boolean;
}

/** One top-level alternative of a pattern, with its anchors. */
interface Branch extends Part {
  start: boolean;
  end: boolean;
}

const DIGITS: Ranges = [[0x30, 0x39]];
const WORD: Ranges = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const SPACE: Ranges = [[0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a], [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff]];
const LINE_TERMINATORS: Ranges = [[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]];
const CLASS_ESCAPES: Record<string, Ranges> = { d: DIGITS, w: WORD, s: SPACE };
const CHAR_ESCAPES: Record<string, number> = { t: 0x09, n: 0x0a, r: 0x0d, f: 0x0c, v: 0x0b, '0': 0 };
/** Characters JSON must escape: `"`, `\` and the control characters. */
const MUST_ESCAPE: Ranges = [[0, 0x1f], [0x22, 0x22], [0x5c, 0x5c]];
const SHORT_ESCAPES: Array<[number, string]> = [[0x22, '"'], [0x5c, '\\'], [0x2f, '/'], [0x08, 'b'], [0x0c, 'f'], [0x0a, 'n'], [0x0d, 'r'], [0x09, 't']];
/** The characters beyond U+FFFF (two UTF-16 units each). */
const ASTRAL: [number, number] = [0x10000, 0x10ffff];

function inRanges(ranges: Ranges, cp: number): boolean {
  return ranges.some(([lo, hi]) => cp >= lo && cp <= hi);
}

/** `ranges` without the code points of `cuts`. */
function subtract(ranges: Ranges, cuts: Ranges): Ranges {
  let out = ranges;
  for (const [clo, chi] of cuts) {
    out = out.flatMap(([lo, hi]): Ranges => {
      if (chi < lo || clo > hi) return [[lo, hi]];
      const parts: Ranges = [];
      if (lo < clo) parts.push([lo, clo - 1]);
      if (hi > chi) parts.push([chi + 1, hi]);
      return parts;
    });
  }
  return out;
}

/**
 * The JSON spellings of one character out of a set (`negated`: all but `ranges`). Characters
 * beyond U+FFFF are never in a negated set: the validator runs patterns without the `u` flag,
 * where `.` or `[^a]` matches one UTF-16 unit, half of such a character.
 */
function jsonChars(ranges: Ranges, negated: boolean): GbnfExpr {
  if (negated) ranges = [...ranges, ASTRAL];
  const has = (cp: number) => inRanges(ranges, cp) !== negated;
  if (!negated && ranges.length === 1 && ranges[0]![0] === ranges[0]![1] && !inRanges(MUST_ESCAPE, ranges[0]![0]) && ranges[0]![0] !== 0x2f) {
    return lit(String.fromCodePoint(ranges[0]![0]));
  }
  const options: GbnfExpr[] = [];
  const raw = negated ? charClass([...ranges, ...MUST_ESCAPE], true) : charClass(subtract(ranges, MUST_ESCAPE));
  if (raw.negated || raw.ranges.length > 0) options.push(raw);
  for (const [cp, e] of SHORT_ESCAPES) if (has(cp)) options.push(lit(`\\${e}`));
  // The control characters in the set, as `\u00HH` (either case of hex digit).
  for (const high of [0, 1]) {
    const low: Ranges = [];
    for (let d = 0; d < 16; d++) {
      if (!has(high * 16 + d)) continue;
      const lower = d.toString(16).codePointAt(0)!;
      const upper = d.toString(16).toUpperCase().codePointAt(0)!;
      low.push([lower, lower]);
      if (upper !== lower) low.push([upper, upper]);
    }
    if (low.length > 0) options.push(seq(lit(`\\u00${high}`), charClass(low)));
  }
  return options.length === 0 ? charClass([]) : alt(...options);
}

class RegexParser {
  pos = 0;
  constructor(readonly src: string) {}

  peek(): string | undefined {
    return this.src[this.pos];
  }

  /** Group nesting depth: `^` and `$` are anchors only at the edges of a top-level alternative. */
  depth = 0;

  /** The branches of `concat ('|' concat)*`. */
  branches(): Branch[] {
    const parts = [this.concat()];
    while (this.peek() === '|') {
      this.pos++;
      parts.push(this.concat());
    }
    return parts;
  }

  alternation(): Part {
    const parts = this.branches();
    return parts.length === 1 ? parts[0]! : { expr: alt(...parts.map((p) => p.expr)), nullable: parts.some((p) => p.nullable) };
  }

  concat(): Branch {
    const items: Part[] = [];
    const start = this.depth === 0 && this.peek() === '^';
    if (start) this.pos++;
    let end = false;
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') break;
      if (c === '$' && this.depth === 0 && (this.pos === this.src.length - 1 || this.src[this.pos + 1] === '|')) {
        this.pos++;
        end = true;
        break;
      }
      items.push(this.quantified(this.atom()));
    }
    if (this.depth > 0 && (start || end)) throw new Unsupported('anchor inside a group');
    return { expr: seq(...items.map((i) => i.expr)), nullable: items.every((i) => i.nullable), start, end };
  }

  /** The `{m}`, `{m,}`, `{m,n}` at the current position, or undefined when `{` is a literal there. */
  braces(): [number, number | null] | undefined {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? null : Number(m[3]);
    if (max !== null && max < min) throw new Unsupported('bad quantifier');
    if (min > 10000 || (max ?? 0) > 10000) throw new Unsupported('quantifier too large');
    return [min, max];
  }

  quantified(item: Part): Part {
    for (;;) {
      const c = this.peek();
      let q: [number, number | null] | undefined;
      if (c === '*') q = [0, null];
      else if (c === '+') q = [1, null];
      else if (c === '?') q = [0, 1];
      if (q) this.pos++;
      else if (c === '{') q = this.braces();
      if (!q) return item;
      if (item.astral) throw new Unsupported('a quantifier after a character beyond U+FFFF');
      if (this.peek() === '?') this.pos++; // lazy: the same language
      if (q[1] === null && item.nullable) throw new Unsupported('unbounded repetition of something that can be empty');
      item = { expr: repeat(item.expr, q[0], q[1]), nullable: item.nullable || q[0] === 0 };
    }
  }

  atom(): Part {
    const c = this.peek()!;
    if (c === '(') return this.group();
    if (c === '[') return { expr: this.charClass(), nullable: false };
    if (c === '.') {
      this.pos++;
      return { expr: jsonChars(LINE_TERMINATORS, true), nullable: false };
    }
    if (c === '\\') {
      this.pos++;
      const e = this.peek();
      const cls = e === undefined ? undefined : CLASS_ESCAPES[e.toLowerCase()];
      if (cls && e !== undefined) {
        this.pos++;
        return { expr: jsonChars(cls, e !== e.toLowerCase()), nullable: false };
      }
      const cp = this.escapedChar();
      return { expr: jsonChars([[cp, cp]], false), nullable: false };
    }
    if (c === '^' || c === '$') throw new Unsupported('anchor inside the pattern');
    if (c === '*' || c === '+' || c === '?') throw new Unsupported('quantifier without an item');
    if (c === '{' && /^\{\d+(,\d*)?\}/.test(this.src.slice(this.pos))) throw new Unsupported('quantifier without an item');
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return { expr: jsonChars([[cp, cp]], false), nullable: false, astral: cp > 0xffff };
  }

  group(): Part {
    this.pos++;
    this.depth++;
    if (this.src.startsWith('?:', this.pos)) this.pos += 2;
    else if (/^\?<[A-Za-z_$][\w$]*>/.test(this.src.slice(this.pos))) this.pos = this.src.indexOf('>', this.pos) + 1;
    else if (this.peek() === '?') throw new Unsupported('lookaround');
    const inner = this.alternation();
    if (this.peek() !== ')') throw new Unsupported('unclosed group');
    this.pos++;
    this.depth--;
    return inner;
  }

  /** The character after a `\` (the backslash already consumed). */
  escapedChar(): number {
    const e = this.peek();
    if (e === undefined) throw new Unsupported('trailing backslash');
    const simple = CHAR_ESCAPES[e];
    if (simple !== undefined && !(e === '0' && /[0-9]/.test(this.src[this.pos + 1] ?? ''))) {
      this.pos++;
      return simple;
    }
    if (e === 'x' || e === 'u') {
      const n = e === 'x' ? 2 : 4;
      const h = this.src.slice(this.pos + 1, this.pos + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) throw new Unsupported(`\\${e} escape`);
      this.pos += 1 + n;
      return parseInt(h, 16);
    }
    if (/[A-Za-z0-9]/.test(e)) throw new Unsupported(`\\${e}`);
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  classChar(ranges: Ranges): number | undefined {
    const c = this.peek();
    if (c === undefined) throw new Unsupported('unclosed class');
    if (c === '\\') {
      this.pos++;
      const e = this.peek();
      if (e !== undefined && CLASS_ESCAPES[e]) {
        this.pos++;
        ranges.push(...CLASS_ESCAPES[e]!);
        return undefined;
      }
      if (e === 'b') {
        this.pos++;
        return 0x08;
      }
      if (e === '-') {
        this.pos++;
        return 0x2d;
      }
      return this.escapedChar();
    }
    const cp = this.src.codePointAt(this.pos)!;
    if (cp > 0xffff) throw new Unsupported('a character beyond U+FFFF in a class (two UTF-16 units without the u flag)');
    this.pos += 1;
    return cp;
  }

  charClass(): GbnfExpr {
    this.pos++;
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos++;
    }
    const ranges: Ranges = [];
    while (this.peek() !== ']') {
      const lo = this.classChar(ranges);
      if (lo === undefined) continue;
      if (this.peek() === '-' && this.src[this.pos + 1] !== ']' && this.src[this.pos + 1] !== undefined) {
        this.pos++;
        const hi = this.classChar(ranges);
        if (hi === undefined || hi < lo) throw new Unsupported('bad class range');
        ranges.push([lo, hi]);
      } else {
        ranges.push([lo, lo]);
      }
    }
    this.pos++;
    return jsonChars(ranges, negated);
  }
}

/**
 * The grammar of the JSON string content (between the quotes) of the strings that `pattern`
 * matches, or undefined when the pattern uses something outside the supported subset (see the
 * module comment). `anyChar` is the rule of one JSON string character (unanchored patterns put
 * any number of them before and after the match).
 *
 * @example patternToGrammar('^[A-Z]{2}\\d{3}$', ref('char'))  // [A-Z]{2} [0-9]{3}
 */
export function patternToGrammar(pattern: string, anyChar: GbnfExpr): GbnfExpr | undefined {
  try {
    const p = new RegexParser(pattern);
    const branches = p.branches();
    if (p.pos !== pattern.length) throw new Unsupported(`unexpected ${p.peek()}`);
    // Each top-level alternative is anchored on its own: `^a|b$` is `(^a)|(b$)`.
    const any = repeat(anyChar, 0, null);
    return alt(...branches.map((b) => seq(...(b.start ? [] : [any]), b.expr, ...(b.end ? [] : [any]))));
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}
