/**
 * The budget a chat template renders under (RELIABILITY.md §3.5): evaluation steps, `range`
 * length, macro call depth, the size of any string it builds and wall time. A template is code
 * from a model folder; whatever it does, a render ends quickly with its text or a typed
 * `TEMPLATE_BUDGET` error.
 *
 * Rendering is synchronous, so the meter of the render under way is module state: the filters
 * and methods (free functions) check string sizes through {@link checkLength} without a handle.
 */
import { XlamInvalidArgumentError } from '../../errors.js';
import { XlamTemplateError } from '../errors.js';

/** Limits of one render. Every template transformers can render within them renders here. */
export interface TemplateBudget {
  /**
   * Evaluation steps (nodes evaluated, loop items). Default 100,000: the xLAM-2 templates take
   * ~16,000 for a request at the size limits (128 tools, 2,000,000 characters of messages).
   */
  maxSteps: number;
  /** Length of a `range()`; Jinja2's sandbox (which transformers uses) has the same cap. Default 100,000. */
  maxRange: number;
  /** Nesting of macro calls. Default 256. */
  maxCallDepth: number;
  /** Length of the output and of any string built on the way, in UTF-16 units. Default 4 Mi. */
  maxOutputChars: number;
  /** Wall time of one render, in milliseconds. Default 1,000. */
  maxTimeMs: number;
}

export const DEFAULT_TEMPLATE_BUDGET: Readonly<TemplateBudget> = Object.freeze({
  maxSteps: 100_000,
  maxRange: 100_000,
  maxCallDepth: 256,
  maxOutputChars: 4 * 1024 * 1024,
  maxTimeMs: 1_000,
});

/** Template sources longer than this (UTF-16 units) are refused before parsing. */
export const MAX_TEMPLATE_SOURCE_CHARS = 1024 * 1024;

/** The steps a macro call costs on top of its nodes (measured: a call is ~10 nodes' work). */
const CALL_STEPS = 10;

/** How many steps pass between two reads of the clock. */
const CLOCK_EVERY = 64;

function budgetError(message: string): XlamTemplateError {
  return new XlamTemplateError('TEMPLATE_BUDGET', `chat template exceeded its budget: ${message}`);
}

/** Checks a budget given by a caller: every field a positive integer (wall time may be fractional). */
export function resolveBudget(partial: Partial<TemplateBudget> | undefined): TemplateBudget {
  const b = { ...DEFAULT_TEMPLATE_BUDGET, ...partial };
  for (const [k, v] of Object.entries(b)) {
    const ok = typeof v === 'number' && v > 0 && Number.isFinite(v) && (k === 'maxTimeMs' || Number.isInteger(v));
    if (!ok) {
      throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `budget.${k} must be a positive ${k === 'maxTimeMs' ? 'number' : 'integer'}, got ${String(v)}`, { field: `budget.${k}` });
    }
  }
  return b;
}

/** The counters of one render. */
export class BudgetMeter {
  private steps = 0;
  private depth = 0;
  private readonly deadline: number;

  constructor(readonly budget: TemplateBudget) {
    this.deadline = performance.now() + budget.maxTimeMs;
  }

  /** One evaluation step; reads the clock every {@link CLOCK_EVERY} steps. */
  step(): void {
    const n = ++this.steps;
    if (n > this.budget.maxSteps) throw this.stepsError();
    if (n % CLOCK_EVERY === 0) this.checkClock();
  }

  /** `n` steps at once: bulk work such as building a `range` or repeating a list, one step per item. */
  charge(n: number): void {
    this.steps += n;
    if (this.steps > this.budget.maxSteps) throw this.stepsError();
    this.checkClock();
  }

  private stepsError(): XlamTemplateError {
    return budgetError(`more than ${this.budget.maxSteps.toLocaleString('en-US')} evaluation steps`);
  }

  checkClock(): void {
    if (performance.now() > this.deadline) throw budgetError(`rendering took longer than ${this.budget.maxTimeMs} ms`);
  }

  /** Throws when a string of `n` units would exceed the output cap. */
  length(n: number, what: string): void {
    if (n > this.budget.maxOutputChars) {
      throw budgetError(`${what} would be ${n.toLocaleString('en-US')} characters, more than ${this.budget.maxOutputChars.toLocaleString('en-US')}`);
    }
  }

  /** Throws when a `range()` would have more than `maxRange` items (Jinja2's sandbox), else charges them. */
  range(n: number): void {
    if (n > this.budget.maxRange) throw budgetError(`range too big: ${n.toLocaleString('en-US')} items, the sandbox allows ${this.budget.maxRange.toLocaleString('en-US')}`);
    this.charge(n);
  }

  /** Runs a macro call one level deeper; a call (a new scope, its arguments bound) costs {@link CALL_STEPS} steps. */
  call<T>(name: string, f: () => T): T {
    if (this.depth >= this.budget.maxCallDepth) throw budgetError(`macro '${name}' nested more than ${this.budget.maxCallDepth} calls deep`);
    this.charge(CALL_STEPS);
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }
}

let active: BudgetMeter | undefined;

/** Runs `f` with `meter` as the render's meter (restoring the previous one after). */
export function withMeter<T>(meter: BudgetMeter, f: () => T): T {
  const previous = active;
  active = meter;
  try {
    return f();
  } finally {
    active = previous;
  }
}

/** The meter of the render under way, if any. */
export function currentMeter(): BudgetMeter | undefined {
  return active;
}

/** Throws `TEMPLATE_BUDGET` when the render under way may not build a string of `n` units. */
export function checkLength(n: number, what = 'a string'): void {
  active?.length(n, what);
}
