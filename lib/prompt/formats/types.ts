/**
 * What every prompt format is given.
 */
import type { ToolDefinition } from '../../tools/types.js';
import type { TemplateBudget } from '../jinja/budget.js';
import type { ChatTemplate } from '../template.js';
import type { ChatMessage } from '../types.js';

/**
 * The three xLAM prompt formats:
 * - `xlam2`: the model's own chat template with the conversation and tools (xLAM-2 fc-r models,
 *   and any template-driven model);
 * - `xlam1-fc`: one user message of four blocks (task, tools in xLAM format, format, query),
 *   wrapped by the model's template (xLAM-1b-fc-r, xLAM-7b-fc-r);
 * - `xlam1-r`: the xLAM client prompt with `[BEGIN OF HISTORY STEPS]` and `thought`, sent as one
 *   user message through the model's template (xLAM-7b-r, xLAM-8x7b-r, xLAM-8x22b-r).
 */
export type PromptFormat = 'xlam2' | 'xlam1-fc' | 'xlam1-r';
export const PROMPT_FORMATS: readonly PromptFormat[] = ['xlam2', 'xlam1-fc', 'xlam1-r'];

/** Options of the v1 formats. */
export interface Xlam1Options {
  /** Replaces the published task instruction. */
  taskInstruction?: string;
  /** Replaces the published format instruction. */
  formatInstruction?: string;
  /**
   * xlam1-r: how a leading system message is written before the blocks. `'repr'` (default)
   * writes the message dict's Python repr, `{'role': 'system', 'content': '…'}`, as the published
   * client does (`f"{system_message}\n\n"` on the message dict); `'content'` writes its text.
   */
  systemMessage?: 'repr' | 'content';
}

/** The input of a format's renderer. Messages are already validated. */
export interface FormatInput {
  template: ChatTemplate;
  messages: readonly ChatMessage[];
  tools: readonly ToolDefinition[] | null;
  addGenerationPrompt: boolean;
  templateName?: string;
  context?: Record<string, unknown>;
  now?: () => Date;
  budget?: Partial<TemplateBudget>;
  xlam1?: Xlam1Options;
}
