/**
 * An @huggingface/jinja `Interpreter` with Python Jinja2's runtime semantics. The library's
 * interpreter is kept; the handful of evaluation steps where it departs from Jinja2 are
 * replaced on the instance (printing, operators, attribute access, filters, tests, loops).
 */
import { Environment, Interpreter } from '@huggingface/jinja';

import { applyPyFilter, applyPyTest } from './filters.js';
import { pyGetattr, pyGetitem } from './methods.js';
import {
  iterRV, pyArith, pyCompare, pyContains, pyEq, strRV, truthy, typeError, undefinedError,
} from './pyops.js';
import { bool, isDict, isList, isStr, isTuple, isUndef, list, R, str, type RV } from './runtime.js';

type Node = { type: string; [key: string]: unknown };
type Base = {
  evaluate(node: Node | undefined, env: Environment): RV;
  evaluateBlock(statements: Node[], env: Environment): RV;
  evaluateFor(node: Node, env: Environment): RV;
  evaluateMemberExpression(node: Node, env: Environment): RV;
  applyFilter(operand: RV, filter: Node, env: Environment): RV;
  evaluateArguments(args: Node[], env: Environment): [RV[], Map<string, RV>];
};

const PRECOMPUTED = 'XlamPrecomputedValue';
const precomputed = (value: RV): Node => ({ type: PRECOMPUTED, value });
const ITERATION = 'XlamLoopIteration';

/** Node types that produce no output of their own (or already return their rendered text). */
const STATEMENTS = new Set(['Program', 'Set', 'If', 'For', 'Macro', 'CallStatement', 'FilterStatement', 'Comment', 'Break', 'Continue']);

/** Creates an interpreter over `env` whose evaluation follows Python Jinja2. */
export function createPyInterpreter(env: Environment): Interpreter {
  const interp = new Interpreter(env);
  const self = interp as unknown as Base & Record<string, unknown>;
  const base = Interpreter.prototype as unknown as Base;

  self.evaluate = function (node: Node | undefined, scope: Environment): RV {
    if (node && node.type === PRECOMPUTED) return node.value as RV;
    // A loop body: each iteration gets a fresh scope, so `set` inside the body neither leaks out
    // of the loop nor survives into the next iteration (Jinja2's loop frames).
    if (node && node.type === ITERATION) return self.evaluateBlock(node.body as Node[], new Environment(scope));
    return base.evaluate.call(this, node, scope);
  };

  // Output: Python str() of each expression; None prints "None", Undefined prints nothing.
  self.evaluateBlock = function (statements: Node[], scope: Environment): RV {
    let out = '';
    for (const s of statements) {
      const v = self.evaluate(s, scope);
      if (STATEMENTS.has(s.type)) {
        if (isStr(v)) out += v.value;
      } else {
        out += strRV(v);
      }
    }
    return str(out);
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
      case '~': return str(strRV(left) + strRV(right));
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

  // Loops: strings iterate by character, Undefined is empty, dicts by key, tuples unpack.
  self.evaluateFor = function (node: Node, scope: Environment): RV {
    const select = (node.iterable as Node).type === 'SelectExpression' ? (node.iterable as Node) : undefined;
    const value = self.evaluate((select ? select.lhs : node.iterable) as Node, scope);
    let items: RV;
    if (isDict(value)) items = value;
    else {
      if (!isList(value) && !isStr(value) && !isUndef(value)) throw typeError(`'${value.type}' object is not iterable`);
      let xs = iterRV(value);
      if ((node.loopvar as Node).type === 'TupleLiteral') {
        xs = xs.map((x) => (isTuple(x) ? list([...x.value]) : isStr(x) ? list(iterRV(x)) : x));
      }
      items = list(xs);
    }
    const iterable = select ? { ...select, lhs: precomputed(items) } : precomputed(items);
    const body = [{ type: ITERATION, body: node.body }];
    return base.evaluateFor.call(this, { ...node, iterable, body }, scope);
  };

  return interp;
}
