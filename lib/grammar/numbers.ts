/**
 * The grammars of JSON numbers that the argument validator (zod's `z.number()`, `.int()`,
 * `.min()` / `.max()` / `.gt()` / `.lt()`, see parse/validate.ts) accepts once `JSON.parse` has
 * read them:
 *
 * - integers: the safe integers (`Number.isSafeInteger`: |n| ≤ 2^53 − 1 = 9007199254740991)
 *   within the schema's bounds, exactly: a decimal range construction, digit by digit. `-0` is
 *   not written (it is `0`);
 * - numbers without bounds: `-? int frac? exp?` with an integral part of at most
 *   {@link INT_DIGITS} digits, at most {@link FRACTION_DIGITS} fraction digits and an exponent
 *   of at most {@link EXPONENT_DIGITS} digits, so |x| < 10^15 · 10^99 — always finite (`1e999`
 *   and 400-digit integers become `Infinity`, which `z.number()` rejects). Longer spellings of
 *   finite numbers are left out; 20 fraction digits are more than a double distinguishes;
 * - numbers with bounds: no exponent, and every value whose unit interval `[k, k + 1)` (`k` its
 *   integral part) lies within the bounds with any fraction, plus the integers within them with
 *   a zero fraction (`5`, `5.0`). A subset: fractional values in the unit next to a
 *   non-integral bound (`0.5 ≤ x`: 0.7) are left out, and in the unit next to an exclusive
 *   integral bound the fraction stays 10^-6 away from it (`x < 1`: not 0.9999999, which a longer
 *   run of nines would round to 1).
 */
import { alt, charClass, empty, lit, opt, repeat, seq, type GbnfExpr } from './gbnf.js';

/** Integral digits of a number (not an integer: those are bounded by the safe range). */
export const INT_DIGITS = 15;
export const FRACTION_DIGITS = 20;
export const EXPONENT_DIGITS = 2;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const NEVER: GbnfExpr = charClass([]);
const DIGIT = charClass([[0x30, 0x39]]);
const digits = (lo: number, hi: number): GbnfExpr => (lo === hi ? lit(String(lo)) : charClass([[0x30 + lo, 0x30 + hi]]));

/** `n` digits. */
const anyDigits = (n: number): GbnfExpr => (n === 0 ? empty() : repeat(DIGIT, n, n));

/** Decimal strings of exactly `lo.length` digits (leading zeros as given) from `lo` to `hi`, same length, lo ≤ hi. */
function sameLength(lo: string, hi: string): GbnfExpr {
  let common = 0;
  while (common < lo.length && lo[common] === hi[common]) common++;
  if (common === lo.length) return lit(lo);
  const a = lo.charCodeAt(common) - 0x30;
  const b = hi.charCodeAt(common) - 0x30;
  const restLo = lo.slice(common + 1);
  const restHi = hi.slice(common + 1);
  const n = restLo.length;
  // Whole digit blocks [a'..b'] then any n digits, with partial blocks at a and b when needed.
  const loFull = restLo === '0'.repeat(n);
  const hiFull = restHi === '9'.repeat(n);
  const from = loFull ? a : a + 1;
  const to = hiFull ? b : b - 1;
  const options: GbnfExpr[] = [];
  if (!loFull) options.push(seq(lit(String(a)), sameLength(restLo, '9'.repeat(n))));
  if (from <= to) options.push(seq(digits(from, to), anyDigits(n)));
  if (!hiFull) options.push(seq(lit(String(b)), sameLength('0'.repeat(n), restHi)));
  return seq(lit(lo.slice(0, common)), alt(...options));
}

/** Decimal strings without leading zeros (`0` itself aside) of the integers from `lo` to `hi` (0 ≤ lo). */
export function naturalRange(lo: bigint, hi: bigint): GbnfExpr {
  if (lo < 0n) lo = 0n;
  if (lo > hi) return NEVER;
  const options: GbnfExpr[] = [];
  if (lo === 0n) {
    options.push(lit('0'));
    if (hi === 0n) return options[0]!;
    lo = 1n;
  }
  const a = lo.toString();
  const b = hi.toString();
  // Lengths whose every number is in range (1-9 then any digits) go in one run: `[1-9] [0-9]{x,y}`.
  const full = (len: number) => (len > a.length || a === `1${'0'.repeat(len - 1)}`) && (len < b.length || b === '9'.repeat(len));
  let len = a.length;
  while (len <= b.length) {
    if (full(len)) {
      let end = len;
      while (end + 1 <= b.length && full(end + 1)) end++;
      options.push(seq(charClass([[0x31, 0x39]]), len === end && len === 1 ? empty() : repeat(DIGIT, len - 1, end - 1)));
      len = end + 1;
    } else {
      options.push(sameLength(len === a.length ? a : `1${'0'.repeat(len - 1)}`, len === b.length ? b : '9'.repeat(len)));
      len++;
    }
  }
  return alt(...options);
}

/** The JSON integers from `lo` to `hi` (no `-0`). */
export function integerRange(lo: bigint, hi: bigint): GbnfExpr {
  if (lo > hi) return NEVER;
  const options: GbnfExpr[] = [];
  if (lo < 0n) options.push(seq(lit('-'), naturalRange(hi < 0n ? -hi : 1n, -lo)));
  if (hi >= 0n) options.push(naturalRange(lo, hi));
  return alt(...options);
}

/** A schema's numeric bounds, as zod reads them (draft-4 boolean `exclusiveMinimum` / `exclusiveMaximum` included). */
export interface Bounds {
  min: number;
  minExclusive: boolean;
  max: number;
  maxExclusive: boolean;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * The bounds of a number or integer schema, as parse/validate.ts's zod applies them: `minimum`
 * (unless draft-4 `exclusiveMinimum: true` makes it exclusive), a numeric `exclusiveMinimum`,
 * and the same for the maximum; the tighter one wins. Undefined when there are none.
 */
export function schemaBounds(s: { [key: string]: unknown }): Bounds | undefined {
  const b: Bounds = { min: -Infinity, minExclusive: false, max: Infinity, maxExclusive: false };
  const lower = (v: number, exclusive: boolean) => {
    if (v > b.min || (v === b.min && exclusive)) Object.assign(b, { min: v, minExclusive: exclusive });
  };
  const upper = (v: number, exclusive: boolean) => {
    if (v < b.max || (v === b.max && exclusive)) Object.assign(b, { max: v, maxExclusive: exclusive });
  };
  if (finite(s.minimum)) lower(s.minimum, s.exclusiveMinimum === true);
  if (finite(s.maximum)) upper(s.maximum, s.exclusiveMaximum === true);
  if (finite(s.exclusiveMinimum)) lower(s.exclusiveMinimum, true);
  if (finite(s.exclusiveMaximum)) upper(s.exclusiveMaximum, true);
  return b.min === -Infinity && b.max === Infinity ? undefined : b;
}

const clampBig = (v: number, lo: bigint, hi: bigint): bigint => (v <= Number(lo) ? lo : v >= Number(hi) ? hi : BigInt(v));

/** The smallest integer allowed by the lower bound and the largest by the upper, within [-limit, limit]. */
function integerBounds(b: Bounds | undefined, limit: bigint): [bigint, bigint] {
  if (!b) return [-limit, limit];
  const lo = b.min === -Infinity ? -limit : clampBig(b.minExclusive ? Math.floor(b.min) + 1 : Math.ceil(b.min), -limit - 1n, limit + 1n);
  const hi = b.max === Infinity ? limit : clampBig(b.maxExclusive ? Math.ceil(b.max) - 1 : Math.floor(b.max), -limit - 1n, limit + 1n);
  return [lo < -limit ? -limit : lo, hi > limit ? limit : hi];
}

/** The JSON integers zod's `z.number().int()` with these bounds accepts: safe integers within them. */
export function integerGrammar(bounds: Bounds | undefined): GbnfExpr {
  const [lo, hi] = integerBounds(bounds, MAX_SAFE);
  return integerRange(lo, hi);
}

const fraction = (): GbnfExpr => seq(lit('.'), repeat(DIGIT, 1, FRACTION_DIGITS));
const zeroFraction = (): GbnfExpr => seq(lit('.'), repeat(lit('0'), 1, FRACTION_DIGITS));
const INT_LIMIT = 10n ** BigInt(INT_DIGITS) - 1n;

/** A JSON number without bounds (see the module comment). */
export function unboundedNumber(): GbnfExpr {
  const exponent = seq(charClass([[0x65, 0x65], [0x45, 0x45]]), opt(charClass([[0x2b, 0x2b], [0x2d, 0x2d]])), repeat(DIGIT, 1, EXPONENT_DIGITS));
  const int = alt(lit('0'), seq(charClass([[0x31, 0x39]]), repeat(DIGIT, 0, INT_DIGITS - 1)));
  return seq(opt(lit('-')), int, opt(fraction()), opt(exponent));
}

/** The largest exclusive integral bound whose edge unit gets fractions (the 10^-6 margins stay far above a double's spacing). */
const EDGE_LIMIT = 2 ** 30;
const digitRange = (a: number, b: number) => charClass([[0x30 + a, 0x30 + b]]);

/**
 * Magnitudes m = k + f (k the integral part written, f the fraction) with m within
 * [lo, hi] (each end exclusive or not): units [k, k + 1) wholly inside with any fraction, and
 * the integers inside with a zero fraction. At an exclusive integral bound (up to 2^30), the
 * unit next to it too, with a fraction kept 10^-6 away from the bound so that rounding to a
 * double cannot reach it: `x > 0` allows 0.5 but not 0.0000001, `x < 1` allows 0.999 but not
 * 0.9999999.
 */
function magnitudes(lo: number, loExclusive: boolean, hi: number, hiExclusive: boolean): GbnfExpr {
  const kMin = lo === -Infinity ? 0n : clampBig(loExclusive ? Math.floor(lo) + 1 : Math.ceil(lo), 0n, INT_LIMIT + 1n);
  // k + f ≤ k + 1 once rounded: k + 1 ≤ hi, or k + 1 < hi when hi is exclusive.
  const kMax = hi === Infinity ? INT_LIMIT : clampBig(hiExclusive ? Math.ceil(hi) - 2 : Math.floor(hi) - 1, -1n, INT_LIMIT);
  const [iLo, iHiBound] = integerBounds({ min: lo, minExclusive: loExclusive, max: hi, maxExclusive: hiExclusive }, INT_LIMIT);
  let iHi = iHiBound;
  const options: GbnfExpr[] = [];
  if (kMin <= kMax) options.push(seq(naturalRange(kMin, kMax), opt(fraction())));
  // The edge units at exclusive integral bounds.
  const lowEdge = loExclusive && Number.isInteger(lo) && lo >= 0 && lo <= EDGE_LIMIT ? lo : undefined;
  const highEdge = hiExclusive && Number.isInteger(hi) && hi >= 1 && hi <= EDGE_LIMIT ? hi - 1 : undefined;
  if (lowEdge !== undefined && lowEdge === highEdge) {
    // lo < m < lo + 1: a fraction from .1 to .8999...
    options.push(seq(lit(String(lowEdge)), lit('.'), digitRange(1, 8), repeat(DIGIT, 0, FRACTION_DIGITS - 1)));
  } else {
    if (lowEdge !== undefined && (hiExclusive ? lowEdge + 1 < hi : lowEdge + 1 <= hi)) {
      // m > lo: a fraction not beginning with six zeros.
      options.push(seq(lit(String(lowEdge)), lit('.'), repeat(lit('0'), 0, 5), digitRange(1, 9), repeat(DIGIT, 0, FRACTION_DIGITS - 6)));
    }
    if (highEdge !== undefined && BigInt(highEdge) >= kMin) {
      // m < hi: no fraction beginning with six nines.
      const frac = alt(seq(repeat(lit('9'), 0, 5), digitRange(0, 8), repeat(DIGIT, 0, FRACTION_DIGITS - 6)), repeat(lit('9'), 1, 5));
      options.push(seq(lit(String(highEdge)), opt(seq(lit('.'), frac))));
      if (iHi === BigInt(highEdge)) iHi -= 1n;
    }
  }
  // The integers outside [kMin, kMax]: below it and above it.
  const exact = (a: bigint, b: bigint) => {
    if (a < 0n) a = 0n;
    if (a <= b) options.push(seq(naturalRange(a, b), opt(zeroFraction())));
  };
  if (kMin > kMax) exact(iLo, iHi);
  else {
    exact(iLo, kMin - 1n < iHi ? kMin - 1n : iHi);
    exact(kMax + 1n > iLo ? kMax + 1n : iLo, iHi);
  }
  return options.length === 0 ? NEVER : alt(...options);
}

/** The JSON numbers zod's `z.number()` accepts (see the module comment for the subset written). */
export function numberGrammar(bounds: Bounds | undefined): GbnfExpr {
  if (!bounds) return unboundedNumber();
  const { min, minExclusive, max, maxExclusive } = bounds;
  const options: GbnfExpr[] = [];
  const positive = magnitudes(min, minExclusive, max, maxExclusive);
  // x = -m within [min, max]  ⇔  m within [-max, -min].
  const negative = magnitudes(-max, maxExclusive, -min, minExclusive);
  if (!(negative.type === 'class' && negative.ranges.length === 0)) options.push(seq(lit('-'), negative));
  if (!(positive.type === 'class' && positive.ranges.length === 0)) options.push(positive);
  return options.length === 0 ? NEVER : alt(...options);
}
