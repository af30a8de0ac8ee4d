// BFCL's Java and JavaScript value converters (../shared/bfcl/README.md §2.5;
// bfcl_eval/eval_checker/ast_eval/type_convertor/{java,js}_type_converter.py), ported: the checker
// turns the string a model wrote for a Java/JavaScript parameter back into a Python value with the
// parameter's original type. Anything that does not match falls back to the string itself.
// Python's `re.match` is `^` here; `.` never spans a newline unless the pattern had DOTALL (`s`).
import { parseFloat10, parseInt10, pyFloat, pyInner, pyInt, pyStrip, type Py, type PyDict, type PyTypeName } from './bfcl-python.js';

/** `JAVA_TYPE_CONVERSION` (`bfcl_eval/constants/type_mappings.py`): Java type → Python type. */
export const JAVA_TYPES: Readonly<Record<string, PyTypeName>> = {
  byte: 'int', short: 'int', integer: 'int', float: 'float', double: 'float', long: 'int', boolean: 'bool', char: 'str',
  Array: 'list', ArrayList: 'list', Set: 'set', HashMap: 'dict', Hashtable: 'dict', Queue: 'list', Stack: 'list', String: 'str', any: 'str',
};

/** `JS_TYPE_CONVERSION`: JavaScript type → Python type. */
export const JS_TYPES: Readonly<Record<string, PyTypeName>> = {
  String: 'str', integer: 'int', float: 'float', Bigint: 'int', Boolean: 'bool', dict: 'dict', array: 'list', any: 'str',
};

const FLOAT_F = /^-?\d+(\.\d+)?([eE][+-]?\d+)?[fF]$/;
const LONG_L = /^-?\d+[lL]$/;

/** `java_type_converter(value, type, nested)`. Throws where BFCL raises (unknown or unimplemented types). */
export function javaConvert(value: string, type: string, nested?: string): Py {
  if (!Object.hasOwn(JAVA_TYPES, type)) throw new Error(`Unsupported type: ${type}`);
  switch (type) {
    case 'byte': case 'short': case 'integer': return /^-?\d+$/.test(value) ? pyInt(value) : value;
    case 'float': return FLOAT_F.test(value) ? pyFloat(Number(value.slice(0, -1))) : value;
    case 'double': return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value) ? pyFloat(Number(value)) : value;
    case 'long': return LONG_L.test(value) ? pyInt(value.slice(0, -1)) : value;
    case 'boolean': return value === 'true' ? true : value === 'false' ? false : value;
    case 'char': return value; // BFCL's pattern ^\'.$\' can never match
    case 'ArrayList': return parseArrayList(value, nested);
    case 'Array': return parseArray(value, nested);
    case 'HashMap': return parseHashMap(value);
    case 'String': case 'any': return value;
    default: throw new Error(`${type} conversion is not implemented`);
  }
}

/** `parse_java_value`: a Java literal without a known type. */
export function parseJavaValue(s: string): Py {
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (s.startsWith('"') && s.endsWith('"')) return pyInner(s);
  if (LONG_L.test(s)) return pyInt(s.slice(0, -1));
  if (FLOAT_F.test(s)) return pyFloat(Number(s.slice(0, -1)));
  return parseInt10(s) ?? parseFloat10(s) ?? s;
}

/** An element of an ArrayList: quotes stripped for `char` / `String`, else converted. */
function listElement(s: string, nested: string | undefined): Py {
  if (nested === 'char' || nested === 'String') return pyInner(s);
  return nested ? javaConvert(s, nested) : parseJavaValue(s);
}

function parseArrayList(input: string, nested: string | undefined): Py {
  const asList = /new\s+ArrayList<\w*>\(Arrays\.asList\((.+?)\)\)/.exec(input);
  if (asList) return asList[1]!.split(',').map((e) => listElement(pyStrip(e), nested));
  const adds = /new\s+ArrayList<\w*>\(\)\s*\{\{\s*(.+?)\s*\}\}/s.exec(input);
  if (adds) return [...adds[1]!.matchAll(/add\((.+?)\)/g)].map((m) => listElement(pyStrip(m[1]!), nested));
  if (/new\s+ArrayList<\w*>\(\)/.test(input)) return [];
  return input;
}

function parseArray(input: string, nested: string | undefined): Py {
  const m = /new\s+\w+\[\]\s*\{(.*?)\}/.exec(input);
  if (!m) return input;
  const parts = m[1]!.split(',').filter((x) => pyStrip(x) !== '');
  return parts.map((x) => (nested ? javaConvert(pyStrip(x), nested) : parseJavaValue(pyStrip(x))));
}

function parseHashMap(input: string): Py {
  const m = /new\s+HashMap<.*?>\s*\(\)\s*\{\s*\{?\s*(.*?)\s*\}?\s*\}/s.exec(input);
  if (m) {
    const out: PyDict = {};
    if (pyStrip(m[1]!) !== '') for (const [, k, v] of m[1]!.matchAll(/put\("(.*?)",\s*(.*?)\)/g)) out[k!] = parseJavaValue(pyStrip(v!));
    return out;
  }
  return /new\s+HashMap<.*?>\s*\(\)/.test(input) ? {} : input;
}

/** `js_type_converter(value, type, nested)`. Throws for types not in {@link JS_TYPES}. */
export function jsConvert(value: string, type: string, nested?: string): Py {
  if (!Object.hasOwn(JS_TYPES, type)) throw new Error(`Unsupported type: ${type}`);
  switch (type) {
    case 'String': return (value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")) ? pyInner(value) : value;
    case 'integer': return /^-?\d+$/.test(value) ? pyInt(value) : value;
    case 'float': return /^-?\d+(\.\d+)?$/.test(value) ? pyFloat(Number(value)) : value;
    case 'Bigint': return /^-?\d+n$/.test(value) ? pyInt(value.slice(0, -1)) : value;
    case 'Boolean': return value === 'true' ? true : value === 'false' ? false : value;
    case 'dict': return parseJsDict(pyStrip(value));
    case 'array': return parseJsArray(pyStrip(value), nested);
    default: return value; // any
  }
}

/** `parse_js_value`: a JavaScript literal without a known type. */
export function parseJsValue(raw: string): Py {
  const s = pyStrip(raw);
  if (s === 'true') return true;
  if (s === 'false') return false;
  if ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'"))) return pyInner(s);
  return parseInt10(s) ?? parseFloat10(s) ?? s;
}

/** `parse_js_collection(code, "array", nested)`: 2-D arrays first, then `[...]` / `new Array(...)`; on any error the code itself. */
function parseJsArray(code: string, nested: string | undefined): Py {
  try {
    const twoD = /^(?:\[\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\]|\bnew\s+Array\(\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\))/.exec(code);
    if (twoD) {
      return [...twoD[0].matchAll(/\[(.*?)\]/g)].map((m, idx) => {
        let inner = pyStrip(m[1]!);
        if (idx === 0 && inner.startsWith('[')) inner = inner.slice(1);
        return inner.split(',').map((e) => parseJsValue(pyStrip(e)));
      });
    }
    const m = /^(?:\[(.*?)\]|\bnew\s+Array\((.*?)\))/.exec(code);
    if (!m) return code;
    const body = m[1] ?? m[2];
    const elements = body !== undefined && pyStrip(body) !== '' ? pyStrip(body).split(',') : [];
    if (!nested) return elements.map((e) => parseJsValue(pyStrip(e)));
    return elements.map((e) => {
      const s = pyStrip(e);
      return s.startsWith("'") || s.startsWith('"') ? jsConvert(s, nested, 'String') : jsConvert(s, nested);
    });
  } catch {
    return code;
  }
}

/** `parse_js_collection(code, "dict")`: `{k: v, ...}` up to the first `}`, pairs found by BFCL's regex. */
function parseJsDict(code: string): Py {
  if (code === '{}') return {};
  const m = /^\{(.*?)\}/.exec(code);
  if (!m) return code;
  const out: PyDict = {};
  for (const [, k, v] of m[1]!.matchAll(/([^:]+):\s*(.*?)(?:,\s*(?=[^,]+:)|$)/g)) {
    const key = pyStrip(pyStrip(k!), '\'"');
    const value = pyStrip(v!);
    if (value.startsWith('[') && value.endsWith(']')) out[key] = parseJsArray(value, undefined);
    else if (value.startsWith('{') && value.endsWith('}')) out[key] = parseJsDict(value);
    else out[key] = parseJsValue(pyStrip(value, '\'"'));
  }
  return out;
}
