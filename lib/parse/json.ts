/**
 * A small JSON parser that can keep number literals as written.
 *
 * `JSON.parse('5.0')` and `JSON.parse('5')` give the same JS number, but Python (and so BFCL's
 * checker) tells `5` (int) from `5.0` (float). With `{ numbers: 'literal' }` every number comes
 * back as a {@link JsonNumber} holding its source text and kind, Python's rule: a literal with a
 * `.`, `e` or `E` is a float, any other an int.
 */
import { XlamInvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../prompt/types.js';

/** A number literal as written: `raw` is its exact text, `kind` Python's int/float reading of it. */
export class JsonNumber {
  /** The literal's source text, e.g. `"5.0"`, `"-1e3"`, `"12345678901234567890"`. */
  readonly raw: string;
  /** `'float'` when the literal has a `.`, `e` or `E` (Python's `json` rule), else `'int'`. */
  readonly kind: 'int' | 'float';
  constructor(raw: string) {
    this.raw = raw;
    this.kind = /[.eE]/.test(raw) ? 'float' : 'int';
  }
  /** The JS number (as `JSON.parse` reads it; long ints lose precision: use `BigInt(raw)`). */
  get value(): number {
    return Number(this.raw);
  }
  valueOf(): number {
    return this.value;
  }
  /** Serialises back to the exact literal (e.g. with {@link stringifyJson}). */
  toString(): string {
    return this.raw;
  }
}

/** A JSON value whose numbers are {@link JsonNumber}s. */
export type LosslessJsonValue = string | JsonNumber | boolean | null | LosslessJsonValue[] | { [key: string]: LosslessJsonValue };

/** Options of {@link parseJson}. */
export interface ParseJsonOptions {
  /**
   * How numbers come back: `'number'` as JS numbers (like `JSON.parse`), `'literal'` as
   * {@link JsonNumber}s that keep the text and the int/float kind.
   * @example 'literal'
   * Defaults to `'number'`.
   */
  numbers?: 'number' | 'literal';
}

/** What the parser builds: JSON with numbers as JS numbers or as literals. */
type Node = string | number | JsonNumber | boolean | null | Node[] | { [key: string]: Node };

const WS = new Set([' ', '\t', '\n', '\r']);
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Parses strict JSON (RFC 8259, as `JSON.parse`; a duplicate key keeps its last value). With
 * `{ numbers: 'literal' }` numbers come back as {@link JsonNumber}s.
 *
 * @example
 * ```ts
 * const args = parseJson(call.rawArguments, { numbers: 'literal' }) as Record<string, LosslessJsonValue>;
 * (args.x as JsonNumber).kind;  // 'float' for 5.0, 'int' for 5
 * ```
 * @throws {XlamInvalidArgumentError} `INVALID_ARGUMENT` for text that is not JSON, with the position.
 */
export function parseJson(text: string, options: { numbers: 'literal' }): LosslessJsonValue;
export function parseJson(text: string, options?: { numbers?: 'number' }): JsonValue;
export function parseJson(text: string, options?: ParseJsonOptions): JsonValue | LosslessJsonValue;
export function parseJson(text: string, options: ParseJsonOptions = {}): JsonValue | LosslessJsonValue {
  const literal = options.numbers === 'literal';
  let i = 0;
  const fail = (what: string): never => {
    const at = i < text.length ? `${JSON.stringify(text[i])} at position ${i}` : 'end of input';
    throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `invalid JSON: ${what}, found ${at}`);
  };
  const skip = () => {
    while (i < text.length && WS.has(text[i]!)) i++;
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail('control character in string');
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          i += 2;
          fail('bad \\u escape');
        }
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else if (e !== undefined && Object.hasOwn(ESCAPES, e)) {
        out += ESCAPES[e];
        i += 2;
      } else {
        i++;
        fail('bad escape');
      }
      start = i;
    }
    out += text.slice(start, i);
    i++;
    return out;
  };
  const value = (): Node => {
    skip();
    const c = text[i];
    if (c === '"') return str();
    if (c === '{') {
      i++;
      const obj: { [key: string]: Node } = {};
      skip();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        skip();
        if (text[i] !== '"') fail('expected a string key');
        const key = str();
        skip();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        const v = value();
        if (key === '__proto__') Object.defineProperty(obj, key, { value: v, writable: true, enumerable: true, configurable: true });
        else obj[key] = v;
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: Node[] = [];
      skip();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m && m[0] !== '-' && m[0].length > 0) {
      i += m[0].length;
      return literal ? new JsonNumber(m[0]) : Number(m[0]);
    }
    return fail('expected a JSON value');
  };
  const result = value();
  skip();
  if (i < text.length) fail('unexpected text after the JSON value');
  return result as JsonValue | LosslessJsonValue;
}

/**
 * `JSON.stringify` that writes {@link JsonNumber}s as their exact literal (so `5.0` stays `5.0`);
 * like it, drops `undefined` object fields and writes other non-JSON values as `null`. Separators
 * are Python's `json.dumps` defaults (`", "` and `": "`) when `pythonSpacing` is set.
 *
 * @example stringifyJson({ x: new JsonNumber('5.0') })  // '{"x":5.0}'
 */
export function stringifyJson(value: LosslessJsonValue | JsonValue, pythonSpacing = false): string {
  const comma = pythonSpacing ? ', ' : ',';
  const colon = pythonSpacing ? ': ' : ':';
  const go = (v: LosslessJsonValue | JsonValue | undefined): string => {
    if (v instanceof JsonNumber) return v.raw;
    if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
    if (Array.isArray(v)) return `[${v.map(go).join(comma)}]`;
    const fields = Object.entries(v).filter(([, x]) => x !== undefined);
    return `{${fields.map(([k, x]) => `${JSON.stringify(k)}${colon}${go(x)}`).join(comma)}}`;
  };
  return go(value);
}
