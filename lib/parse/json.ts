/**
 * A small JSON parser that can keep number literals as written.
 *
 * `JSON.parse('5.0')` and `JSON.parse('5')` give the same JS number, but Python (and so BFCL's
 * checker) tells `5` (int) from `5.0` (float). With `{ numbers: 'literal' }` every number comes
 * back as a {@link JsonNumber} holding its source text and kind, Python's rule: a literal with a
 * `.`, `e` or `E` is a float, any other an int.
 */
import { XlamInvalidArgumentError } from '../errors.js';
import { parseJsonWith, plainObject } from '../json-reader.js';
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

type Node = string | number | JsonNumber | boolean | null | Node[] | { [key: string]: Node };

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
  try {
    return parseJsonWith<Node>(text, {
      object: plainObject,
      array: (items) => items,
      number: (raw) => (literal ? new JsonNumber(raw) : Number(raw)),
      string: (v) => v,
      constant: (v) => v,
    }) as JsonValue | LosslessJsonValue;
  } catch (err) {
    throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `invalid JSON: ${(err as Error).message}`);
  }
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
