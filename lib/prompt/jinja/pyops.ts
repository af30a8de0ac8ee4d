/**
 * Python semantics on @huggingface/jinja runtime values: `str()`/`repr()`, equality, ordering,
 * membership, arithmetic and `len()`, as Jinja2 evaluates them (it runs Python operators).
 */
import {
  float, int, isBool, isDict, isFloat, isFn, isInt, isList, isNamespace, isNone, isNum, isStr, isTuple,
  isUndef, list, str, tuple, typeName, type RV,
} from './runtime.js';
import { checkLength, currentMeter } from './budget.js';
import { compareCodePoints, pyFloatRepr, pyIntRepr, pyStrRepr } from './python.js';

/** An error Python Jinja2 raises too (TypeError, UndefinedError, ZeroDivisionError, …). */
export class PyRuntimeError extends Error {
  constructor(readonly pyType: string, message: string) {
    super(`${pyType}: ${message}`);
  }
}

export const typeError = (msg: string) => new PyRuntimeError('TypeError', msg);
export const undefinedError = (msg: string) => new PyRuntimeError('UndefinedError', msg);

/** Python `repr()` of a runtime value. */
export function reprRV(v: RV): string {
  if (isStr(v)) return pyStrRepr(v.value);
  if (isBool(v)) return v.value ? 'True' : 'False';
  if (isInt(v)) return pyIntRepr(v.value);
  if (isFloat(v)) return pyFloatRepr(v.value);
  if (isNone(v)) return 'None';
  if (isUndef(v)) return 'Undefined';
  if (isTuple(v)) return '(' + v.value.map(reprRV).join(', ') + (v.value.length === 1 ? ',)' : ')');
  if (isList(v)) return '[' + v.value.map(reprRV).join(', ') + ']';
  if (isDict(v)) return '{' + [...v.value].map(([k, x]) => `${pyStrRepr(k)}: ${reprRV(x)}`).join(', ') + '}';
  if (isNamespace(v)) return '<Namespace {' + [...v.value].map(([k, x]) => `${pyStrRepr(k)}: ${reprRV(x)}`).join(', ') + '}>';
  if (isFn(v)) throw typeError('cannot render a function or method: its Python repr holds a memory address');
  throw typeError(`cannot render a ${v.type}`);
}

/** Python `str()` of a runtime value, with Jinja2's Undefined printing as ''. */
export function strRV(v: RV): string {
  if (isStr(v)) return v.value;
  if (isUndef(v)) return '';
  return reprRV(v);
}

const num = (v: RV & { value: number | boolean }): number => (typeof v.value === 'boolean' ? (v.value ? 1 : 0) : v.value);
const intLike = (v: RV): boolean => isInt(v) || isBool(v);

/** Python `==`. */
export function pyEq(a: RV, b: RV): boolean {
  if (isNum(a) && isNum(b)) return num(a) === num(b);
  if (isStr(a) && isStr(b)) return a.value === b.value;
  if (isNone(a) && isNone(b)) return true;
  if (isUndef(a) && isUndef(b)) return true;
  if (isList(a) && isList(b)) {
    return isTuple(a) === isTuple(b) && a.value.length === b.value.length && a.value.every((x, i) => pyEq(x, b.value[i]!));
  }
  if (isDict(a) && isDict(b)) {
    if (a.value.size !== b.value.size) return false;
    for (const [k, x] of a.value) {
      const y = b.value.get(k);
      if (y === undefined || !pyEq(x, y)) return false;
    }
    return true;
  }
  return a === b;
}

/** Python ordering (`<` is `pyCompare(a, b) < 0`); a TypeError where Python has none. */
export function pyCompare(a: RV, b: RV, op: string): number {
  if (isUndef(a) || isUndef(b)) throw undefinedError(`cannot compare an undefined value with '${op}'`);
  if (isNum(a) && isNum(b)) return num(a) < num(b) ? -1 : num(a) > num(b) ? 1 : 0;
  if (isStr(a) && isStr(b)) return compareCodePoints(a.value, b.value);
  if (isList(a) && isList(b) && isTuple(a) === isTuple(b)) {
    const n = Math.min(a.value.length, b.value.length);
    for (let i = 0; i < n; i++) {
      if (!pyEq(a.value[i]!, b.value[i]!)) return pyCompare(a.value[i]!, b.value[i]!, op);
    }
    return a.value.length - b.value.length;
  }
  throw typeError(`'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
}

/** The items of a Python iterable: characters, elements, dict keys; Undefined is empty. */
export function iterRV(v: RV): RV[] {
  if (isStr(v)) return Array.from(v.value, (c) => str(c));
  if (isList(v)) return v.value;
  if (isDict(v)) return [...v.value.keys()].map((k) => str(k));
  if (isUndef(v)) return [];
  throw typeError(`'${typeName(v)}' object is not iterable`);
}

/** Python `item in container`. */
export function pyContains(container: RV, item: RV): boolean {
  if (isUndef(container)) return false;
  if (isStr(container)) {
    if (!isStr(item)) throw typeError(`'in <string>' requires string as left operand, not ${typeName(item)}`);
    return container.value.includes(item.value);
  }
  if (isList(container)) return container.value.some((x) => pyEq(x, item));
  if (isDict(container)) return isStr(item) && container.value.has(item.value);
  throw typeError(`argument of type '${typeName(container)}' is not iterable`);
}

/** Python `len()`; Jinja2's Undefined has length 0. */
export function lenRV(v: RV): number {
  if (isStr(v)) return Array.from(v.value).length;
  if (isList(v)) return v.value.length;
  if (isDict(v)) return v.value.size;
  if (isUndef(v)) return 0;
  throw typeError(`object of type '${typeName(v)}' has no len()`);
}

/** Python truthiness. */
export function truthy(v: RV): boolean {
  return v.__bool__().value;
}

/** A binary arithmetic operator (`+ - * / // % **`) with Python semantics. */
export function pyArith(op: string, a: RV, b: RV): RV {
  if (isUndef(a) || isUndef(b)) throw undefinedError(`an undefined value was used with '${op}'`);
  if (isNum(a) && isNum(b)) {
    const x = num(a);
    const y = num(b);
    const ints = intLike(a) && intLike(b);
    let r: number;
    switch (op) {
      case '+': r = x + y; break;
      case '-': r = x - y; break;
      case '*': r = x * y; break;
      case '/':
        if (y === 0) throw new PyRuntimeError('ZeroDivisionError', 'division by zero');
        return float(x / y);
      case '//':
        if (y === 0) throw new PyRuntimeError('ZeroDivisionError', 'integer division or modulo by zero');
        r = Math.floor(x / y);
        break;
      case '%':
        if (y === 0) throw new PyRuntimeError('ZeroDivisionError', 'integer modulo by zero');
        r = x % y;
        if (r !== 0 && y < 0 !== r < 0) r += y;
        break;
      case '**':
        if (x === 0 && y < 0) throw new PyRuntimeError('ZeroDivisionError', '0.0 cannot be raised to a negative power');
        r = x ** y;
        if (ints && y < 0) return float(r);
        break;
      default:
        throw typeError(`unsupported operator '${op}'`);
    }
    return ints ? int(r) : float(r);
  }
  if (op === '+') {
    if (isStr(a) && isStr(b)) {
      checkLength(a.value.length + b.value.length, 'a concatenated string');
      return str(a.value + b.value);
    }
    if (isList(a) && isList(b) && isTuple(a) === isTuple(b)) {
      checkLength(a.value.length + b.value.length, 'a concatenated list');
      const items = [...a.value, ...b.value];
      return isTuple(a) ? tuple(items) : list(items);
    }
    if (isStr(a)) throw typeError(`can only concatenate str (not "${typeName(b)}") to str`);
  }
  if (op === '*') {
    const [seq, n] = intLike(b) ? [a, b] : [b, a];
    if (intLike(n) && (isStr(seq) || isList(seq))) {
      const times = Math.max(0, num(n as RV & { value: number | boolean }));
      checkLength(seq.value.length * times, isStr(seq) ? 'a repeated string' : 'a repeated list');
      if (!isStr(seq)) currentMeter()?.charge(seq.value.length * times);
      if (isStr(seq)) return str(seq.value.repeat(times));
      const items = Array.from({ length: times }, () => seq.value).flat();
      return isTuple(seq) ? tuple(items) : list(items);
    }
  }
  if (op === '%' && isStr(a)) throw typeError('printf-style string formatting (str % value) is not supported');
  throw typeError(`unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
}

