/**
 * An @huggingface/jinja `Interpreter` with Python Jinja2's runtime semantics. The library's
 * interpreter is kept; the handful of evaluation steps where it departs from Jinja2 are
 * replaced on the instance (printing, operators, attribute access, filters, tests, loops).
 */
import { Environment, Interpreter } from '@huggingface/jinja';

import { currentMeter } from './budget.js';
import { applyPyFilter, applyPyTest } from './filters.js';
import { pyGetattr, pyGetitem } from './methods.js';
import {
  iterRV, pyArith, pyCompare, pyContains, pyEq, PyRuntimeError, strRV, truthy, typeError, undefinedError,
} from './pyops.js';
import {
  bool, BreakControl, childScope, ContinueControl, dict, fn, int, isDict, isList, isStr, isTuple, isUndef, list, R, str, undef, type RV,
} from './runtime.js';

type Node = { type: string; [key: string]: unknown };
type Base = {
  evaluate(node: Node | undefined, env: Environment): RV;
  evaluateBlock(statements: Node[], env: Environment): RV;
  evaluateFor(node: Node, env: Environment): RV;
  evaluateMemberExpression(node: Node, env: Environment): RV;
  applyFilter(operand: RV, filter: Node, env: Environment): RV;
  evaluateArguments(args: Node[], env: Environment): [RV[], Map<string, RV>];
  evaluateMacro(node: Node, env: Environment): RV;
};

const PRECOMPUTED = 'XlamPrecomputedValue';
const precomputed = (value: RV): Node => ({ type: PRECOMPUTED, value });

/** Node types that produce no output of their own (or already return their rendered text). */
const STATEMENTS = new Set(['Program', 'Set', 'If', 'For', 'Macro', 'CallStatement', 'FilterStatement', 'Comment', 'Break', 'Continue']);

const loopUse = new WeakMap<Node, boolean>();

/** Whether a `for` node's body or `else` block reads the `loop` variable (then each item builds it). */
function mentionsLoop(node: Node): boolean {
  let known = loopUse.get(node);
  if (known === undefined) {
    const walk = (x: unknown): boolean => {
      if (Array.isArray(x)) return x.some(walk);
      if (!x || typeof x !== 'object' || x instanceof Map) return x instanceof Map ? [...x].some(([k, v]) => walk(k) || walk(v)) : false;
      const n = x as Node;
      if (n.type === 'Identifier' && n.value === 'loop') return true;
      return Object.values(n).some(walk);
    };
    known = walk(node.body) || walk(node.defaultBlock);
    loopUse.set(node, known);
  }
  return known;
}

/** Creates an interpreter over `env` whose evaluation follows Python Jinja2. */
export function createPyInterpreter(env: Environment): Interpreter {
  const interp = new Interpreter(env);
  const self = interp as unknown as Base & Record<string, unknown>;
  const base = Interpreter.prototype as unknown as Base;

  // Every node evaluated is a step of the render's budget, and no string it yields may exceed
  // the output cap (filters left to the library are checked here, after the fact).
  const meter = currentMeter();
  self.evaluate = function (node: Node | undefined, scope: Environment): RV {
    meter?.step();
    if (node && node.type === PRECOMPUTED) return node.value as RV;
    const v = base.evaluate.call(this, node, scope);
    if (meter && isStr(v)) meter.length(v.value.length, 'a string');
    return v;
  };

  // Output: Python str() of each expression; None prints "None", Undefined prints nothing.
  self.evaluateBlock = function (statements: Node[], scope: Environment): RV {
    let out = '';
    for (const s of statements) {
      const v = self.evaluate(s, scope);
      const piece = STATEMENTS.has(s.type) ? (isStr(v) ? v.value : '') : strRV(v);
      meter?.length(out.length + piece.length, 'the output');
      out += piece;
    }
    return str(out);
  };

  // Macro calls nest at most maxCallDepth deep.
  self.evaluateMacro = function (node: Node, scope: Environment): RV {
    const r = base.evaluateMacro.call(this, node, scope);
    if (meter) {
      const name = (node.name as { value: string }).value;
      const f = scope.lookupVariable(name) as RV & { value: (args: RV[], env: Environment) => RV };
      scope.setVariable(name, fn((args, env) => meter.call(name, () => f.value(args, env))) as Parameters<Environment['setVariable']>[1]);
    }
    return r;
  };

  self.evaluateBinaryExpression = function (node: Node, scope: Environment): RV {
    const op = (node.operator as { value: string }).value;
    const left = self.evaluate(node.left as Node, scope);
    if (op === 'and') return truthy(left) ? self.evaluate(node.right as Node, scope) : left;
    if (op === 'or') return truthy(left) ? left : self.evaluate(node.right as Node, scope);
    const right = self.evaluate(node.right as Node, scope);
    switch (op) {
      case '==': return bool(pyEq(left, right));
      case '!=': return bool(!pyEq(left, right));
      case 'in': return bool(pyContains(right, left));
      case 'not in': return bool(!pyContains(right, left));
      case '~': {
        const [a, b] = [strRV(left), strRV(right)];
        meter?.length(a.length + b.length, 'a concatenated string');
        return str(a + b);
      }
      case '<': return bool(pyCompare(left, right, op) < 0);
      case '>': return bool(pyCompare(left, right, op) > 0);
      case '<=': return bool(pyCompare(left, right, op) <= 0);
      case '>=': return bool(pyCompare(left, right, op) >= 0);
      default: return pyArith(op, left, right);
    }
  };

  self.evaluateTestExpression = function (node: Node, scope: Environment): RV {
    const operand = self.evaluate(node.operand as Node, scope);
    const result = applyPyTest((node.test as { value: string }).value, operand);
    return bool(node.negate ? !result : result);
  };

  self.applyFilter = function (operand: RV, filter: Node, scope: Environment): RV {
    let name: string | undefined;
    let args: RV[] = [];
    if (filter.type === 'Identifier') name = filter.value as string;
    else if (filter.type === 'CallExpression' && (filter.callee as Node).type === 'Identifier') {
      name = (filter.callee as Node).value as string;
      const [pos, kw] = base.evaluateArguments.call(this, filter.args as Node[], scope);
      args = pos;
      if (kw.size > 0) args.push(new R.KeywordArguments(kw));
    }
    const r = name === undefined ? undefined : applyPyFilter(name, operand, args);
    if (r !== undefined) return r;
    if (isUndef(operand)) throw undefinedError(`the filter '${name}' was applied to an undefined value`);
    return base.applyFilter.call(this, operand, filter, scope);
  };

  self.evaluateMemberExpression = function (node: Node, scope: Environment): RV {
    const object = self.evaluate(node.object as Node, scope);
    const property = node.property as Node;
    if (node.computed && property.type === 'SliceExpression') {
      if (isUndef(object)) throw undefinedError('cannot slice an undefined value');
      return base.evaluateMemberExpression.call(this, { ...node, object: precomputed(object) }, scope);
    }
    if (node.computed) return pyGetitem(object, self.evaluate(property, scope));
    if (property.type === 'IntegerLiteral') return pyGetitem(object, self.evaluate(property, scope));
    return pyGetattr(object, property.value as string);
  };

  // Loops: strings iterate by character, Undefined is empty, dicts by key, tuples unpack; each
  // item is a budget step; `else` runs when no item passed the filter (Jinja2's `for … else`).
  self.evaluateFor = function (node: Node, scope: Environment): RV {
    const select = (node.iterable as Node).type === 'SelectExpression' ? (node.iterable as Node) : undefined;
    const value = self.evaluate((select ? select.lhs : node.iterable) as Node, scope);
    if (!isList(value) && !isStr(value) && !isUndef(value) && !isDict(value)) throw typeError(`'${value.type}' object is not iterable`);
    const loopvar = node.loopvar as Node;
    let xs = iterRV(value);
    if (loopvar.type === 'TupleLiteral') xs = xs.map((x) => (isTuple(x) ? list([...x.value]) : isStr(x) ? list(iterRV(x)) : x));
    const bind = (target: Environment, x: RV) => {
      if (loopvar.type === 'Identifier') {
        target.setVariable(loopvar.value as string, x as Parameters<Environment['setVariable']>[1]);
        return;
      }
      if (loopvar.type !== 'TupleLiteral') throw typeError(`invalid loop variable: ${loopvar.type}`);
      const names = loopvar.value as Node[];
      if (!isList(x)) throw typeError(`cannot unpack non-iterable ${x.type} object`);
      if (names.length !== x.value.length) {
        throw new PyRuntimeError('ValueError', names.length > x.value.length
          ? `not enough values to unpack (expected ${names.length}, got ${x.value.length})`
          : `too many values to unpack (expected ${names.length})`);
      }
      names.forEach((n, j) => {
        if (n.type !== 'Identifier') throw typeError(`cannot unpack into a ${n.type}`);
        target.setVariable(n.value as string, x.value[j]! as Parameters<Environment['setVariable']>[1]);
      });
    };
    let items = xs;
    if (select) {
      items = xs.filter((x) => {
        meter?.step();
        const s = childScope(scope);
        bind(s, x);
        return truthy(self.evaluate(select.test as Node, s));
      });
    }
    if (items.length === 0) return self.evaluateBlock((node.defaultBlock as Node[] | undefined) ?? [], childScope(scope));
    const usesLoop = mentionsLoop(node);
    let out = '';
    for (let i = 0; i < items.length; i++) {
      meter?.step();
      // A fresh scope per item: `set` in the body neither leaks out nor survives to the next item.
      const itemScope = childScope(scope);
      if (usesLoop) itemScope.setVariable('loop', dict(new Map<string, RV>([
        ['index', int(i + 1)], ['index0', int(i)], ['revindex', int(items.length - i)], ['revindex0', int(items.length - i - 1)],
        ['first', bool(i === 0)], ['last', bool(i === items.length - 1)], ['length', int(items.length)],
        ['previtem', i > 0 ? items[i - 1]! : undef()], ['nextitem', i < items.length - 1 ? items[i + 1]! : undef()],
      ])) as Parameters<Environment['setVariable']>[1]);
      bind(itemScope, items[i]!);
      try {
        const piece = (self.evaluateBlock(node.body as Node[], itemScope) as RV & { value: string }).value;
        meter?.length(out.length + piece.length, 'a loop\'s output');
        out += piece;
      } catch (err) {
        if (err instanceof ContinueControl) continue;
        if (err instanceof BreakControl) break;
        throw err;
      }
    }
    return str(out);
  };

  return interp;
}
