/**
 * One prompt render as plain data (what crosses to the render worker) and the function that
 * performs it, on whichever thread runs it.
 */
import type { ToolDefinition } from '../../tools/types.js';
import { ControlTokenText, renderGuarded, type GuardedPrompt, type SpecialTokenTextMode } from '../caller-text.js';
import { renderPrompt } from '../formats/index.js';
import type { PromptFormat, Xlam1Options } from '../formats/types.js';
import type { TemplateBudget } from '../jinja/budget.js';
import { ChatTemplate, type SpecialTokens } from '../template.js';

/** A chat template as data: its sources by name, and the special tokens it renders with. */
export interface TemplateData {
  /** `[name, source]`; one unnamed template is `[['default', source]]` with `named` false. */
  sources: Array<[string, string]>;
  named: boolean;
  specialTokens: SpecialTokens;
}

/** Everything one render needs. */
export interface RenderJob {
  template: TemplateData;
  format: PromptFormat;
  /** Validated messages. */
  messages: unknown;
  /** Normalised tools, or null. */
  tools: readonly ToolDefinition[] | null;
  addGenerationPrompt: boolean;
  templateName?: string;
  context?: Record<string, unknown>;
  /** The time `strftime_now` reads, in ms since the epoch; default: the time of the render. */
  nowMs?: number;
  xlam1?: Xlam1Options;
  budget: TemplateBudget;
  /** The text of the tokenizer's special tokens (none: no injection defence is needed). */
  controlTokens: readonly string[];
  specialTokenText: SpecialTokenTextMode;
}

/** The data of a {@link ChatTemplate}. */
export function templateData(t: ChatTemplate): TemplateData {
  return { sources: [...t.templates], named: t.named, specialTokens: { ...t.specialTokens } };
}

const templates = new Map<string, ChatTemplate>();
const finders = new Map<string, ControlTokenText>();

function cached<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let v = cache.get(key);
  if (v === undefined) {
    if (cache.size >= 16) cache.delete(cache.keys().next().value!);
    cache.set(key, (v = make()));
  }
  return v;
}

/** Renders a job (compiled templates are kept for the next job with the same sources). */
export function runRenderJob(job: RenderJob): GuardedPrompt {
  const { template: t } = job;
  const template = cached(templates, JSON.stringify(t), () =>
    new ChatTemplate(t.named ? Object.fromEntries(t.sources) : (t.sources[0]?.[1] ?? ''), t.specialTokens));
  const control = cached(finders, JSON.stringify(job.controlTokens), () => new ControlTokenText(job.controlTokens));
  const now = job.nowMs === undefined ? undefined : () => new Date(job.nowMs!);
  return renderGuarded(
    (data) => renderPrompt({
      format: job.format,
      template,
      messages: data.messages,
      tools: data.tools as readonly ToolDefinition[] | null,
      addGenerationPrompt: job.addGenerationPrompt,
      templateName: job.templateName,
      context: job.context,
      now,
      xlam1: job.xlam1,
      budget: job.budget,
    }),
    { messages: job.messages, tools: job.tools },
    control,
    job.specialTokenText,
  );
}
