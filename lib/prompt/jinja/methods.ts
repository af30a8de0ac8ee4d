/**
 * Python attribute access as Jinja2 (sandboxed, as in transformers) performs it: `str`, `dict`
 * and `list` methods, `obj.name` trying the attribute before the item and `obj[key]` the
 * other way round, and Undefined raising on any access.
 */
import { checkLength } from './budget.js';
import { iterRV, pyEq, strRV, typeError, undefinedError, PyRuntimeError } from './pyops.js';
import { isPySpace, pyStrip } from './python.js';
import {
  bool, fn, int, isBool, isDict, isInt, isKwargs, isList, isNamespace, isNone, isStr, isTuple, isUndef,
  list, none, str, tuple, typeName, undef, dict, type RV,
} from './runtime.js';

type Spec = Array<[name: string, fallback?: RV]>;

/** Binds positional and keyword arguments to a Python signature; missing ones without default throw. */
export function bindArgs(what: string, args: RV[], spec: Spec): RV[] {
  const positional = args.filter((a) => !isKwargs(a));
  const kw = args.find(isKwargs);
  if (positional.length > spec.length) {
    throw typeError(`${what}() takes at most ${spec.length} arguments (${positional.length} given)`);
  }
  const out = spec.map(([name, fallback], i) => {
    const fromKw = kw?.value.get(name);
    if (positional[i] !== undefined && fromKw !== undefined) throw typeError(`${what}() got multiple values for argument '${name}'`);
    const v = positional[i] ?? fromKw ?? fallback;
    if (v === undefined) throw typeError(`${what}() missing required argument: '${name}'`);
    return v;
  });
  for (const k of kw?.value.keys() ?? []) {
    if (!spec.some(([n]) => n === k)) throw typeError(`${what}() got an unexpected keyword argument '${k}'`);
  }
  return out;
}

const needStr = (what: string, v: RV): string => {
  if (!isStr(v)) throw typeError(`${what} must be str, not ${typeName(v)}`);
  return v.value;
};
const optStr = (what: string, v: RV): string | null => (isNone(v) ? null : needStr(what, v));
const needInt = (what: string, v: RV): number => {
  if (!isInt(v) && !isBool(v)) throw typeError(`${what} must be int, not ${typeName(v)}`);
  return Number(v.value);
};

/** Python `str.split(sep, maxsplit)` (and `rsplit` with `fromRight`). */
export function pySplit(s: string, sep: string | null, maxsplit: number, fromRight = false): string[] {
  if (sep === '') throw new PyRuntimeError('ValueError', 'empty separator');
  const limit = maxsplit < 0 ? Infinity : maxsplit;
  if (sep !== null) {
    const parts = s.split(sep);
    if (parts.length - 1 <= limit) return parts;
    return fromRight
      ? [parts.slice(0, parts.length - limit).join(sep), ...parts.slice(parts.length - limit)]
      : [...parts.slice(0, limit), parts.slice(limit).join(sep)];
  }
  // Runs of whitespace; no empty strings at the ends.
  const cps = Array.from(s);
  const out: string[] = [];
  if (!fromRight) {
    let i = 0;
    while (true) {
      while (i < cps.length && isPySpace(cps[i]!)) i++;
      if (i >= cps.length) break;
      if (out.length === limit) {
        out.push(cps.slice(i).join(''));
        break;
      }
      let j = i;
      while (j < cps.length && !isPySpace(cps[j]!)) j++;
      out.push(cps.slice(i, j).join(''));
      i = j;
    }
    return out;
  }
  let j = cps.length;
  while (true) {
    while (j > 0 && isPySpace(cps[j - 1]!)) j--;
    if (j <= 0) break;
    if (out.length === limit) {
      out.unshift(cps.slice(0, j).join(''));
      break;
    }
    let i = j;
    while (i > 0 && !isPySpace(cps[i - 1]!)) i--;
    out.unshift(cps.slice(i, j).join(''));
    j = i;
  }
  return out;
}

const LINE_BREAKS = new Set(['\n', '\r', '\v', '\f', '\x1c', '\x1d', '\x1e', '\x85', '\u2028', '\u2029']);

function splitlines(s: string, keepends: boolean): string[] {
  const cps = Array.from(s);
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < cps.length; i++) {
    if (!LINE_BREAKS.has(cps[i]!)) continue;
    let end = i + 1;
    if (cps[i] === '\r' && cps[i + 1] === '\n') end++;
    out.push(cps.slice(start, keepends ? end : i).join(''));
    start = end;
    i = end - 1;
  }
  if (start < cps.length) out.push(cps.slice(start).join(''));
  return out;
}

const isCased = (c: string) => c.toLowerCase() !== c.toUpperCase();

/** Python `str.title()`. */
export function pyTitle(s: string): string {
  let prevCased = false;
  let out = '';
  for (const c of s) {
    out += prevCased ? c.toLowerCase() : c.toUpperCase();
    prevCased = isCased(c);
  }
  return out;
}

/** Python `str.capitalize()`. */
export function pyCapitalize(s: string): string {
  const [first = '', ...rest] = Array.from(s);
  return first.toUpperCase() + rest.join('').toLowerCase();
}

function hasCasedAnd(s: string, test: (c: string) => boolean): boolean {
  const cased = Array.from(s).filter(isCased);
  return cased.length > 0 && cased.every(test);
}

/** Code-point index of `sub` in `s` (Python `str.find`), searching from the left or the right. */
function find(s: string, sub: string, right: boolean): number {
  const i = right ? s.lastIndexOf(sub) : s.indexOf(sub);
  return i < 0 ? -1 : Array.from(s.slice(0, i)).length;
}

function affix(s: RV, what: string, args: RV[], test: (s: string, p: string) => boolean): RV {
  const [p] = bindArgs(what, args, [['prefix']]);
  if (isStr(p!)) return bool(test(s.value as string, p.value));
  if (isTuple(p!)) return bool(p.value.some((x) => test(s.value as string, needStr(`${what} tuple item`, x))));
  throw typeError(`${what} first arg must be str or a tuple of str, not ${typeName(p!)}`);
}

function pad(s: string, width: number, fill: string, where: 'center' | 'left' | 'right'): string {
  const n = Array.from(s).length;
  if (width <= n) return s;
  checkLength(s.length + (width - n) * fill.length, 'a padded string');
  const total = width - n;
  if (where === 'left') return s + fill.repeat(total);
  if (where === 'right') return fill.repeat(total) + s;
  // CPython: left = total // 2 + (total & width & 1)
  const left = Math.floor(total / 2) + (total & width & 1);
  return fill.repeat(left) + s + fill.repeat(total - left);
}

type Method = (self: RV, args: RV[]) => RV;
const strList = (xs: string[]): RV => list(xs.map((x) => str(x)));

const STR_METHODS: Record<string, Method> = {
  strip: (s, a) => str(pyStrip(s.value as string, optStr('strip arg', bindArgs('strip', a, [['chars', none()]])[0]!), 'both')),
  lstrip: (s, a) => str(pyStrip(s.value as string, optStr('lstrip arg', bindArgs('lstrip', a, [['chars', none()]])[0]!), 'left')),
  rstrip: (s, a) => str(pyStrip(s.value as string, optStr('rstrip arg', bindArgs('rstrip', a, [['chars', none()]])[0]!), 'right')),
  split: (s, a) => {
    const [sep, max] = bindArgs('split', a, [['sep', none()], ['maxsplit', int(-1)]]);
    return strList(pySplit(s.value as string, optStr('sep', sep!), needInt('maxsplit', max!)));
  },
  rsplit: (s, a) => {
    const [sep, max] = bindArgs('rsplit', a, [['sep', none()], ['maxsplit', int(-1)]]);
    return strList(pySplit(s.value as string, optStr('sep', sep!), needInt('maxsplit', max!), true));
  },
  splitlines: (s, a) => strList(splitlines(s.value as string, Boolean(bindArgs('splitlines', a, [['keepends', bool(false)]])[0]!.value))),
  startswith: (s, a) => affix(s, 'startswith', a, (x, p) => x.startsWith(p)),
  endswith: (s, a) => affix(s, 'endswith', a, (x, p) => x.endsWith(p)),
  upper: (s, a) => (bindArgs('upper', a, []), str((s.value as string).toUpperCase())),
  lower: (s, a) => (bindArgs('lower', a, []), str((s.value as string).toLowerCase())),
  casefold: (s, a) => (bindArgs('casefold', a, []), str((s.value as string).toLowerCase())),
  swapcase: (s, a) => (bindArgs('swapcase', a, []),
    str(Array.from(s.value as string, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''))),
  title: (s, a) => (bindArgs('title', a, []), str(pyTitle(s.value as string))),
  capitalize: (s, a) => (bindArgs('capitalize', a, []), str(pyCapitalize(s.value as string))),
  replace: (s, a) => {
    const [o, n, c] = bindArgs('replace', a, [['old'], ['new'], ['count', int(-1)]]);
    const old = needStr('replace arg 1', o!);
    const neu = needStr('replace arg 2', n!);
    let count = needInt('count', c!);
    if (count < 0) count = Infinity;
    const src = s.value as string;
    if (old === '') {
      const cps = Array.from(src);
      checkLength(src.length + Math.min(count, cps.length + 1) * neu.length, 'a replaced string');
      let out = '';
      for (let i = 0; i <= cps.length; i++) {
        if (i < count) out += neu;
        out += cps[i] ?? '';
      }
      return str(out);
    }
    const parts = src.split(old);
    checkLength(src.length + Math.min(count, parts.length - 1) * Math.max(0, neu.length - old.length), 'a replaced string');
    if (parts.length - 1 <= count) return str(parts.join(neu));
    return str(parts.slice(0, count + 1).join(neu) + old + parts.slice(count + 1).join(old));
  },
  find: (s, a) => int(find(s.value as string, needStr('find arg', bindArgs('find', a, [['sub']])[0]!), false)),
  rfind: (s, a) => int(find(s.value as string, needStr('rfind arg', bindArgs('rfind', a, [['sub']])[0]!), true)),
  index: (s, a) => {
    const i = find(s.value as string, needStr('index arg', bindArgs('index', a, [['sub']])[0]!), false);
    if (i < 0) throw new PyRuntimeError('ValueError', 'substring not found');
    return int(i);
  },
  rindex: (s, a) => {
    const i = find(s.value as string, needStr('rindex arg', bindArgs('rindex', a, [['sub']])[0]!), true);
    if (i < 0) throw new PyRuntimeError('ValueError', 'substring not found');
    return int(i);
  },
  count: (s, a) => {
    const sub = needStr('count arg', bindArgs('count', a, [['sub']])[0]!);
    const src = s.value as string;
    return int(sub === '' ? Array.from(src).length + 1 : src.split(sub).length - 1);
  },
  join: (s, a) => {
    const items = iterRV(bindArgs('join', a, [['iterable']])[0]!);
    return str(items.map((x, i) => needStr(`sequence item ${i}: expected str instance,`, x)).join(s.value as string));
  },
  isdigit: (s) => bool(/^\p{Nd}+$/u.test(s.value as string)),
  isdecimal: (s) => bool(/^\p{Nd}+$/u.test(s.value as string)),
  isnumeric: (s) => bool(/^[\p{Nd}\p{Nl}\p{No}]+$/u.test(s.value as string)),
  isalpha: (s) => bool(/^\p{L}+$/u.test(s.value as string)),
  isalnum: (s) => bool(/^[\p{L}\p{Nd}\p{Nl}\p{No}]+$/u.test(s.value as string)),
  isspace: (s) => bool((s.value as string).length > 0 && Array.from(s.value as string).every(isPySpace)),
  islower: (s) => bool(hasCasedAnd(s.value as string, (c) => c === c.toLowerCase())),
  isupper: (s) => bool(hasCasedAnd(s.value as string, (c) => c === c.toUpperCase())),
  istitle: (s) => bool(pyTitle(s.value as string) === s.value && Array.from(s.value as string).some(isCased)),
  removeprefix: (s, a) => {
    const p = needStr('removeprefix arg', bindArgs('removeprefix', a, [['prefix']])[0]!);
    const v = s.value as string;
    return str(p && v.startsWith(p) ? v.slice(p.length) : v);
  },
  removesuffix: (s, a) => {
    const p = needStr('removesuffix arg', bindArgs('removesuffix', a, [['suffix']])[0]!);
    const v = s.value as string;
    return str(p && v.endsWith(p) ? v.slice(0, -p.length) : v);
  },
  center: (s, a) => {
    const [w, f] = bindArgs('center', a, [['width'], ['fillchar', str(' ')]]);
    return str(pad(s.value as string, needInt('width', w!), needStr('fillchar', f!), 'center'));
  },
  ljust: (s, a) => {
    const [w, f] = bindArgs('ljust', a, [['width'], ['fillchar', str(' ')]]);
    return str(pad(s.value as string, needInt('width', w!), needStr('fillchar', f!), 'left'));
  },
  rjust: (s, a) => {
    const [w, f] = bindArgs('rjust', a, [['width'], ['fillchar', str(' ')]]);
    return str(pad(s.value as string, needInt('width', w!), needStr('fillchar', f!), 'right'));
  },
  zfill: (s, a) => {
    const w = needInt('width', bindArgs('zfill', a, [['width']])[0]!);
    const v = s.value as string;
    const sign = /^[+-]/.test(v) ? v[0]! : '';
    const body = sign ? v.slice(1) : v;
    return str(sign + pad(body, w - sign.length, '0', 'right'));
  },
  partition: (s, a) => {
    const sep = needStr('partition arg', bindArgs('partition', a, [['sep']])[0]!);
    const v = s.value as string;
    const i = v.indexOf(sep);
    return tuple((i < 0 ? [v, '', ''] : [v.slice(0, i), sep, v.slice(i + sep.length)]).map((x) => str(x)));
  },
  rpartition: (s, a) => {
    const sep = needStr('rpartition arg', bindArgs('rpartition', a, [['sep']])[0]!);
    const v = s.value as string;
    const i = v.lastIndexOf(sep);
    return tuple((i < 0 ? ['', '', v] : [v.slice(0, i), sep, v.slice(i + sep.length)]).map((x) => str(x)));
  },
};

const DICT_METHODS: Record<string, Method> = {
  get: (d, a) => {
    const [k, fallback] = bindArgs('get', a, [['key'], ['default', none()]]);
    return (isStr(k!) ? (d.value as Map<string, RV>).get(k.value) : undefined) ?? fallback!;
  },
  items: (d, a) => (bindArgs('items', a, []), list([...(d.value as Map<string, RV>)].map(([k, v]) => tuple([str(k), v])))),
  keys: (d, a) => (bindArgs('keys', a, []), list([...(d.value as Map<string, RV>).keys()].map((k) => str(k)))),
  values: (d, a) => (bindArgs('values', a, []), list([...(d.value as Map<string, RV>).values()])),
  copy: (d, a) => (bindArgs('copy', a, []), dict(new Map(d.value as Map<string, RV>))),
};
/** Methods the sandbox refuses (ImmutableSandboxedEnvironment: they modify the object). */
const UNSAFE = {
  dict: new Set(['clear', 'pop', 'popitem', 'setdefault', 'update']),
  list: new Set(['append', 'clear', 'pop', 'reverse', 'insert', 'sort', 'extend', 'remove']),
};
const DICT_ATTRS = new Set([...Object.keys(DICT_METHODS), ...UNSAFE.dict, 'fromkeys']);

const LIST_METHODS: Record<string, Method> = {
  index: (l, a) => {
    const [x] = bindArgs('index', a, [['value']]);
    const i = (l.value as RV[]).findIndex((y) => pyEq(y, x!));
    if (i < 0) throw new PyRuntimeError('ValueError', `${strRV(x!)} is not in list`);
    return int(i);
  },
  count: (l, a) => {
    const [x] = bindArgs('count', a, [['value']]);
    return int((l.value as RV[]).filter((y) => pyEq(y, x!)).length);
  },
  copy: (l, a) => (bindArgs('copy', a, []), isTuple(l) ? l : list([...(l.value as RV[])])),
};

const bound = (self: RV, m: Method): RV => fn((args) => m(self, args));

/**
 * `obj.name` (Jinja2 `getattr`): the Python attribute first, then the item; Undefined when
 * neither exists. Accessing anything on Undefined raises, as with Jinja2's default Undefined.
 */
export function pyGetattr(obj: RV, name: string): RV {
  if (isUndef(obj)) throw undefinedError(`cannot read attribute '${name}' of an undefined value`);
  if (isStr(obj)) return STR_METHODS[name] ? bound(obj, STR_METHODS[name]) : undef();
  if (isDict(obj)) {
    if (DICT_ATTRS.has(name)) return DICT_METHODS[name] ? bound(obj, DICT_METHODS[name]) : undef();
    return obj.value.get(name) ?? undef();
  }
  if (isNamespace(obj)) return obj.value.get(name) ?? undef();
  if (isList(obj)) return LIST_METHODS[name] && !(isTuple(obj) && name === 'copy') ? bound(obj, LIST_METHODS[name]) : undef();
  return undef();
}

/** `obj[key]` (Jinja2 `getitem`): the item first, then (for a str key) the attribute. */
export function pyGetitem(obj: RV, key: RV): RV {
  if (isUndef(obj)) throw undefinedError('cannot index an undefined value');
  if (isStr(obj) || isList(obj)) {
    if (isInt(key) || isBool(key)) {
      const items = isStr(obj) ? Array.from(obj.value) : obj.value;
      const n = items.length;
      let i = Number(key.value);
      if (i < 0) i += n;
      if (i < 0 || i >= n) return undef();
      const item = items[i]!;
      return typeof item === 'string' ? str(item) : item;
    }
    return isStr(key) ? pyGetattr(obj, key.value) : undef();
  }
  if (isDict(obj)) {
    if (!isStr(key)) return undef();
    return obj.value.get(key.value) ?? pyGetattr(obj, key.value);
  }
  if (isNamespace(obj)) return isStr(key) ? (obj.value.get(key.value) ?? undef()) : undef();
  return undef();
}

