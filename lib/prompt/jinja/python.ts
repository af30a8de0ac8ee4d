/**
 * Python's text semantics, which chat templates are written against: `str()` and `repr()` of
 * values, float formatting, whitespace, and `str` methods that JavaScript spells differently.
 * Values are "PyData": JSON-like JavaScript data where a `Map` is a dict whose key order is
 * kept exactly, a {@link PyFloat} is a float even when integral, and a plain number is an int when
 * it is an integer and a float otherwise.
 */

import { parseJsonWith } from '../../json-reader.js';

/** A Python float, kept as such even when integral (`1.0` prints as `1.0`, not `1`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A Python tuple (prints with parentheses; a list otherwise). */
export class PyTuple {
  constructor(readonly items: PyData[]) {}
}

/** JSON-like data with Python's int/float distinction and dict key order. */
export type PyData =
  | null
  | boolean
  | number
  | string
  | PyFloat
  | PyTuple
  | PyData[]
  | Map<string, PyData>
  | { [key: string]: PyData };

/** Python's `str.isspace()` characters (also what `re`'s `\s` matches in str patterns). */
export const PY_SPACE = '\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const SPACE_RE = new RegExp(`[${PY_SPACE}]`);

export function isPySpace(ch: string): boolean {
  return SPACE_RE.test(ch);
}

/** Python `str.strip(chars)` / `lstrip` / `rstrip`: `chars` undefined or null strips whitespace. */
export function pyStrip(s: string, chars: string | null | undefined, which: 'both' | 'left' | 'right'): string {
  const cps = Array.from(s);
  const set = chars == null ? null : new Set(Array.from(chars));
  const strip = (c: string) => (set ? set.has(c) : isPySpace(c));
  let i = 0;
  let j = cps.length;
  if (which !== 'right') while (i < j && strip(cps[i]!)) i++;
  if (which !== 'left') while (j > i && strip(cps[j - 1]!)) j--;
  return cps.slice(i, j).join('');
}

/** Python `float.__repr__` (also `str()`): shortest round-trip digits, Python's exponent style. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, expStr] = Math.abs(x).toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  const digits = mant.replace('.', '');
  if (exp >= -4 && exp < 16) {
    // Fixed notation (Python switches to exponent form when exp < -4 or exp >= 16).
    let s: string;
    if (exp >= 0) {
      const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      const frac = digits.slice(exp + 1);
      s = intPart + '.' + (frac || '0');
    } else {
      s = '0.' + '0'.repeat(-exp - 1) + digits;
    }
    return sign + s;
  }
  const m = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
  const e = Math.abs(exp).toString().padStart(2, '0');
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
}

/** Python `int.__repr__` of a JavaScript integer (no exponent form for large values). */
export function pyIntRepr(x: number): string {
  return Math.abs(x) >= 1e21 ? BigInt(x).toString() : String(x === 0 ? 0 : x);
}

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Python `repr()` of a str. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x7f) out += ch;
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) {
      if (cp < 0x100) out += '\\x' + cp.toString(16).padStart(2, '0');
      else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
      else out += '\\U' + cp.toString(16).padStart(8, '0');
    } else out += ch;
  }
  return out + quote;
}

function entries(d: Map<string, PyData> | { [key: string]: PyData }): Array<[string, PyData]> {
  return d instanceof Map ? [...d.entries()] : Object.entries(d).filter(([, v]) => v !== undefined);
}

/** Python `repr()` of a value. */
export function pyRepr(v: PyData): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) ? pyIntRepr(v) : pyFloatRepr(v);
  if (typeof v === 'string') return pyStrRepr(v);
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (v instanceof PyTuple) return '(' + v.items.map(pyRepr).join(', ') + (v.items.length === 1 ? ',)' : ')');
  if (Array.isArray(v)) return '[' + v.map(pyRepr).join(', ') + ']';
  return '{' + entries(v).map(([k, x]) => `${pyStrRepr(k)}: ${pyRepr(x)}`).join(', ') + '}';
}

/** Python `str()` of a value: strings as they are, everything else as `repr()`. */
export function pyStr(v: PyData): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

/** Compares two strings by code point, as Python does (JavaScript compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

export interface JsonDumpsOptions {
  /** Escape every non-ASCII character as `\uXXXX` (Python's default: true). */
  ensureAscii?: boolean;
  /** Pretty-print: spaces per level (or the indent string); null: one line (default). */
  indent?: number | string | null;
  /** `[itemSeparator, keySeparator]`; default `[', ', ': ']`, or `[',', ': ']` with an indent. */
  separators?: readonly [string, string] | null;
  /** Sort dict keys (by code point). */
  sortKeys?: boolean;
}

const JSON_ESCAPES: Record<string, string> = {
  '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f',
};

/** Python `json.dumps`'s string encoder (`encode_basestring` / `encode_basestring_ascii`). */
export function jsonString(s: string, ensureAscii: boolean): string {
  const re = ensureAscii ? /[\\"]|[^\x20-\x7e]/g : /[\\"\x00-\x1f]/g;
  return (
    '"' +
    s.replace(re, (ch) => {
      const named = JSON_ESCAPES[ch];
      if (named) return named;
      // One UTF-16 unit at a time: astral characters become surrogate pairs, as in Python.
      let out = '';
      for (let i = 0; i < ch.length; i++) out += '\\u' + ch.charCodeAt(i).toString(16).padStart(4, '0');
      return out;
    }) +
    '"'
  );
}

function jsonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return pyFloatRepr(x);
}

/**
 * Python `json.dumps(value, ensure_ascii=…, indent=…, separators=…, sort_keys=…)`, byte for byte.
 * Defaults are Python's (`ensure_ascii=True`).
 */
export function pyJsonDumps(value: PyData, options: JsonDumpsOptions = {}): string {
  const ensureAscii = options.ensureAscii ?? true;
  const indent = options.indent ?? null;
  const indentStr = indent === null ? null : typeof indent === 'number' ? ' '.repeat(Math.max(0, indent)) : indent;
  const [itemSep, keySep] = options.separators ?? (indentStr === null ? [', ', ': '] : [',', ': ']);
  const sortKeys = options.sortKeys ?? false;

  const enc = (v: PyData, level: number): string => {
    if (v === null) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) ? pyIntRepr(v) : jsonFloat(v);
    if (typeof v === 'string') return jsonString(v, ensureAscii);
    if (v instanceof PyFloat) return jsonFloat(v.value);
    let items: string[];
    let open: string;
    let close: string;
    if (v instanceof PyTuple || Array.isArray(v)) {
      const list = v instanceof PyTuple ? v.items : v;
      items = list.map((x) => enc(x, level + 1));
      [open, close] = ['[', ']'];
    } else if (typeof v === 'object') {
      let es = entries(v);
      if (sortKeys) es = [...es].sort(([a], [b]) => compareCodePoints(a, b));
      items = es.map(([k, x]) => jsonString(k, ensureAscii) + keySep + enc(x, level + 1));
      [open, close] = ['{', '}'];
    } else {
      throw new TypeError(`Object of type ${typeof v} is not JSON serializable`);
    }
    if (items.length === 0) return open + close;
    if (indentStr === null) return open + items.join(itemSep) + close;
    const inner = '\n' + indentStr.repeat(level + 1);
    return open + inner + items.join(itemSep + inner) + '\n' + indentStr.repeat(level) + close;
  };
  return enc(value, 0);
}

/**
 * Python `json.loads`: objects become `Map`s (key order kept, a repeated key keeps its first
 * position and its last value), numbers with a fraction or exponent become {@link PyFloat}s,
 * `NaN`/`Infinity`/`-Infinity` are accepted. Throws `SyntaxError` on invalid input.
 */
export function pyJsonLoads(text: string): PyData {
  return parseJsonWith<PyData>(text, {
    object: (members) => new Map(members),
    array: (items) => items,
    number: (raw) => (/[.eEIN]/.test(raw) ? new PyFloat(Number(raw)) : Number(raw)),
    string: (v) => v,
    constant: (v) => v,
    allowNonFinite: true,
  });
}
