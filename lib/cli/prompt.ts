import { parseArgs } from 'node:util';

import { PROMPT_FORMATS, PromptRenderer, type PromptFormat } from '../prompt/formats/index.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { normalizeTools, type ToolInput } from '../tools/normalize.js';
import type { ToolDefinition } from '../tools/types.js';
import { helpText, MESSAGES_HELP, readConversation, TOOLS_HELP, required, UsageError, type Command } from './common.js';

/**
 * `xlam prompt`: the prompt text and token ids of a conversation for a model folder (chat
 * template, tokenizer and config only; no weights loaded), with the generation prompt added.
 * `--messages` holds an array of OpenAI-style messages, or a chat-completions request body
 * (`messages`, and `tools` unless `--tools` is given); `--tools` an array of OpenAI-shaped or bare
 * tools.
 */
export const prompt: Command = {
  usage: `xlam prompt --model DIR --messages M.json [--tools T.json] [--format ${PROMPT_FORMATS.join('|')}]
                [--template-name NAME] [--json]`,
  help: helpText(
    'Prints the prompt text and token ids of a conversation, with the generation prompt added (no weights loaded).',
    [
      ['--model DIR', 'the model folder (chat template, tokenizer and config are enough); required'],
      ['--messages M.json', `${MESSAGES_HELP}; required`],
      ['--tools T.json', `${TOOLS_HELP} (default: none)`],
      ['--format F', `the prompt format, one of ${PROMPT_FORMATS.join(', ')} (default: detected from the folder)`],
      ['--template-name NAME', "for a model with several chat templates, the one to use (default: tool_use with tools, else default)"],
      ['--json', 'print {"text", "ids"} as one JSON line (default: the format, the text and the ids)'],
    ],
    'xlam prompt --model ./xLAM-2-1b-fc-r --messages chat.json --tools tools.json --json',
  ),
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        model: { type: 'string' },
        messages: { type: 'string' },
        tools: { type: 'string' },
        format: { type: 'string' },
        'template-name': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    });
    const model = required(values.model, 'model', 'DIR');
    const messagesFile = required(values.messages, 'messages', 'M.json');
    const format = values.format;
    if (format !== undefined && !PROMPT_FORMATS.includes(format as PromptFormat)) {
      throw new UsageError(`--format must be one of ${PROMPT_FORMATS.join(', ')}`);
    }
    const { messages, rawTools } = await readConversation(messagesFile, values.tools);
    const tools: ToolDefinition[] | undefined = rawTools ? normalizeTools(rawTools as ToolInput[]) : undefined;
    const renderer = await PromptRenderer.fromDir(model, { format: format as PromptFormat | undefined });
    const text = renderer.render({ messages, tools, addGenerationPrompt: true, templateName: values['template-name'] });
    const ids = (await Tokenizer.fromDir(model)).encode(text, { addSpecialTokens: false });
    if (values.json) {
      process.stdout.write(JSON.stringify({ text, ids }) + '\n');
    } else {
      process.stdout.write(`format: ${renderer.format} (${renderer.formatReason})\n${text}\nids (${ids.length}): ${ids.join(' ')}\n`);
    }
  },
};
