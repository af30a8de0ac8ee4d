// Python values and their semantics as BFCL's checker sees them (../shared/bfcl/README.md §2.8):
// a decoded JSON value is a LosslessJsonValue, whose JsonNumber keeps Python's int/float kind.
import { JsonNumber, type LosslessJsonValue } from '../../dist/lib/parse/json.js';

export type Py = LosslessJsonValue;
export type PyDict = { [key: string]: Py };
export type PyTypeName = 'str' | 'int' | 'float' | 'bool' | 'list' | 'dict' | 'NoneType' | 'set';

export const isDict = (v: Py | undefined): v is PyDict => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);

/** Python's `type(v)`, by name (`bool` is not `int`; a JSON number is int or float by its literal). */
export function pyType(v: Py): PyTypeName {
  if (v === null) return 'NoneType';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof JsonNumber) return v.kind;
  return Array.isArray(v) ? 'list' : 'dict';
}

/** A Python int from decimal digits (any length). */
export const pyInt = (digits: string | bigint): JsonNumber => new JsonNumber(BigInt(digits).toString());

/** A Python float. */
export function pyFloat(x: number): JsonNumber {
  const s = String(x);
  return new JsonNumber(/[.eE]/.test(s) ? s : `${s}.0`);
}

/** Python's `int(s)` for a plain decimal (sign, digits, surrounding blanks; no `_`), else undefined. */
export function parseInt10(s: string): JsonNumber | undefined {
  const t = s.trim();
  return /^[+-]?\d+$/.test(t) ? pyInt(t.replace(/^\+/, '')) : undefined;
}

/** Python's `float(s)` for decimal literals and inf/nan (no `_`), else undefined. */
export function parseFloat10(s: string): JsonNumber | undefined {
  const t = s.trim();
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) || /^[+-]?(inf|infinity|nan)$/i.test(t)) return pyFloat(Number(t.replace(/inf(inity)?/i, 'Infinity').replace(/nan/i, 'NaN')));
  return undefined;
}

/** A number's value for `==`: a bigint for ints (exact), a number for floats, 0/1 for bools. */
function numeric(v: Py): bigint | number | undefined {
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (v instanceof JsonNumber) return v.kind === 'int' ? BigInt(v.raw) : v.value;
  return undefined;
}

/** Python's `a == b`: `1 == 1.0`, `True == 1`, lists in order, dicts by keys and values. */
export function pyEq(a: Py, b: Py): boolean {
  const x = numeric(a);
  const y = numeric(b);
  if (x !== undefined || y !== undefined) {
    if (x === undefined || y === undefined) return false;
    return typeof x === 'bigint' && typeof y === 'bigint' ? x === y : Number(x) === Number(y);
  }
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => pyEq(v, b[i]!));
  if (isDict(a) || isDict(b)) {
    if (!isDict(a) || !isDict(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && pyEq(a[k]!, b[k]!));
  }
  return a === b;
}

/** Python's `v in list`. */
export const pyIn = (v: Py, list: readonly Py[]): boolean => list.some((x) => pyEq(v, x));

/** Python's `s.strip(chars)` (chars given: those characters only; else whitespace). */
export function pyStrip(s: string, chars?: string): string {
  if (chars === undefined) return s.trim();
  const cps = Array.from(s);
  let i = 0;
  let j = cps.length;
  while (i < j && chars.includes(cps[i]!)) i++;
  while (j > i && chars.includes(cps[j - 1]!)) j--;
  return cps.slice(i, j).join('');
}

/** Python's `s[1:-1]` (code points). */
export const pyInner = (s: string): string => Array.from(s).slice(1, -1).join('');
