/**
 * `xlam1-fc`: the function-calling models' prompt (xLAM-1b-fc-r, xLAM-7b-fc-r). The task is ONE
 * user message of four blocks, built as the model cards' `build_prompt` builds it:
 *
 * ```python
 * prompt = f"[BEGIN OF TASK INSTRUCTION]\n{task_instruction}\n[END OF TASK INSTRUCTION]\n\n"
 * prompt += f"[BEGIN OF AVAILABLE TOOLS]\n{json.dumps(tools)}\n[END OF AVAILABLE TOOLS]\n\n"
 * prompt += f"[BEGIN OF FORMAT INSTRUCTION]\n{format_instruction}\n[END OF FORMAT INSTRUCTION]\n\n"
 * prompt += f"[BEGIN OF QUERY]\n{query}\n[END OF QUERY]\n\n"
 * ```
 *
 * (Salesforce/xLAM-1b-fc-r model card; tools converted by `convert_to_xlam_tool`), then wrapped
 * by the model's chat template with `add_generation_prompt=True`. These models have no
 * multi-turn or tool-result format: the conversation is one user message, optionally after a
 * system message (given to the template as such).
 */
import { XlamInvalidArgumentError } from '../../errors.js';
import type { ToolDefinition } from '../../tools/types.js';
import { pyJsonDumps } from '../jinja/python.js';
import type { ChatMessage } from '../types.js';
import { XLAM1_FC_FORMAT_INSTRUCTION, XLAM1_FC_TASK_INSTRUCTION } from './xlam1-instructions.js';
import { toXlamTool } from './tools.js';
import type { FormatInput, Xlam1Options } from './types.js';

/** The four-block user message of xlam1-fc for `query` and the tools (written in xLAM format). */
export function buildXlam1FcContent(query: string, tools: readonly ToolDefinition[], options: Xlam1Options = {}): string {
  const task = options.taskInstruction ?? XLAM1_FC_TASK_INSTRUCTION;
  const format = options.formatInstruction ?? XLAM1_FC_FORMAT_INSTRUCTION;
  let prompt = `[BEGIN OF TASK INSTRUCTION]\n${task}\n[END OF TASK INSTRUCTION]\n\n`;
  prompt += `[BEGIN OF AVAILABLE TOOLS]\n${pyJsonDumps(tools.map(toXlamTool))}\n[END OF AVAILABLE TOOLS]\n\n`;
  prompt += `[BEGIN OF FORMAT INSTRUCTION]\n${format}\n[END OF FORMAT INSTRUCTION]\n\n`;
  prompt += `[BEGIN OF QUERY]\n${query}\n[END OF QUERY]\n\n`;
  return prompt;
}

export function renderXlam1Fc(input: FormatInput): string {
  const msgs = input.messages;
  const system = msgs[0]?.role === 'system' ? msgs[0] : undefined;
  const rest = system ? msgs.slice(1) : msgs;
  if (rest.length !== 1 || rest[0]!.role !== 'user') {
    throw new XlamInvalidArgumentError('INVALID_ARGUMENT',
      'xlam1-fc has no multi-turn or tool-result format: give one user message, optionally after a system message ' +
      '(use the xlam1-r or xlam2 format for conversations)');
  }
  const content = buildXlam1FcContent((rest[0] as { content: string }).content, input.tools ?? [], input.xlam1);
  const messages: ChatMessage[] = [...(system ? [system] : []), { role: 'user', content }];
  return input.template.render({
    messages, addGenerationPrompt: input.addGenerationPrompt, templateName: input.templateName, context: input.context, now: input.now, budget: input.budget,
  });
}
