// BFCL's AST checker for one call (../shared/bfcl/README.md §2.4; simple_function_checker and
// its helpers in bfcl_eval/eval_checker/ast_eval/ast_checker.py), ported to judge the ground-truth
// answers the tests write. Values are Python values (bfcl-python.ts); the function doc is the
// original one (the checker never sees the language hints, §2.1).
import type { BfclFunctionDoc, BfclParameter } from '../../dist/lib/tools/bfcl.js';
import type { BfclLanguage } from '../../dist/lib/tools/bfcl-hints.js';
import { javaConvert, jsConvert, JAVA_TYPES, JS_TYPES } from './bfcl-convert.js';
import type { JsonNumber } from '../../dist/lib/parse/json.js';
import { isDict, pyEq, pyFloat, pyIn, pyType, type Py, type PyDict, type PyTypeName } from './bfcl-python.js';

/** `PYTHON_TYPE_MAPPING`: BFCL type → Python type. */
const PYTHON_TYPES: Readonly<Record<string, PyTypeName>> = { string: 'str', integer: 'int', float: 'float', boolean: 'bool', array: 'list', tuple: 'list', dict: 'dict', any: 'str' };
const NESTED_CONVERSION = new Set(['Array', 'ArrayList', 'array']);

/** `standardize_string`: drop ` ,./-_*^`, lowercase, `'` → `"` (§2.4.2). */
export const standardize = (s: string): string => s.replace(/[ ,./\-_*^]/g, '').toLowerCase().replace(/'/g, '"');

const lookup = (table: Readonly<Record<string, PyTypeName>>, type: unknown): PyTypeName => {
  if (typeof type !== 'string' || !Object.hasOwn(table, type)) throw new Error(`KeyError: ${String(type)}`);
  return table[type]!;
};

/** Python's `len(x)` / `x[j]` walk over an acceptable value (a string walks its characters). */
function items(v: Py): Py[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return Array.from(v);
  throw new Error(`TypeError: ${pyType(v)} has no len()`);
}

/** `type_checker` (§2.4.1): valid, and whether the value counts as a "variable". */
function typeChecker(value: Py, possible: readonly Py[], expected: PyTypeName, nested: PyTypeName | null): { valid: boolean; variable: boolean } {
  const first = possible.find((a) => a !== '');
  const answerType = first === undefined ? null : pyType(first);
  const variable = answerType !== null && answerType !== expected;
  let valid = true;
  if (pyType(value) === expected) {
    if (nested === null) return { valid: true, variable };
    for (const item of possible) {
      let flag = true;
      if (Array.isArray(item)) flag = (value as Py[]).every((v) => typeChecker(v, item, nested, null).valid);
      if (flag) return { valid: true, variable };
    }
    valid = false; // nested check failed; the variable rule below keeps it failed
  }
  if (answerType !== null && pyType(value) === answerType) return { valid, variable: true };
  return { valid: false, variable };
}

const standardized = (v: Py): Py => (typeof v === 'string' ? standardize(v) : v);

/** `string_checker`: equal after standardization to a string acceptable value. */
const stringChecker = (value: string, possible: readonly Py[]): boolean => possible.some((a) => typeof a === 'string' && standardize(a) === standardize(value));

/** `list_checker`: ordered equality after standardizing top-level strings (`""` reads as `[]`). */
function listChecker(value: Py[], possible: readonly Py[]): boolean {
  const mine = value.map(standardized);
  return possible.some((a) => pyEq(mine, items(a).map(standardized)));
}

/** `dict_checker` (§2.4.4): one level; missing keys need `""` among their acceptable values. */
function dictChecker(value: PyDict, possible: readonly Py[]): boolean {
  return possible.some((answer) => {
    if (answer === '') return false;
    if (!isDict(answer)) throw new Error(`TypeError: a ${pyType(answer)} acceptable value for a dict`);
    for (const [k, v] of Object.entries(value)) {
      if (!Object.hasOwn(answer, k)) return false;
      if (!pyIn(standardized(v), items(answer[k]!).map(standardized))) return false;
    }
    // `"" in acc`: a string acceptable value contains "" (Python's substring test).
    return Object.entries(answer).every(([k, acc]) => Object.hasOwn(value, k) || typeof acc === 'string' || pyIn('', items(acc)));
  });
}

/** `list_dict_checker` (§2.4.5): same length, dicts checked in order. */
function listDictChecker(value: Py[], possible: readonly Py[]): boolean {
  return possible.some((answer) => {
    const list = items(answer);
    return list.length === value.length && value.every((v, i) => dictChecker(v as PyDict, [list[i]!]));
  });
}

/**
 * One parameter of a call against its acceptable values, as `simple_function_checker` step 3
 * judges it: null when accepted, else BFCL's error type. Undeclared parameters, or parameters the
 * ground truth does not list, are `unexpected_param`. A Python exception in BFCL (an unknown
 * type, a malformed acceptable value) is `exception`.
 */
export function checkParam(doc: BfclFunctionDoc, param: string, given: Py, possible: readonly Py[] | undefined, language: BfclLanguage): string | null {
  const details = doc.parameters.properties ?? {};
  if (!Object.hasOwn(details, param) || possible === undefined) return 'simple_function_checker:unexpected_param';
  const schema: BfclParameter = details[param]!;
  const type = schema.type;
  let value = given;
  let expected: PyTypeName;
  let nested: PyTypeName | null = null;
  try {
    if (language === 'python') {
      expected = lookup(PYTHON_TYPES, type);
      if (type === 'array' || type === 'tuple') nested = lookup(PYTHON_TYPES, schema.items?.type);
      if (type === 'float' && pyType(value) === 'int') value = pyFloat(Number((value as JsonNumber).raw)); // int → float, top level only
    } else {
      const table = language === 'java' ? JAVA_TYPES : JS_TYPES;
      const convert = language === 'java' ? javaConvert : jsConvert;
      expected = lookup(table, type);
      if (typeof value !== 'string') return `type_error:${language === 'java' ? 'java' : 'js'}`;
      if (NESTED_CONVERSION.has(type as string)) {
        const itemType = schema.items?.type;
        nested = lookup(table, itemType);
        value = convert(value, type as string, itemType);
      } else {
        value = convert(value, type as string);
      }
    }
    const tc = typeChecker(value, possible, expected, nested);
    if (!tc.valid) return 'type_error';
    if (!tc.variable) {
      if (expected === 'dict') return dictChecker(value as PyDict, possible) ? null : 'value_error:dict';
      if (expected === 'list' && nested === 'dict') return listDictChecker(value as Py[], possible) ? null : 'value_error:list_dict';
      if (expected === 'str') return stringChecker(value as string, possible) ? null : 'value_error:string';
      if (expected === 'list') return listChecker(value as Py[], possible) ? null : 'value_error:list/tuple';
    }
    return pyIn(value, possible) ? null : 'value_error:others';
  } catch {
    return 'exception';
  }
}

/**
 * One call's arguments against one ground-truth call (`simple_function_checker`, §2.4): null when
 * BFCL accepts them, else the error type. The name is taken as matching (the tests write it).
 */
export function checkCall(doc: BfclFunctionDoc, args: PyDict, possible: Record<string, Py[]>, language: BfclLanguage): string | null {
  for (const r of doc.parameters.required ?? []) if (!Object.hasOwn(args, r)) return 'simple_function_checker:missing_required';
  for (const [param, value] of Object.entries(args)) {
    const error = checkParam(doc, param, value, Object.hasOwn(possible, param) ? possible[param] : undefined, language);
    if (error) return error;
  }
  for (const [param, acc] of Object.entries(possible)) if (!Object.hasOwn(args, param) && !pyIn('', acc)) return 'simple_function_checker:missing_optional';
  return null;
}
