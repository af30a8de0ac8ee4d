/**
 * GBNF text → IR, with llama.cpp's syntax rules: a newline ends a rule unless inside
 * parentheses, `#` starts a comment, rule names are `[a-zA-Z0-9-]+`, escapes are `\n \r \t \\
 * \" \[ \] \xHH \uHHHH \UHHHHHHHH`.
 */
import { XlamInvalidArgumentError } from '../errors.js';
import { charClass, lit, ref, repeat, type GbnfExpr, type GbnfGrammar, type GbnfRule } from './gbnf.js';

/** A GBNF text that does not parse; `offset` (UTF-16 index), `line` and `column` (1-based) say where. */
export class GbnfSyntaxError extends XlamInvalidArgumentError {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
  constructor(message: string, text: string, offset: number) {
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - (before.lastIndexOf('\n') + 1) + 1;
    super('INVALID_ARGUMENT', `GBNF: ${message} at line ${line}, column ${column} (offset ${offset})`);
    this.offset = offset;
    this.line = line;
    this.column = column;
  }
}

const isWordChar = (c: string | undefined) => c !== undefined && /[a-zA-Z0-9-]/.test(c);
const HEX_DIGITS: Record<string, number> = { x: 2, u: 4, U: 8 };
const SIMPLE_ESCAPES: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, '\\': 0x5c, '"': 0x22, '[': 0x5b, ']': 0x5d };

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(message: string, at = this.pos): never {
    throw new GbnfSyntaxError(message, this.text, at);
  }

  /** Skips spaces, tabs and comments, and newlines too when `newlines` is set. */
  space(newlines: boolean): void {
    const s = this.text;
    for (;;) {
      const c = s[this.pos];
      if (c === '#') {
        while (this.pos < s.length && s[this.pos] !== '\n' && s[this.pos] !== '\r') this.pos++;
      } else if (c === ' ' || c === '\t' || (newlines && (c === '\n' || c === '\r'))) {
        this.pos++;
      } else {
        return;
      }
    }
  }

  name(): string {
    const start = this.pos;
    while (isWordChar(this.text[this.pos])) this.pos++;
    if (this.pos === start) this.fail(`expected a rule name, got ${this.describe()}`);
    return this.text.slice(start, this.pos);
  }

  describe(): string {
    const c = this.text.codePointAt(this.pos);
    return c === undefined ? 'the end of the text' : JSON.stringify(String.fromCodePoint(c));
  }

  /** One character of a literal or class: an escape or a code point. */
  char(): number {
    const s = this.text;
    const start = this.pos;
    if (s[this.pos] === '\\') {
      const e = s[this.pos + 1];
      if (e === undefined) this.fail('unfinished escape');
      const digits = HEX_DIGITS[e];
      if (digits !== undefined) {
        const h = s.slice(this.pos + 2, this.pos + 2 + digits);
        if (h.length !== digits || !/^[0-9a-fA-F]+$/.test(h)) this.fail(`\\${e} needs ${digits} hex digits`, start);
        const cp = parseInt(h, 16);
        if (cp > 0x10ffff) this.fail(`code point ${h} is beyond U+10FFFF`, start);
        this.pos += 2 + digits;
        return cp;
      }
      const simple = SIMPLE_ESCAPES[e];
      if (simple === undefined) this.fail(`unknown escape \\${e}`, start);
      this.pos += 2;
      return simple;
    }
    const cp = s.codePointAt(this.pos);
    if (cp === undefined) this.fail('unexpected end of the text');
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  literal(): GbnfExpr {
    const start = this.pos++;
    let value = '';
    while (this.text[this.pos] !== '"') {
      if (this.pos >= this.text.length) this.fail('unterminated string literal', start);
      value += String.fromCodePoint(this.char());
    }
    this.pos++;
    return lit(value);
  }

  charClass(): GbnfExpr {
    const start = this.pos++;
    let negated = false;
    if (this.text[this.pos] === '^') {
      negated = true;
      this.pos++;
    }
    const ranges: Array<[number, number]> = [];
    while (this.text[this.pos] !== ']') {
      if (this.pos >= this.text.length) this.fail('unterminated character class', start);
      const at = this.pos;
      const lo = this.char();
      let hi = lo;
      if (this.text[this.pos] === '-' && this.text[this.pos + 1] !== ']' && this.pos + 1 < this.text.length) {
        this.pos++;
        hi = this.char();
        if (hi < lo) this.fail('character range out of order', at);
      }
      ranges.push([lo, hi]);
    }
    this.pos++;
    return charClass(ranges, negated);
  }

  int(): number {
    const start = this.pos;
    while (/[0-9]/.test(this.text[this.pos] ?? '')) this.pos++;
    if (this.pos === start) this.fail(`expected a number, got ${this.describe()}`);
    const n = Number(this.text.slice(start, this.pos));
    if (!Number.isSafeInteger(n)) this.fail('repetition count too large', start);
    return n;
  }

  /** `{m}`, `{m,}` or `{m,n}` after an item. */
  braces(item: GbnfExpr): GbnfExpr {
    const start = this.pos++;
    this.space(true);
    const min = this.int();
    this.space(true);
    let max: number | null = min;
    if (this.text[this.pos] === ',') {
      this.pos++;
      this.space(true);
      max = /[0-9]/.test(this.text[this.pos] ?? '') ? this.int() : null;
      this.space(true);
    }
    if (this.text[this.pos] !== '}') this.fail(`expected "}", got ${this.describe()}`);
    this.pos++;
    if (max !== null && max < min) this.fail(`repetition {${min},${max}}: the maximum is below the minimum`, start);
    return repeat(item, min, max);
  }

  sequence(nested: boolean): GbnfExpr {
    const items: GbnfExpr[] = [];
    for (;;) {
      const c = this.text[this.pos];
      if (c === '"') items.push(this.literal());
      else if (c === '[') items.push(this.charClass());
      else if (c === '.') {
        this.pos++;
        items.push(charClass([], true));
      } else if (c === '(') {
        const start = this.pos++;
        this.space(true);
        const inner = this.alternates(true);
        if (this.text[this.pos] !== ')') this.fail('expected ")" to close the group', start);
        this.pos++;
        items.push(inner);
      } else if (isWordChar(c)) {
        items.push(ref(this.name()));
      } else if (c === '*' || c === '+' || c === '?' || c === '{') {
        const last = items.pop();
        if (last === undefined) this.fail(`"${c}" must follow an item`);
        if (c === '{') items.push(this.braces(last));
        else {
          this.pos++;
          items.push(repeat(last, c === '+' ? 1 : 0, c === '?' ? 1 : null));
        }
      } else {
        break;
      }
      this.space(nested);
    }
    // A sequence keeps its items as parsed: a nested group stays a node of its own.
    return items.length === 1 ? items[0]! : { type: 'seq', items };
  }

  alternates(nested: boolean): GbnfExpr {
    const options = [this.sequence(nested)];
    while (this.text[this.pos] === '|') {
      this.pos++;
      this.space(true);
      options.push(this.sequence(nested));
    }
    return options.length === 1 ? options[0]! : { type: 'alt', options };
  }

  grammar(): GbnfGrammar {
    const rules: GbnfRule[] = [];
    const defined = new Map<string, number>();
    this.space(true);
    while (this.pos < this.text.length) {
      const at = this.pos;
      const name = this.name();
      if (defined.has(name)) this.fail(`rule ${name} is defined twice`, at);
      defined.set(name, at);
      this.space(false);
      if (!this.text.startsWith('::=', this.pos)) this.fail(`expected "::=" after ${name}, got ${this.describe()}`);
      this.pos += 3;
      this.space(true);
      const expr = this.alternates(false);
      const c = this.text[this.pos];
      if (c !== undefined && c !== '\n' && c !== '\r') this.fail(`expected the end of the line, got ${this.describe()}`);
      rules.push({ name, expr });
      this.space(true);
    }
    return { rules };
  }
}

/** Every referenced rule exists and `root` is defined; throws naming the first culprit. */
function checkReferences(grammar: GbnfGrammar, text: string): void {
  const names = new Set(grammar.rules.map((r) => r.name));
  if (!names.has('root')) throw new GbnfSyntaxError('no rule named "root"', text, text.length);
  const visit = (e: GbnfExpr, rule: string): void => {
    if (e.type === 'ref' && !names.has(e.name)) {
      const line = new RegExp(`^${rule}\\s*::=`, 'm').exec(text);
      throw new GbnfSyntaxError(`rule ${rule} references undefined rule ${e.name}`, text, line?.index ?? 0);
    }
    if (e.type === 'seq') e.items.forEach((i) => visit(i, rule));
    if (e.type === 'alt') e.options.forEach((o) => visit(o, rule));
    if (e.type === 'repeat') visit(e.item, rule);
  };
  for (const r of grammar.rules) visit(r.expr, r.name);
}

/**
 * Parses GBNF text (llama.cpp's grammar format) into the IR. A group `( ... )` becomes its
 * content (no node of its own); `.` becomes a negated class with no ranges.
 *
 * @example parseGbnf('root ::= "yes" | "no"\n')
 * @throws {GbnfSyntaxError} (an `XlamInvalidArgumentError`, code `INVALID_ARGUMENT`) with the
 *   line, column and offset of the problem: bad syntax, an unknown escape, a rule defined twice,
 *   a reference to an undefined rule, no `root` rule.
 */
export function parseGbnf(text: string): GbnfGrammar {
  const grammar = new Parser(text).grammar();
  checkReferences(grammar, text);
  return grammar;
}
