/**
 * The JSON building blocks of schema grammars, added to a grammar on first use: whitespace,
 * strings, numbers, literals, any value, and the string formats (date, time, date-time, uuid).
 */
import { alt, charClass, lit, opt, repeat, seq, star, type GbnfExpr, type GbnfRef } from './gbnf.js';
import type { RuleSet } from './rules.js';

const DIGIT = charClass([[0x30, 0x39]]);
const HEX = charClass([[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]]);
const range = (a: string, b: string): [number, number] => [a.codePointAt(0)!, b.codePointAt(0)!];
const one = (c: string): [number, number] => range(c, c);

/** `[0-5] [0-9]`: minutes and seconds. */
const SIXTY = () => seq(charClass([range('0', '5')]), DIGIT);
/** `[01] [0-9] | "2" [0-3]`: hours. */
const HOUR = () => alt(seq(charClass([range('0', '1')]), DIGIT), seq(lit('2'), charClass([range('0', '3')])));

/** The string formats the grammars enforce, as the characters between the quotes. */
export const FORMATS: Readonly<Record<string, () => GbnfExpr>> = {
  /** RFC 3339 full-date: `2024-02-29` (day 01-31 whatever the month). */
  date: () =>
    seq(
      repeat(DIGIT, 4, 4),
      lit('-'),
      alt(seq(lit('0'), charClass([range('1', '9')])), seq(lit('1'), charClass([range('0', '2')]))),
      lit('-'),
      alt(seq(lit('0'), charClass([range('1', '9')])), seq(charClass([range('1', '2')]), DIGIT), seq(lit('3'), charClass([range('0', '1')]))),
    ),
  /** RFC 3339 full-time: `13:45:30`, optional fraction, `Z` or an offset (`+02:00`). */
  time: () =>
    seq(
      HOUR(),
      lit(':'),
      SIXTY(),
      lit(':'),
      alt(SIXTY(), lit('60')),
      opt(seq(lit('.'), repeat(DIGIT, 1, null))),
      alt(charClass([one('Z'), one('z')]), seq(charClass([one('+'), one('-')]), HOUR(), lit(':'), SIXTY())),
    ),
  /** RFC 3339 date-time: date, `T` (or `t`), time. */
  'date-time': () => seq(FORMATS.date!(), charClass([one('T'), one('t')]), FORMATS.time!()),
  /** `8-4-4-4-12` hex digits, either case. */
  uuid: () => seq(...[8, 4, 4, 4, 12].flatMap((n, i) => (i === 0 ? [repeat(HEX, n, n)] : [lit('-'), repeat(HEX, n, n)]))),
};

/** The primitive JSON rules of one grammar, added on first use. */
export class JsonRules {
  private readonly refs = new Map<string, GbnfRef>();

  /** `maxIndent`: the most spaces or tabs whitespace may hold after a newline. */
  constructor(readonly rules: RuleSet, readonly maxIndent: number) {}

  private prim(name: string, make: () => GbnfExpr): GbnfRef {
    let r = this.refs.get(name);
    if (!r) {
      r = this.rules.reserve(name);
      this.refs.set(name, r);
      this.rules.define(r, make());
    }
    return r;
  }

  /** `ws ::= (" " | "\n" [ \t]{0,maxIndent})?`: nothing, one space, or a newline and an indent. */
  ws(): GbnfRef {
    return this.prim('ws', () => opt(alt(lit(' '), seq(lit('\n'), repeat(charClass([one(' '), one('\t')]), 0, this.maxIndent)))));
  }

  /** A JSON string escape: `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t` or `\uHHHH`. */
  escape(): GbnfRef {
    return this.prim('escape', () => seq(lit('\\'), alt(charClass([...'"\\/bfnrt'].map(one)), seq(lit('u'), repeat(HEX, 4, 4)))));
  }

  /** One character of a JSON string: unescaped (no `"`, `\` or control character) or an escape. */
  char(): GbnfRef {
    return this.prim('char', () => alt(charClass([one('"'), one('\\'), [0, 0x1f]], true), this.escape()));
  }

  string(): GbnfRef {
    return this.prim('string', () => seq(lit('"'), star(this.char()), lit('"')));
  }

  /** `-`? and the integral part, no leading zeros. */
  integer(): GbnfRef {
    return this.prim('integer', () => seq(opt(lit('-')), alt(lit('0'), seq(charClass([range('1', '9')]), star(DIGIT)))));
  }

  number(): GbnfRef {
    return this.prim('number', () =>
      seq(this.integer(), opt(seq(lit('.'), repeat(DIGIT, 1, null))), opt(seq(charClass([one('e'), one('E')]), opt(charClass([one('-'), one('+')])), repeat(DIGIT, 1, null)))),
    );
  }

  boolean(): GbnfRef {
    return this.prim('boolean', () => alt(lit('true'), lit('false')));
  }

  null(): GbnfRef {
    return this.prim('null', () => lit('null'));
  }

  /** Any JSON value. */
  value(): GbnfRef {
    return this.prim('value', () => alt(this.object(), this.array(), this.string(), this.number(), this.boolean(), this.null()));
  }

  /** Any JSON object. */
  object(): GbnfRef {
    return this.prim('object', () => {
      const member = seq(this.string(), lit(':'), this.ws(), this.value());
      return seq(lit('{'), this.ws(), opt(seq(member, star(seq(lit(','), this.ws(), member)), this.ws())), lit('}'));
    });
  }

  /** Any JSON array. */
  array(): GbnfRef {
    return this.prim('array', () => seq(lit('['), this.ws(), opt(seq(this.value(), star(seq(lit(','), this.ws(), this.value())), this.ws())), lit(']')));
  }

  /** A JSON string in a known format (see {@link FORMATS}), or undefined for other formats. */
  format(name: string): GbnfRef | undefined {
    const make = Object.hasOwn(FORMATS, name) ? FORMATS[name] : undefined;
    return make && this.prim(`${name}-string`, () => seq(lit('"'), make(), lit('"')));
  }
}
