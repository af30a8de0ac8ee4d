/**
 * The prompt entry point: a conversation and tools in, the exact prompt text of an xLAM model out.
 *
 * @example
 * ```ts
 * const prompter = await PromptRenderer.fromDir('/models/xLAM-2-1b-fc-r');
 * const text = prompter.render({ messages: [{ role: 'user', content: 'Weather in Paris?' }], tools });
 * ```
 */
import { XlamInvalidArgumentError } from '../../errors.js';
import type { ToolDefinition } from '../../tools/types.js';
import { validateMessages } from '../messages.js';
import type { TemplateBudget } from '../jinja/budget.js';
import { ChatTemplate } from '../template.js';
import { detectPromptFormatOfDir, type DetectedFormat } from './detect.js';
import { checkToolDefinitions } from './tools.js';
import { PROMPT_FORMATS, type FormatInput, type PromptFormat, type Xlam1Options } from './types.js';
import { renderXlam1Fc } from './xlam1-fc.js';
import { renderXlam1R } from './xlam1-r.js';
import { renderXlam2 } from './xlam2.js';

/** Options of {@link renderPrompt}. */
export interface RenderPromptOptions {
  /** The prompt format. */
  format: PromptFormat;
  /** The model's chat template: a {@link ChatTemplate}, or a template source string. */
  template: ChatTemplate | string;
  /** The conversation, OpenAI-shaped (validated; bad messages throw `INVALID_ARGUMENT`). */
  messages: unknown;
  /** Normalised tools (see `normalizeTools`); absent: none. */
  tools?: readonly ToolDefinition[] | null;
  /** Append the assistant header so the model answers next. Defaults to true. */
  addGenerationPrompt?: boolean;
  /** For a model with several named templates: which one. */
  templateName?: string;
  /** Extra template variables (`enable_thinking`, `date_string`, …). */
  context?: Record<string, unknown>;
  /** The clock of the template's `strftime_now`. */
  now?: () => Date;
  /** Limits of the render (defaults: `DEFAULT_TEMPLATE_BUDGET`). */
  budget?: Partial<TemplateBudget>;
  /** Options of the xlam1-fc and xlam1-r formats. */
  xlam1?: Xlam1Options;
}

const RENDERERS: Record<PromptFormat, (input: FormatInput) => string> = {
  xlam2: renderXlam2,
  'xlam1-fc': renderXlam1Fc,
  'xlam1-r': renderXlam1R,
};

/**
 * Renders a prompt in one of the three xLAM formats. Throws `XlamInvalidArgumentError`
 * (`INVALID_ARGUMENT`) for bad messages, tools or format, and `XlamTemplateError` when the
 * template cannot be rendered or raises (as transformers would).
 */
export function renderPrompt(options: RenderPromptOptions): string {
  if (!PROMPT_FORMATS.includes(options.format)) {
    throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `unknown prompt format '${String(options.format)}' (use ${PROMPT_FORMATS.join(', ')})`);
  }
  const template = typeof options.template === 'string' ? new ChatTemplate(options.template) : options.template;
  if (!(template instanceof ChatTemplate)) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', 'template must be a ChatTemplate or a string');
  return RENDERERS[options.format]({
    template,
    messages: validateMessages(options.messages),
    tools: options.tools == null ? null : checkToolDefinitions(options.tools),
    addGenerationPrompt: options.addGenerationPrompt ?? true,
    templateName: options.templateName,
    context: options.context,
    now: options.now,
    budget: options.budget,
    xlam1: options.xlam1,
  });
}

/** Options of {@link PromptRenderer.fromDir}. */
export interface PromptRendererOptions {
  /** Overrides the detected format. */
  format?: PromptFormat;
}

/** A model folder's prompt format and chat template, ready to render conversations. */
export class PromptRenderer {
  private constructor(
    /** The prompt format in use. */
    readonly format: PromptFormat,
    /** Why that format: detection's reason, or "option". */
    readonly formatReason: string,
    /** The model's chat template. */
    readonly template: ChatTemplate,
  ) {}

  /**
   * Reads a model folder (tokenizer_config.json, chat_template.jinja, config.json; no weights)
   * and picks the format (see `detectPromptFormat`) unless `options.format` is given.
   */
  static async fromDir(dir: string, options: PromptRendererOptions = {}): Promise<PromptRenderer> {
    const template = await ChatTemplate.fromDir(dir);
    let detected: DetectedFormat;
    if (options.format !== undefined) {
      if (!PROMPT_FORMATS.includes(options.format)) {
        throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `unknown prompt format '${String(options.format)}' (use ${PROMPT_FORMATS.join(', ')})`);
      }
      detected = { format: options.format, reason: 'option' };
    } else {
      const first = template.templates.get('default') ?? [...template.templates.values()][0];
      detected = detectPromptFormatOfDir(dir, first);
    }
    return new PromptRenderer(detected.format, detected.reason, template);
  }

  /** Renders a conversation; see {@link renderPrompt} (`format` and `template` are this model's). */
  render(options: Omit<RenderPromptOptions, 'format' | 'template'>): string {
    return renderPrompt({ ...options, format: this.format, template: this.template });
  }
}

export type { PromptFormat, Xlam1Options } from './types.js';
export { PROMPT_FORMATS } from './types.js';
