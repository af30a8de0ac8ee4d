/**
 * Jinja2 filters and tests with Python semantics, including transformers' `tojson`
 * (`json.dumps(x, ensure_ascii=False, indent=…, separators=…, sort_keys=…)`). Filters not listed
 * here are left to @huggingface/jinja.
 */
import { checkLength } from './budget.js';
import { bindArgs, pyCapitalize } from './methods.js';
import { iterRV, lenRV, strRV, truthy, typeError } from './pyops.js';
import { PY_SPACE, pyJsonDumps, pyStrip } from './python.js';
import {
  bool, float, fromRuntime, int, isBool, isDict, isFloat, isFn, isInt, isList, isNone, isNum, isStr, isUndef,
  list, none, str, tuple, typeName, undef, type RV,
} from './runtime.js';

type Filter = (value: RV, args: RV[]) => RV;

function tojson(value: RV, args: RV[]): RV {
  const [ensureAscii, indent, separators, sortKeys] = bindArgs('tojson', args, [
    ['ensure_ascii', bool(false)], ['indent', undef()], ['separators', undef()], ['sort_keys', bool(false)],
  ]);
  let ind: number | string | null = null;
  if (isInt(indent!) || isStr(indent!)) ind = indent.value;
  else if (!isNone(indent!) && !isUndef(indent!)) throw typeError(`indent must be an int or a str, not ${typeName(indent!)}`);
  checkLength(typeof ind === 'number' ? ind : (ind ?? '').length, 'a tojson indent');
  let seps: [string, string] | null = null;
  if (isList(separators!)) {
    const [a, b] = separators.value;
    if (separators.value.length !== 2 || !a || !b || !isStr(a) || !isStr(b)) throw typeError('separators must be a pair of strings');
    seps = [a.value, b.value];
  } else if (!isNone(separators!) && !isUndef(separators!)) throw typeError('separators must be a pair of strings');
  return str(pyJsonDumps(fromRuntime(value), {
    ensureAscii: truthy(ensureAscii!), indent: ind, separators: seps, sortKeys: truthy(sortKeys!),
  }));
}

const TITLE_SPLIT = new RegExp(`([-${PY_SPACE}({\\[<]+)`, 'u');
const html = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c]!);

/** Python `int(x)` of a string: optional sign, digits, underscores between digits, whitespace. */
function parseIntStr(s: string, base: number): number | null {
  const t = s.trim();
  const digits = base === 16 ? '[0-9a-fA-F]' : base === 8 ? '[0-7]' : base === 2 ? '[01]' : '[0-9]';
  if (!new RegExp(`^[+-]?${digits}+(_${digits}+)*$`).test(t)) return null;
  return parseInt(t.replace(/_/g, ''), base);
}

function toFloat(v: RV): number | null {
  if (isNum(v)) return Number(v.value);
  if (isStr(v)) {
    const t = v.value.trim().toLowerCase().replace(/(?<=\d)_(?=\d)/g, '');
    if (/^[+-]?(inf|infinity)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
    if (/^[+-]?nan$/.test(t)) return NaN;
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return Number(t);
  }
  return null;
}

const FILTERS: Record<string, Filter> = {
  tojson,
  trim: (v, a) => {
    const [chars] = bindArgs('trim', a, [['chars', undef()]]);
    return str(pyStrip(strRV(v), isStr(chars!) ? chars.value : null, 'both'));
  },
  string: (v, a) => (bindArgs('string', a, []), str(strRV(v))),
  length: (v, a) => (bindArgs('length', a, []), int(lenRV(v))),
  count: (v, a) => (bindArgs('count', a, []), int(lenRV(v))),
  first: (v, a) => (bindArgs('first', a, []), iterRV(v)[0] ?? undef()),
  last: (v, a) => {
    bindArgs('last', a, []);
    if (isUndef(v)) return undef();
    const items = iterRV(v);
    return items[items.length - 1] ?? undef();
  },
  join: (v, a) => {
    const [sep, attribute] = bindArgs('join', a, [['d', str('')], ['attribute', none()]]);
    let items = iterRV(v);
    if (!isNone(attribute!)) {
      items = items.map((x) => (isDict(x) && isStr(attribute!) ? (x.value.get(attribute.value) ?? undef()) : undef()));
    }
    const parts = items.map(strRV);
    const glue = strRV(sep!);
    checkLength(parts.reduce((n, p) => n + p.length, 0) + Math.max(0, parts.length - 1) * glue.length, 'a joined string');
    return str(parts.join(glue));
  },
  upper: (v, a) => (bindArgs('upper', a, []), str(strRV(v).toUpperCase())),
  lower: (v, a) => (bindArgs('lower', a, []), str(strRV(v).toLowerCase())),
  capitalize: (v, a) => (bindArgs('capitalize', a, []), str(pyCapitalize(strRV(v)))),
  // Jinja2's do_title: capitalise each word, words split at whitespace and ([{<-
  title: (v, a) => {
    bindArgs('title', a, []);
    return str(strRV(v).split(TITLE_SPLIT).filter((p) => p !== '').map((p) => {
      const [first = '', ...rest] = Array.from(p);
      return first.toUpperCase() + rest.join('').toLowerCase();
    }).join(''));
  },
  default: (v, a) => {
    const [fallback, boolean] = bindArgs('default', a, [['default_value', str('')], ['boolean', bool(false)]]);
    return isUndef(v) || (truthy(boolean!) && !truthy(v)) ? fallback! : v;
  },
  items: (v, a) => {
    bindArgs('items', a, []);
    if (isUndef(v)) return list([]);
    if (!isDict(v)) throw typeError('Can only get item pairs from a mapping.');
    return list([...v.value].map(([k, x]) => tuple([str(k), x])));
  },
  list: (v, a) => (bindArgs('list', a, []), list([...iterRV(v)])),
  reverse: (v, a) => {
    bindArgs('reverse', a, []);
    if (isStr(v)) return str(Array.from(v.value).reverse().join(''));
    return list([...iterRV(v)].reverse());
  },
  safe: (v) => v,
  escape: (v) => str(html(strRV(v))),
  e: (v) => str(html(strRV(v))),
  int: (v, a) => {
    const [fallback, base] = bindArgs('int', a, [['default', int(0)], ['base', int(10)]]);
    if (isInt(v) || isBool(v)) return int(Number(v.value));
    if (isFloat(v)) return Number.isFinite(v.value) ? int(Math.trunc(v.value)) : fallback!;
    if (isStr(v)) {
      const n = parseIntStr(v.value, Number(base!.value));
      if (n !== null) return int(n);
      const f = toFloat(v);
      return f !== null && Number.isFinite(f) ? int(Math.trunc(f)) : fallback!;
    }
    return fallback!;
  },
  float: (v, a) => {
    const [fallback] = bindArgs('float', a, [['default', float(0)]]);
    const f = toFloat(v);
    return f === null ? fallback! : float(f);
  },
};
FILTERS['d'] = FILTERS['default']!;

/** Applies a filter with Python semantics, or returns undefined when the library should. */
export function applyPyFilter(name: string, value: RV, args: RV[]): RV | undefined {
  const f = Object.prototype.hasOwnProperty.call(FILTERS, name) ? FILTERS[name] : undefined;
  return f ? f(value, args) : undefined;
}

const isCasedStr = (s: string, upper: boolean) => {
  const cased = Array.from(s).filter((c) => c.toLowerCase() !== c.toUpperCase());
  return cased.length > 0 && cased.every((c) => c === (upper ? c.toUpperCase() : c.toLowerCase()));
};

const TESTS: Record<string, (v: RV) => boolean> = {
  defined: (v) => !isUndef(v),
  undefined: (v) => isUndef(v),
  none: (v) => isNone(v),
  boolean: (v) => isBool(v),
  true: (v) => isBool(v) && v.value,
  false: (v) => isBool(v) && !v.value,
  integer: (v) => isInt(v),
  float: (v) => isFloat(v),
  number: (v) => isNum(v),
  string: (v) => isStr(v),
  mapping: (v) => isDict(v),
  iterable: (v) => isStr(v) || isList(v) || isDict(v) || isUndef(v),
  sequence: (v) => isStr(v) || isList(v) || isDict(v) || isUndef(v),
  callable: (v) => isFn(v),
  odd: (v) => {
    if (!isNum(v)) throw typeError(`cannot test odd on ${typeName(v)}`);
    return Math.abs(Number(v.value) % 2) === 1;
  },
  even: (v) => {
    if (!isNum(v)) throw typeError(`cannot test even on ${typeName(v)}`);
    return Number(v.value) % 2 === 0;
  },
  lower: (v) => isCasedStr(strRV(v), false),
  upper: (v) => isCasedStr(strRV(v), true),
  escaped: () => false,
};

/** Runs a Jinja2 test (`x is name`); throws for tests Jinja2 does not have or that need arguments. */
export function applyPyTest(name: string, value: RV): boolean {
  const t = Object.prototype.hasOwnProperty.call(TESTS, name) ? TESTS[name] : undefined;
  if (!t) throw typeError(`no test named '${name}' (tests with arguments are not supported)`);
  return t(value);
}

