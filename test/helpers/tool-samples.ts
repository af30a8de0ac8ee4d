// Tools and model outputs shared by the parse tests: every accepted form, text around calls,
// unicode (surrogate pairs, CJK, combining marks), nested arguments, several calls, and outputs
// that are malformed, truncated or merely look like calls.
import { z } from 'zod';

import { tool } from '../../dist/lib/index.js';

export const weather = tool({
  name: 'get_weather',
  description: 'Current weather of a city.',
  parameters: z.object({ city: z.string(), unit: z.enum(['c', 'f']).default('c') }),
});

export const add = {
  type: 'function',
  function: {
    name: 'math.add',
    description: 'Adds two numbers.',
    parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
  },
} as const;

export const search = {
  name: 'search',
  parameters: {
    type: 'object',
    properties: { query: { type: 'string' }, filters: { type: 'object' }, tags: { type: 'array', items: { type: 'string' } } },
    required: ['query'],
  },
} as const;

export const tools = [weather, add, search] as const;

const W = '{"name": "get_weather", "arguments": {"city": "Paris"}}';
const A = '{"name": "math.add", "arguments": {"a": 5, "b": 5.0}}';
const NESTED =
  '{"name": "search", "arguments": {"query": "caf\\u00e9 \\"quoted\\" \\\\ 東京 😀 e\u0301", "filters": {"range": [1, -2.5e3, {"deep": [true, false, null]}], "empty": {}, "list": []}, "tags": ["a", "\\ud83d\\ude00"]}}';

/** name → model output. */
export const samples: Record<string, string> = {
  'bare array': `[${W}]`,
  'bare array, several calls, whitespace around': `  \n[${W}, ${A},\n ${NESTED}]\n\n`,
  'bare array, compact': '[{"name":"math.add","arguments":{"a":1,"b":2}}]',
  'bare array, arguments before name': '[{"arguments": {"a": 1, "b": 2}, "name": "math.add"}]',
  'bare array, pretty-printed': `[\n  {\n    "name": "search",\n    "arguments": {\n      "query": "x",\n      "tags": [\n        "y"\n      ]\n    }\n  }\n]`,
  'empty array': '[]',
  'fence json': `Sure, here you go:\n\`\`\`json\n[${W}]\n\`\`\`\nAnything else?`,
  'fence plain': `\`\`\`\n[${A}, ${NESTED}]\n\`\`\``,
  'fence without newline': `\`\`\`json[${A}]\`\`\``,
  '[TOOL_CALLS]': `[TOOL_CALLS][${W}, ${A}]`,
  '[TOOL_CALLS] after text': `Let me check. [TOOL_CALLS] [${NESTED}]\nDone.`,
  '<tool_call> wrappers': `<tool_call>\n${W}\n</tool_call>\n<tool_call>\n${A}\n</tool_call>`,
  '<tool_call> with array': `I will call it.\n<tool_call>[${W}]</tool_call> ok`,
  'after </think>': `<think>The user wants [weather] for Paris; use \`get_weather\`.</think>\n\n[${W}]`,
  'after </think>, with text after': `<think>…</think>[${A}] 完成`,
  'v1 tool_calls': `{"tool_calls": [${W}, ${A}]}`,
  'v1 thought': `{"thought": "The user asks for the weather 🌦 in \\"Paris\\".\\nCall it.", "tool_calls": [${W}]}`,
  'v1 thought after tool_calls': `{"tool_calls": [${A}], "thought": "adding \\ud83d\\ude00"}`,
  'v1 no calls': '{"thought": "I cannot help with that.", "tool_calls": []}',
  'v1 fenced': `\`\`\`\n{"tool_calls": [${A}]}\n\`\`\``,
  'single call object': W,
  'single call in fence': `\`\`\`json\n${NESTED}\n\`\`\``,
  'plain text': 'The weather in Paris is sunny, 22 °C. 😀 東京も晴れ。',
  'text that looks like openers': 'Use [brackets], {braces}, `code`, <b>tags</b>, [TOOL and <tool_ and ``` fences.',
  'code fence that is not a call': 'Example:\n```python\nprint([1, 2])\n```\n```json\n{"answer": 42}\n```\n```json\n[1, 2]\n```',
  'array that is not a call': '[1, 2, 3] are numbers',
  'object that is not a call': '{"answer": 42}',
  'text before a bare array': `Here: [${W}]`,
  'unknown tool and invalid arguments': `[{"name": "get_time", "arguments": {}}, {"name": "get_weather", "arguments": {"city": 42}}, {"name": "math.add", "arguments": {"a": "1"}}]`,
  'arguments as a string': '[{"name": "math.add", "arguments": "{\\"a\\": 1, \\"b\\": 2}"}]',
  'missing arguments': '[{"name": "search"}]',
  'missing name': '[{"name": "math.add", "arguments": {"a": 1, "b": 2}}, {"arguments": {"a": 1}}]',
  'name not a string': '[{"name": "get_weather", "arguments": {"city": "x"}}, {"name": 7, "arguments": {}}]',
  'duplicate keys': '[{"name": "math.add", "name": "other", "arguments": {"a": 1, "b": 2}}]',
  'extra keys': '[{"name": "math.add", "id": "x", "arguments": {"a": 1, "b": 2}, "type": "function"}]',
  'extra closing brace': `[${W}}] trailing`,
  'broken arguments JSON': '[{"name": "math.add", "arguments": {"a": 1,, "b": 2}}] rest',
  'bad escape': '[{"name": "search", "arguments": {"query": "\\q"}}]',
  'control character in a string': '[{"name": "search", "arguments": {"query": "a\tb"}}]',
  'leading zero': '[{"name": "math.add", "arguments": {"a": 01, "b": 2}}]',
  'truncated in arguments': '[{"name": "search", "arguments": {"query": "東京 😀", "tags": ["a", "b',
  'truncated after a call': `[${W}, {"name": "math.a`,
  'truncated opener': 'Calling now [TOOL_CA',
  'unterminated <tool_call>': `<tool_call>${W} and more`,
  'unclosed fence': `\`\`\`json\n[${A}]\nthe end`,
  'lone surrogates and astral text': 'a\ud83d b 😀😀 \ude00 c 𝄞',
  'v1 tool_calls not a list': '{"tool_calls": null, "thought": "nothing to do"}',
  'call object with a thought': '{"name": "math.add", "thought": "hm", "arguments": {"a": 1, "b": 2}}',
  'non-object item': '[{"name": "math.add", "arguments": {"a": 1, "b": 2}}, 5]',
  'only </think>': '<think>nothing to call</think>',
  '[TOOL_CALLS] then text': '[TOOL_CALLS] none needed',
  'partial closing fence': `\`\`\`json\n[${A}]\n\`\``,
  'whitespace only': ' \n\t ',
};

/** Samples that the xLAM-2-only or v1-only formats read differently. */
export const formatSamples = ['v1 tool_calls', 'v1 thought', 'single call object', '<tool_call> wrappers', 'bare array'];
