/**
 * `xlam1-r`: the general models' prompt (xLAM-7b-r, xLAM-8x7b-r, xLAM-8x22b-r), as the official
 * client builds it — SalesforceAIResearch/xLAM, xLAM/client/xLAM.py, `xLAMChatCompletion`:
 *
 * ```python
 * if messages[0]['role'] == 'system': system_message = messages[0]; messages = messages[1:]
 * xlam_tools = self.convert_to_xlam_tool(tools) if tools else []
 * query = next((msg['content'] for msg in reversed(messages) if msg['role'] == 'user'), "")
 * conversation_history = self.build_conversation_history(messages)
 * # build_prompt:
 * prompt = f"{system_message}\n\n" if system_message else ""
 * prompt += f"[BEGIN OF TASK INSTRUCTION]\n{task_instruction}\n[END OF TASK INSTRUCTION]\n\n"
 * prompt += f"[BEGIN OF AVAILABLE TOOLS]\n{json.dumps(tools)}\n[END OF AVAILABLE TOOLS]\n\n"
 * prompt += f"[BEGIN OF FORMAT INSTRUCTION]\n{format_instruction}\n[END OF FORMAT INSTRUCTION]\n\n"
 * prompt += f"[BEGIN OF QUERY]\n{query}\n[END OF QUERY]\n\n"
 * if len(conversation_history) > 0: prompt += build_conversation_history_prompt(conversation_history)
 * # = f"\n[BEGIN OF HISTORY STEPS]\n{json.dumps(steps)}\n[END OF HISTORY STEPS]\n"
 * inputs = [{'role': 'user', 'content': prompt}]   # through the model's chat template
 * ```
 *
 * where each non-tool message becomes a step `{"step_id", "thought": msg.get('content', ''),
 * "tool_calls": [msg['tool_calls']] if present else [], "next_observation": "",
 * "user_input": content if user else ""}` and a tool message's content becomes the previous
 * step's `next_observation`. Every quirk is kept (the user message is both the query and a
 * history step; tool calls are nested in a list, arguments as given).
 */
import { XlamInvalidArgumentError } from '../../errors.js';
import type { ToolDefinition } from '../../tools/types.js';
import { pyJsonDumps, pyRepr, pyStr, type PyData } from '../jinja/python.js';
import { toPyData } from '../messages.js';
import type { ChatMessage } from '../types.js';
import { XLAM1_R_FORMAT_INSTRUCTION, XLAM1_R_TASK_INSTRUCTION } from './xlam1-instructions.js';
import { toXlamTool } from './tools.js';
import type { FormatInput, Xlam1Options } from './types.js';

/** The history steps of `build_conversation_history` (system message already removed). */
export function buildXlam1RHistory(messages: readonly ChatMessage[]): Array<Map<string, PyData>> {
  const history: Array<Map<string, PyData>> = [];
  messages.forEach((msg, i) => {
    const m = toPyData(msg) as Map<string, PyData>;
    if (msg.role === 'tool') {
      const last = history[history.length - 1];
      if (!last) {
        throw new XlamInvalidArgumentError('INVALID_ARGUMENT',
          `messages[${i}]: a tool message must follow another message in the xlam1-r format (the client would raise IndexError)`);
      }
      last.set('next_observation', m.get('content') ?? null);
      return;
    }
    history.push(new Map<string, PyData>([
      ['step_id', history.length + 1],
      ['thought', m.has('content') ? m.get('content')! : ''],
      ['tool_calls', m.has('tool_calls') ? [m.get('tool_calls')!] : []],
      ['next_observation', ''],
      ['user_input', msg.role === 'user' ? m.get('content')! : ''],
    ]));
  });
  return history;
}

/**
 * The xlam1-r prompt text (before the chat template): system message, the four blocks (tools
 * written in xLAM format) and the history steps. `messages` must be valid (`validateMessages`).
 */
export function buildXlam1RContent(messages: readonly ChatMessage[], tools: readonly ToolDefinition[], options: Xlam1Options = {}): string {
  const system = messages[0]?.role === 'system' ? messages[0] : undefined;
  const rest = system ? messages.slice(1) : messages;
  const lastUser = [...rest].reverse().find((m) => m.role === 'user');
  const query = lastUser ? pyStr(toPyData(lastUser.content)) : '';
  const history = buildXlam1RHistory(rest);
  const task = options.taskInstruction ?? XLAM1_R_TASK_INSTRUCTION;
  const format = options.formatInstruction ?? XLAM1_R_FORMAT_INSTRUCTION;

  let prompt = '';
  if (system) {
    prompt = (options.systemMessage ?? 'repr') === 'repr' ? `${pyRepr(toPyData(system))}\n\n` : system.content ? `${system.content}\n\n` : '';
  }
  prompt += `[BEGIN OF TASK INSTRUCTION]\n${task}\n[END OF TASK INSTRUCTION]\n\n`;
  prompt += `[BEGIN OF AVAILABLE TOOLS]\n${pyJsonDumps(tools.map(toXlamTool))}\n[END OF AVAILABLE TOOLS]\n\n`;
  prompt += `[BEGIN OF FORMAT INSTRUCTION]\n${format}\n[END OF FORMAT INSTRUCTION]\n\n`;
  prompt += `[BEGIN OF QUERY]\n${query}\n[END OF QUERY]\n\n`;
  if (history.length > 0) prompt += `\n[BEGIN OF HISTORY STEPS]\n${pyJsonDumps(history)}\n[END OF HISTORY STEPS]\n`;
  return prompt;
}

export function renderXlam1R(input: FormatInput): string {
  const content = buildXlam1RContent(input.messages, input.tools ?? [], input.xlam1);
  return input.template.render({
    messages: [{ role: 'user', content }],
    addGenerationPrompt: input.addGenerationPrompt,
    templateName: input.templateName,
    context: input.context,
    now: input.now,
    budget: input.budget,
  });
}
