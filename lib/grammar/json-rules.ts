/**
 * The JSON building blocks of schema grammars, added to a grammar on first use: whitespace,
 * strings, numbers, literals, any value, and the string formats (date, time, date-time, uuid, ...).
 */
import { z } from 'zod';

import { alt, charClass, empty, lit, opt, repeat, seq, star, type GbnfExpr, type GbnfRef } from './gbnf.js';
import { integerGrammar, unboundedNumber } from './numbers.js';
import { patternToGrammar } from './regex.js';
import type { RuleSet } from './rules.js';

const HEX = charClass([[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]]);
const one = (c: string): [number, number] => [c.codePointAt(0)!, c.codePointAt(0)!];

/**
 * RFC 3339 full-time, as `z.fromJSONSchema` checks `format: "time"` (a regex local to zod's
 * from-json-schema.ts, not exported; test/grammar-validate.test.ts checks that it is the one the
 * validator runs).
 */
const FULL_TIME = /^(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/**
 * The string formats the grammars enforce: the regular expressions the argument validator
 * (`z.fromJSONSchema`, parse/validate.ts) checks them with, for the formats whose check is that
 * regular expression alone, compiled by regex.ts — so the grammar accepts exactly the strings the
 * validator does (as JSON writes them: escapes only where JSON needs them). Formats zod checks
 * otherwise (`uri` with `new URL`, `ipv6`, `base64`, `jwt`, ...), or with a regular expression
 * regex.ts cannot compile (lookaheads: `duration`, `hostname`, `iban`, `emoji`), and formats zod
 * does not know, allow any string.
 */
export const FORMAT_PATTERNS: Readonly<Record<string, RegExp>> = {
  date: z.regexes.date,
  time: FULL_TIME,
  'date-time': z.regexes.datetime({ offset: true }),
  uuid: z.regexes.uuid(),
  guid: z.regexes.uuid(),
  email: z.regexes.email,
  ipv4: z.regexes.ipv4,
  cidr: z.regexes.cidrv4,
  mac: z.regexes.mac(),
  e164: z.regexes.e164,
  nanoid: z.regexes.nanoid,
  cuid: z.regexes.cuid,
  cuid2: z.regexes.cuid2,
  ulid: z.regexes.ulid,
  xid: z.regexes.xid,
  ksuid: z.regexes.ksuid,
};

/** The string formats the grammars enforce, as the characters between the quotes (see {@link FORMAT_PATTERNS}). */
export const FORMATS: Readonly<Record<string, () => GbnfExpr>> = Object.fromEntries(
  Object.entries(FORMAT_PATTERNS).map(([name, re]) => [
    name,
    () => {
      // Anchored (no characters around the match), no flags: what regex.ts compiles.
      const anchored = re.source.startsWith('^') && re.source.endsWith('$');
      const g = re.flags === '' && anchored ? patternToGrammar(re.source, charClass([])) : undefined;
      if (!g) throw new Error(`format ${name}: the validator's regular expression ${String(re)} is not supported by regex.ts`);
      return g;
    },
  ]),
);

/** The largest `minLength` that {@link JsonRules.charsBetween} makes exact when a `maxLength` is given too. */
export const EXACT_MIN_LENGTH = 100;

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

  /** One JSON string character that is one UTF-16 unit: up to U+FFFF, or an escape (`\uD83D` is one unit too). */
  unitChar(): GbnfRef {
    return this.prim('unit-char', () => alt(charClass([one('"'), one('\\'), [0, 0x1f], [0x10000, 0x10ffff]], true), this.escape()));
  }

  /**
   * JSON string characters of at most `n` UTF-16 units in all, as zod's `.max(n)` counts a
   * string's `length`: a character beyond U+FFFF counts two (JSON Schema counts it one, so these
   * strings have at most `n` characters too). `chars-k ::= unit-char chars-(k-1) | [U+10000-U+10FFFF] chars-(k-2) | ""`.
   */
  charsUpTo(n: number): GbnfRef {
    // Rules are made bottom up, once: later calls start above the highest one made.
    for (let k = this.charsUpToMade + 1; k < n; k++) this.charsUpToRule(k);
    this.charsUpToMade = Math.max(this.charsUpToMade, n);
    return this.charsUpToRule(n);
  }

  /** The highest `k` whose `chars-upto-k` rule (and every lower one) exists; -1 for none. */
  private charsUpToMade = -1;

  private charsUpToRule(k: number): GbnfRef {
    return this.prim(`chars-upto-${k}`, () => {
      if (k === 0) return empty();
      const options: GbnfExpr[] = [seq(this.unitChar(), this.refs.get(`chars-upto-${k - 1}`)!)];
      if (k >= 2) options.push(seq(charClass([[0x10000, 0x10ffff]]), this.refs.get(`chars-upto-${k - 2}`)!));
      options.push(empty());
      return alt(...options);
    });
  }

  /**
   * JSON string characters of at least `min` characters (code points, as JSON Schema counts) and
   * at most `max` UTF-16 units (as zod counts; at most `max` characters too), so both readings
   * of `minLength` / `maxLength` accept them. Exact up to `min` = {@link EXACT_MIN_LENGTH} (about
   * min²/2 rules); above it, the first `min` characters are one unit each (a subset).
   */
  charsBetween(min: number, max: number): GbnfExpr {
    if (max < min) return charClass([]);
    if (min > EXACT_MIN_LENGTH) return seq(repeat(this.unitChar(), min, min), this.charsUpTo(max - min));
    this.charsUpTo(max);
    // chars-n-m: `n` more characters needed (n ≥ 1), at most `m` units left (m ≥ n).
    const state = (n: number, m: number): GbnfExpr => {
      if (n === 0) return this.refs.get(`chars-upto-${m}`)!;
      if (m < n) return charClass([]);
      return this.prim(`chars-${n}-${m}`, () => {
        const options = [seq(this.unitChar(), state(n - 1, m - 1))];
        if (m - 2 >= n - 1) options.push(seq(charClass([[0x10000, 0x10ffff]]), state(n - 1, m - 2)));
        return alt(...options);
      });
    };
    return state(min, max);
  }

  string(): GbnfRef {
    return this.prim('string', () => seq(lit('"'), star(this.char()), lit('"')));
  }

  /** A safe integer (see numbers.ts). */
  integer(): GbnfRef {
    return this.prim('integer', () => integerGrammar(undefined));
  }

  /** A finite JSON number (see numbers.ts). */
  number(): GbnfRef {
    return this.prim('number', unboundedNumber);
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
