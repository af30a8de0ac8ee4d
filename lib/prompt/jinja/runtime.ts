/**
 * Access to @huggingface/jinja's runtime value classes, which the package does not export: they
 * are recovered once by evaluating literals, so our Python-semantics layer can build and inspect
 * values without forking the library. Also the conversions between those values and PyData.
 */
import { Environment, Interpreter } from '@huggingface/jinja';

import { PyFloat, PyTuple, type PyData } from './python.js';

/** A runtime value of @huggingface/jinja (`StringValue`, `ObjectValue`, …). */
export interface RV {
  type: string;
  value: unknown;
  __bool__(): { value: boolean };
}
export type RVClass<V = unknown> = new (value?: V) => RV & { value: V };

/** The functions behind `FunctionValue`s: positional arguments, keyword arguments last. */
export type RVFunction = (args: RV[], env: Environment) => RV;

type Node = { type: string; [key: string]: unknown };

const probeEnv = new Environment();
const probe = new Interpreter(probeEnv) as unknown as { evaluate(node: Node | undefined, env: Environment): RV };
const ev = (node: Node | undefined): RV => probe.evaluate(node, probeEnv);
const cls = <V>(v: RV): RVClass<V> => v.constructor as RVClass<V>;

const fnValue = probeEnv.set('__probe_fn', () => 0) as RV;
let captured: RV[] = [];
(probeEnv as unknown as { variables: Map<string, RV> }).variables.set(
  '__probe_capture',
  new (cls<RVFunction>(fnValue))((args: RV[]) => {
    captured = args;
    return ev(undefined);
  }),
);
ev({
  type: 'CallExpression',
  callee: { type: 'Identifier', value: '__probe_capture' },
  args: [{ type: 'KeywordArgumentExpression', key: { type: 'Identifier', value: 'k' }, value: { type: 'IntegerLiteral', value: 1 } }],
});
const namespaceFn = probeEnv.lookupVariable('namespace') as RV & { value: RVFunction };
const thrown = (node: Node): new () => Error => {
  try {
    ev(node);
  } catch (err) {
    return (err as Error).constructor as new () => Error;
  }
  throw new Error(`@huggingface/jinja: ${node.type} did not throw`);
};

/** What `{% break %}` and `{% continue %}` throw. */
export const BreakControl = thrown({ type: 'Break' });
export const ContinueControl = thrown({ type: 'Continue' });

type Scope = { parent?: Environment; variables: Map<string, unknown>; tests: unknown };

/**
 * A child scope of `parent`. `new Environment(parent)` also builds a fresh `namespace` global
 * each time (it then resolves from the root anyway); a loop makes one scope per item, so this
 * skips that cost.
 */
export function childScope(parent: Environment): Environment {
  const scope = Object.create(Environment.prototype) as Scope;
  scope.parent = parent;
  scope.variables = new Map();
  scope.tests = (parent as unknown as Scope).tests;
  return scope as unknown as Environment;
}

/** The runtime value classes. */
export const R = {
  String: cls<string>(ev({ type: 'StringLiteral', value: '' })),
  Integer: cls<number>(ev({ type: 'IntegerLiteral', value: 0 })),
  Float: cls<number>(ev({ type: 'FloatLiteral', value: 0 })),
  Boolean: cls<boolean>(probeEnv.set('__probe_bool', true) as RV),
  Null: cls<null>(probeEnv.set('__probe_null', null) as RV),
  Undefined: cls<undefined>(ev(undefined)),
  Array: cls<RV[]>(ev({ type: 'ArrayLiteral', value: [] })),
  Tuple: cls<RV[]>(ev({ type: 'TupleLiteral', value: [] })),
  Object: cls<Map<string, RV>>(ev({ type: 'ObjectLiteral', value: new Map() })),
  KeywordArguments: cls<Map<string, RV>>(captured[captured.length - 1]!),
  Namespace: cls<Map<string, RV>>(namespaceFn.value([], probeEnv)),
  Function: cls<RVFunction>(fnValue),
};

for (const [name, c] of Object.entries(R)) {
  if (typeof c !== 'function') throw new Error(`@huggingface/jinja: runtime class ${name} not found`);
}

export const str = (s: string): RV => new R.String(s);
export const int = (n: number): RV => new R.Integer(n);
export const float = (n: number): RV => new R.Float(n);
export const bool = (b: boolean): RV => new R.Boolean(b);
export const none = (): RV => new R.Null(null);
export const undef = (): RV => new R.Undefined(undefined);
export const list = (items: RV[]): RV => new R.Array(items);
export const tuple = (items: RV[]): RV => new R.Tuple(items);
export const dict = (m: Map<string, RV>): RV => new R.Object(m);
export const fn = (f: RVFunction): RV => new R.Function(f);

export const isStr = (v: RV): v is RV & { value: string } => v instanceof R.String;
export const isInt = (v: RV): v is RV & { value: number } => v instanceof R.Integer;
export const isFloat = (v: RV): v is RV & { value: number } => v instanceof R.Float;
export const isBool = (v: RV): v is RV & { value: boolean } => v instanceof R.Boolean;
export const isNone = (v: RV): boolean => v instanceof R.Null;
export const isUndef = (v: RV): boolean => v instanceof R.Undefined;
export const isTuple = (v: RV): v is RV & { value: RV[] } => v instanceof R.Tuple;
export const isList = (v: RV): v is RV & { value: RV[] } => v instanceof R.Array; // lists and tuples
export const isDict = (v: RV): v is RV & { value: Map<string, RV> } => v instanceof R.Object; // incl. kwargs
export const isKwargs = (v: RV): v is RV & { value: Map<string, RV> } => v instanceof R.KeywordArguments;
export const isNamespace = (v: RV): v is RV & { value: Map<string, RV> } => v instanceof R.Namespace;
export const isFn = (v: RV): v is RV & { value: RVFunction } => v instanceof R.Function;
/** int, float or bool: Python's numbers. */
export const isNum = (v: RV): v is RV & { value: number | boolean } => isInt(v) || isFloat(v) || isBool(v);

/** Converts PyData (or plain JSON-like JavaScript data) to a runtime value. */
export function toRuntime(v: unknown): RV {
  if (v === undefined) return undef();
  if (v === null) return none();
  if (typeof v === 'boolean') return bool(v);
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) ? int(v) : float(v);
  if (typeof v === 'string') return str(v);
  if (v instanceof PyFloat) return float(v.value);
  if (v instanceof PyTuple) return tuple(v.items.map(toRuntime));
  if (Array.isArray(v)) return list(v.map(toRuntime));
  if (v instanceof Map) return dict(new Map([...v].map(([k, x]) => [String(k), toRuntime(x)])));
  if (typeof v === 'function') {
    const f = v as (...args: PyData[]) => unknown;
    return fn((args) => toRuntime(f(...args.filter((a) => !isKwargs(a)).map(fromRuntime))));
  }
  if (typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    const m = new Map<string, RV>();
    for (const [k, x] of Object.entries(v)) if (x !== undefined) m.set(k, toRuntime(x));
    return dict(m);
  }
  throw new TypeError(`cannot pass a ${Object.prototype.toString.call(v)} to a template`);
}

/** The Python type name of a runtime value, for error messages. */
export function typeName(v: RV): string {
  if (isStr(v)) return 'str';
  if (isBool(v)) return 'bool';
  if (isInt(v)) return 'int';
  if (isFloat(v)) return 'float';
  if (isNone(v)) return 'NoneType';
  if (isUndef(v)) return 'Undefined';
  if (isTuple(v)) return 'tuple';
  if (isList(v)) return 'list';
  if (isDict(v)) return 'dict';
  if (isNamespace(v)) return 'Namespace';
  if (isFn(v)) return 'function';
  return v.type;
}

/** Converts a runtime value to PyData. Throws a TypeError for values JSON cannot hold. */
export function fromRuntime(v: RV): PyData {
  if (isStr(v)) return v.value;
  if (isBool(v)) return v.value;
  if (isInt(v)) return v.value;
  if (isFloat(v)) return new PyFloat(v.value);
  if (isNone(v)) return null;
  if (isTuple(v)) return new PyTuple(v.value.map(fromRuntime));
  if (isList(v)) return v.value.map(fromRuntime);
  if (isDict(v)) return new Map([...v.value].map(([k, x]) => [k, fromRuntime(x)]));
  throw new TypeError(`Object of type ${typeName(v)} is not JSON serializable`);
}
