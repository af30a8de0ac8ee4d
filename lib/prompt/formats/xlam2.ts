/**
 * `xlam2`: template-driven. The conversation and the tools go to the model's own chat template,
 * exactly as transformers' `apply_chat_template(messages, tools=[OpenAI tool dicts])` after
 * vLLM's parsing of tool-call arguments.
 */
import type { FormatInput } from './types.js';
import { toTemplateTool } from './tools.js';

export function renderXlam2(input: FormatInput): string {
  return input.template.render({
    messages: input.messages,
    tools: input.tools === null ? null : input.tools.map(toTemplateTool),
    addGenerationPrompt: input.addGenerationPrompt,
    templateName: input.templateName,
    context: input.context,
    now: input.now,
    budget: input.budget,
  });
}
