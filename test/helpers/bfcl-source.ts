// Python values → the Java / JavaScript source strings that BFCL's converters (bfcl-convert.ts,
// ../shared/bfcl/README.md §2.5) turn back into them: what a model shown the language hints
// (§3.1: every parameter a string) writes for a ground-truth value. Strings are written as they
// are (a variable name or source text in the ground truth), never quoted at the top level.
import { JsonNumber } from '../../dist/lib/parse/json.js';
import { isDict, type Py } from './bfcl-python.js';

/** The Java element type spelled in `new T[]{...}`. */
const JAVA_ARRAY_TYPE: Readonly<Record<string, string>> = { String: 'String', integer: 'int', long: 'long', char: 'char', double: 'double', float: 'float', boolean: 'boolean', byte: 'byte', short: 'short' };

/** A scalar for `java_type_converter(s, type)`: `5L` for long, `2.5f` for float, `true`, digits. */
function javaScalar(v: Py, type: string | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (!(v instanceof JsonNumber)) return undefined;
  if (type === 'long') return `${v.raw}L`;
  if (type === 'float') return `${v.raw}f`;
  return v.raw;
}

/** A value for `parse_java_value` (HashMap values, untyped list items): strings in quotes. */
function javaLiteral(v: Py): string | undefined {
  if (typeof v === 'string') return `"${v}"`;
  if (typeof v === 'boolean') return String(v);
  return v instanceof JsonNumber ? v.raw : undefined;
}

/**
 * The Java source of `value` for a parameter of BFCL type `type` (items of type `itemType`):
 * `new ArrayList<>(Arrays.asList("a", "b"))` (String items in quotes: the converter strips one
 * character each side), `new String[]{a, b}` (Array items converted one by one, so no quotes: a
 * quoted String item would keep its quotes), `new HashMap<String, Object>() {{ put("k", v); }}`.
 * Undefined when Java source cannot say it (null).
 */
export function javaSource(value: Py, type: string, itemType: string | undefined): string | undefined {
  if (Array.isArray(value)) {
    const item = (x: Py) => (type === 'ArrayList' && (itemType === 'String' || itemType === 'char') ? `"${String(x)}"` : itemType ? javaScalar(x, itemType) : javaLiteral(x));
    const parts = value.map(item);
    if (parts.some((p) => p === undefined)) return undefined;
    if (type === 'ArrayList') return parts.length === 0 ? 'new ArrayList<>()' : `new ArrayList<>(Arrays.asList(${parts.join(', ')}))`;
    return `new ${JAVA_ARRAY_TYPE[itemType ?? ''] ?? 'Object'}[]{${parts.join(', ')}}`;
  }
  if (isDict(value)) {
    const puts = Object.entries(value).map(([k, v]) => [k, javaLiteral(v)] as const);
    if (puts.some(([, v]) => v === undefined)) return undefined;
    return puts.length === 0 ? 'new HashMap<>()' : `new HashMap<String, Object>() {{ ${puts.map(([k, v]) => `put("${k}", ${v});`).join(' ')} }}`;
  }
  return javaScalar(value, type);
}

/** A JavaScript literal inside an array or object: strings in double quotes. */
function jsLiteral(v: Py): string | undefined {
  if (typeof v === 'string') return `"${v}"`;
  return jsSource(v, undefined);
}

/**
 * The JavaScript source of `value` for a parameter of BFCL type `type`: `[1, 2]`, `["a", "b"]`,
 * `{"key": "value", "list": ["a"]}` (the converter strips quotes from keys and values), `5n` for
 * a Bigint, `true`. Undefined when JavaScript source cannot say it (null).
 */
export function jsSource(value: Py, type: string | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (value instanceof JsonNumber) return type === 'Bigint' ? `${value.raw}n` : value.raw;
  if (Array.isArray(value)) {
    const parts = value.map(jsLiteral);
    return parts.some((p) => p === undefined) ? undefined : `[${parts.join(', ')}]`;
  }
  if (isDict(value)) {
    const parts = Object.entries(value).map(([k, v]) => [k, jsLiteral(v)] as const);
    return parts.some(([, v]) => v === undefined) ? undefined : `{${parts.map(([k, v]) => `"${k}": ${v}`).join(', ')}}`;
  }
  return undefined;
}
