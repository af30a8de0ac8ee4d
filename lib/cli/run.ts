import { parseArgs } from 'node:util';

import { Engine } from '../engine.js';
import type { ChatMessage } from '../prompt/types.js';
import type { GenerateRequest } from '../serving/request.js';
import type { ToolInput } from '../tools/normalize.js';
import { helpText, intFlag, MESSAGES_HELP, MODEL_FLAG, readConversation, TOOLS_HELP, required, UsageError, type Command, type FlagHelp } from './common.js';

const SAMPLING_FLAGS = {
  'max-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'top-k': { type: 'string' },
  seed: { type: 'string' },
} as const;

const SAMPLING_HELP: readonly FlagHelp[] = [
  ['--max-tokens N', 'the most tokens to generate (default 256)'],
  ['--temperature T', "sampling temperature; 0 is greedy (default: the model's generation_config.json when it sets do_sample, else 0)"],
  ['--top-p P', 'nucleus sampling: sample among the most likely tokens whose probabilities add up to P; 1 is off (default: generation_config.json when it sets do_sample, else 1)'],
  ['--top-k K', 'sample among the K most likely tokens; 0 is off (default: generation_config.json when it sets do_sample, else 0)'],
  ['--seed S', 'seed of the request\'s random stream, for repeatable sampling (default: random)'],
];

function num(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number`);
  return n;
}

/** Sampling options from the shared flags. */
export function samplingFlags(values: { [K in keyof typeof SAMPLING_FLAGS]?: string }): Partial<GenerateRequest> {
  const out: Partial<GenerateRequest> = { maxTokens: intFlag(values['max-tokens'], 'max-tokens', 256) };
  const temperature = num(values.temperature, 'temperature');
  const topP = num(values['top-p'], 'top-p');
  if (temperature !== undefined) out.temperature = temperature;
  if (topP !== undefined) out.topP = topP;
  if (values['top-k'] !== undefined) out.topK = intFlag(values['top-k'], 'top-k', 0);
  if (values.seed !== undefined) out.seed = intFlag(values.seed, 'seed', 0);
  return out;
}

/** The tool-choice flags of `run` (with --tools) and `call`. */
const TOOL_FLAGS = { 'tool-choice': { type: 'string' }, unconstrained: { type: 'boolean', default: false } } as const;
const TOOL_HELP: FlagHelp[] = [
  ['--tool-choice C', "auto | required | none | a tool's name: whether the model may answer in text, must call, may not call, or must call that tool (default: auto)"],
  ['--unconstrained', 'sample freely instead of constraining the answer to the tool-call grammar (default: constrained)'],
];

/** toolChoice / constrained from the tool flags. */
function toolFlags(values: { 'tool-choice'?: string; unconstrained?: boolean }): Partial<GenerateRequest> {
  const out: Partial<GenerateRequest> = {};
  const c = values['tool-choice'];
  if (c !== undefined) out.toolChoice = c === 'auto' || c === 'required' || c === 'none' ? c : { name: c };
  if (values.unconstrained) out.constrained = false;
  return out;
}

/** `xlam run`: generate from a prompt or a conversation (with tools), printing the text. */
export const run: Command = {
  usage: `xlam run --model DIR (--prompt TEXT | --messages FILE) [--tools FILE [--tool-choice C] [--unconstrained]]
                [--allow-special-tokens] [--stream] [--max-tokens N] [--temperature T] [--top-p P] [--top-k K] [--seed S]`,
  help: helpText(
    'Generates from a prompt or a conversation (rendered with the model\'s prompt format and tools) and prints the text.',
    [
      MODEL_FLAG,
      ['--prompt TEXT', 'a plain text prompt (tokenized, no chat template; special-token text such as <|im_start|> is ordinary text); this or --messages'],
      ['--messages FILE', MESSAGES_HELP],
      ['--tools FILE', `${TOOLS_HELP} (default: none)`],
      ...TOOL_HELP,
      ['--allow-special-tokens', 'let special-token text in --prompt or the messages become those tokens (transformers\' default; only for text you wrote) (default: off)'],
      ['--stream', 'print text as it is generated, each tool call when complete, then [finishReason] and usage (default: the text at the end)'],
      ...SAMPLING_HELP,
    ],
    "xlam run --model ./xLAM-2-1b-fc-r --messages chat.json --tools tools.json --stream",
  ),
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        model: { type: 'string' },
        prompt: { type: 'string' },
        messages: { type: 'string' },
        tools: { type: 'string' },
        stream: { type: 'boolean', default: false },
        'allow-special-tokens': { type: 'boolean', default: false },
        ...TOOL_FLAGS,
        ...SAMPLING_FLAGS,
      },
      strict: true,
    });
    const model = required(values.model, 'model', 'DIR');
    if ((values.prompt === undefined) === (values.messages === undefined)) throw new UsageError('give --prompt TEXT or --messages FILE');
    const request: GenerateRequest = { ...samplingFlags(values), allowSpecialTokens: values['allow-special-tokens'] };
    if (values.prompt !== undefined) {
      request.prompt = values.prompt;
    } else {
      const { messages, rawTools } = await readConversation(values.messages!, values.tools);
      request.messages = messages as ChatMessage[];
      if (rawTools) Object.assign(request, { tools: rawTools as ToolInput[] }, toolFlags(values));
    }
    if (!request.tools && (values['tool-choice'] !== undefined || values.unconstrained)) throw new UsageError('--tool-choice and --unconstrained go with tools');
    const engine = await Engine.load(model);
    try {
      if (!values.stream) {
        const r = await engine.generate(request);
        process.stdout.write(r.text + '\n');
        return;
      }
      for await (const ev of engine.stream(request)) {
        if (ev.type === 'text') process.stdout.write(ev.delta);
        else if (ev.type === 'tool_call_end') process.stdout.write(`\n[tool call] ${JSON.stringify({ name: ev.call.name, arguments: ev.call.arguments, error: ev.call.error })}\n`);
        else if (ev.type === 'done') process.stdout.write(`\n[${ev.finishReason}] ${JSON.stringify(ev.usage)}\n`);
      }
    } finally {
      await engine.close();
    }
  },
};

/** `xlam call`: the tool calls the model makes for a conversation. */
export const call: Command = {
  usage: `xlam call --model DIR --messages FILE --tools FILE [--tool-choice C] [--unconstrained] [--json]
                [--max-tokens N] [--temperature T] [--top-p P] [--top-k K] [--seed S]`,
  help: helpText(
    'Asks the model for tool calls and prints them parsed and validated against the tools, with the other text, finishReason and usage.',
    [
      MODEL_FLAG,
      ['--messages FILE', `${MESSAGES_HELP}; required`],
      ['--tools FILE', `${TOOLS_HELP}; required`],
      ...TOOL_HELP,
      ['--json', 'print one JSON line (default: indented JSON)'],
      ...SAMPLING_HELP,
    ],
    'xlam call --model ./xLAM-2-1b-fc-r --messages chat.json --tools tools.json --json',
  ),
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { model: { type: 'string' }, messages: { type: 'string' }, tools: { type: 'string' }, json: { type: 'boolean', default: false }, ...TOOL_FLAGS, ...SAMPLING_FLAGS },
      strict: true,
    });
    const model = required(values.model, 'model', 'DIR');
    const { messages, rawTools } = await readConversation(required(values.messages, 'messages', 'FILE'), required(values.tools, 'tools', 'FILE'));
    const engine = await Engine.load(model);
    try {
      const r = await engine.callTools(messages as ChatMessage[], (rawTools ?? []) as ToolInput[], { ...samplingFlags(values), ...toolFlags(values) });
      const out = { calls: r.calls.map(({ id, name, arguments: a, error }) => ({ id, name, arguments: a, ...(error ? { error } : {}) })), text: r.text, finishReason: r.finishReason, usage: r.usage };
      process.stdout.write(values.json ? JSON.stringify(out) + '\n' : `${JSON.stringify(out, null, 2)}\n`);
    } finally {
      await engine.close();
    }
  },
};
