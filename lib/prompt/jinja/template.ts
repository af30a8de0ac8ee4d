/**
 * A Jinja template rendered as transformers renders chat templates: Python Jinja2 in an
 * ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and loop controls, a
 * `tojson` filter that is `json.dumps(ensure_ascii=False)`, and the globals `raise_exception`
 * and `strftime_now` (transformers/utils/chat_template_utils.py, `_compile_jinja_template`).
 */
import { Environment, parse, tokenize } from '@huggingface/jinja';

import { XlamTemplateError } from '../errors.js';
import { BudgetMeter, currentMeter, MAX_TEMPLATE_SOURCE_CHARS, resolveBudget, withMeter, type TemplateBudget } from './budget.js';
import { createPyInterpreter } from './interpreter.js';
import { preprocessTemplate } from './lexer.js';
import { bindArgs } from './methods.js';
import { PyRuntimeError, strRV, typeError } from './pyops.js';
import { strftime } from './strftime.js';
import { dict, fn, int, isBool, isInt, isKwargs, isStr, list, str, toRuntime, type RV } from './runtime.js';

/** Options of {@link JinjaTemplate.render}. */
export interface JinjaRenderOptions {
  /** The clock `strftime_now` reads; defaults to the current time. */
  now?: () => Date;
  /** Limits of the render (defaults: {@link DEFAULT_TEMPLATE_BUDGET}). */
  budget?: Partial<TemplateBudget>;
}

type Program = ReturnType<typeof parse>;

function pyRange(args: RV[]): RV {
  const ns = args.filter((a) => !isKwargs(a)).map((a) => {
    if (!isInt(a) && !isBool(a)) throw typeError(`'${a.type}' object cannot be interpreted as an integer`);
    return Number(a.value);
  });
  if (ns.length < 1 || ns.length > 3) throw typeError(`range expected 1 to 3 arguments, got ${ns.length}`);
  const [start, stop, step] = ns.length === 1 ? [0, ns[0]!, 1] : [ns[0]!, ns[1]!, ns[2] ?? 1];
  if (step === 0) throw new PyRuntimeError('ValueError', 'range() arg 3 must not be zero');
  currentMeter()?.range(Math.max(0, Math.ceil((stop - start) / step)));
  const out: RV[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(int(i));
  return list(out);
}

/** A compiled template. */
export class JinjaTemplate {
  private readonly program: Program;

  /**
   * Compiles `source`. Throws {@link XlamTemplateError} with code `TEMPLATE_SYNTAX` when Jinja2
   * would reject it or @huggingface/jinja cannot parse it.
   */
  constructor(readonly source: string) {
    if (source.length > MAX_TEMPLATE_SOURCE_CHARS) {
      throw new XlamTemplateError('TEMPLATE_TOO_LARGE',
        `chat template is ${source.length.toLocaleString('en-US')} characters long, more than ${MAX_TEMPLATE_SOURCE_CHARS.toLocaleString('en-US')}`);
    }
    try {
      this.program = parse(tokenize(preprocessTemplate(source), {}));
    } catch (err) {
      throw new XlamTemplateError('TEMPLATE_SYNTAX', `chat template does not parse: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Renders with `context` as the template's variables (JSON-like data; `Map`s keep key order,
   * `PyFloat`s stay floats). Throws {@link XlamTemplateError}: `TEMPLATE_RAISE` when the
   * template calls `raise_exception`, `TEMPLATE_BUDGET` when it exceeds its budget,
   * `TEMPLATE_RENDER` for any other failure.
   */
  render(context: Record<string, unknown>, options: JinjaRenderOptions = {}): string {
    const env = new Environment();
    const set = (name: string, v: RV) => env.setVariable(name, v as Parameters<Environment['setVariable']>[1]);
    for (const [k, v] of [['true', true], ['false', false], ['none', null], ['True', true], ['False', false], ['None', null]] as const) {
      set(k, toRuntime(v));
    }
    set('range', fn(pyRange));
    set('dict', fn((args) => {
      const kw = args.find(isKwargs);
      return dict(new Map(kw ? kw.value : []));
    }));
    set('raise_exception', fn((args) => {
      const [message] = bindArgs('raise_exception', args, [['message']]);
      throw new XlamTemplateError('TEMPLATE_RAISE', strRV(message!));
    }));
    set('strftime_now', fn((args) => {
      const [format] = bindArgs('strftime_now', args, [['format']]);
      if (!isStr(format!)) throw typeError('strftime() argument 1 must be str');
      return str(strftime((options.now ?? (() => new Date()))(), format.value));
    }));
    for (const [k, v] of Object.entries(context)) {
      if (v !== undefined) set(k, toRuntime(v));
    }
    const meter = new BudgetMeter(resolveBudget(options.budget));
    try {
      const result = withMeter(meter, () => createPyInterpreter(env).run(this.program)) as unknown as RV;
      return (result as RV & { value: string }).value;
    } catch (err) {
      if (err instanceof XlamTemplateError) throw err;
      if (err instanceof RangeError) {
        // The JavaScript stack or string length ran out: the template recursed or grew without bound.
        throw new XlamTemplateError('TEMPLATE_BUDGET', `chat template exceeded its budget: ${err.message}`, { cause: err });
      }
      throw new XlamTemplateError('TEMPLATE_RENDER', `chat template failed: ${(err as Error).message}`, { cause: err });
    }
  }
}

