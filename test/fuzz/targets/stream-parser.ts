// Fuzz target: the streaming tool-call parser. An input is a model output; its last byte picks
// the answer format and how the text is cut. Property: pushing the text in chunks (cut at UTF-16
// code units, so surrogate pairs split too) gives the same text and calls as pushing it whole,
// every call has one start and one end and its deltas spell its raw arguments; and nothing throws.
import { z } from 'zod';

import { ToolCallStreamParser } from '../../../lib/parse/stream.js';
import type { ToolCallStreamEvent } from '../../../lib/parse/types.js';
import { tool } from '../../../lib/tools/tool.js';
import type { FuzzTarget } from './target.js';

const tools = [
  tool({ name: 'get_weather', description: 'Weather', parameters: z.object({ city: z.string(), unit: z.enum(['c', 'f']).default('c') }) }),
  { type: 'function', function: { name: 'math.add', parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] } } },
  { name: 'search', parameters: { type: 'object', properties: { query: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['query'] } },
] as const;
const FORMATS = ['auto', 'xlam2', 'xlam1-fc', 'xlam1-r'] as const;

interface Outcome { text: string; calls: string[] }

function collect(events: ToolCallStreamEvent<typeof tools>[], into: Outcome, open: Map<number, string>): void {
  for (const e of events) {
    if (e.type === 'text') {
      if (e.delta === '') throw new Error('empty text delta');
      into.text += e.delta;
    } else if (e.type === 'tool_call_start') {
      if (open.has(e.index)) throw new Error(`second start of call ${e.index}`);
      open.set(e.index, '');
    } else if (e.type === 'tool_call_delta') {
      const args = open.get(e.index);
      if (args === undefined) throw new Error(`delta of call ${e.index} outside start/end`);
      open.set(e.index, args + e.argumentsDelta);
    } else if (e.type === 'tool_call_end') {
      const args = open.get(e.index);
      if (args === undefined) throw new Error(`end of call ${e.index} without a start`);
      if (args !== e.call.rawArguments) throw new Error(`deltas of call ${e.index} spell ${JSON.stringify(args)}, rawArguments is ${JSON.stringify(e.call.rawArguments)}`);
      open.delete(e.index);
      into.calls.push(JSON.stringify(e.call));
    }
  }
}

function parse(pieces: string[], format: (typeof FORMATS)[number]): Outcome {
  const parser = new ToolCallStreamParser(tools, { format, generateId: (i) => `id${i}` });
  const out: Outcome = { text: '', calls: [] };
  const open = new Map<number, string>();
  for (const p of pieces) collect(parser.push(p), out, open);
  collect(parser.end(), out, open);
  if (open.size) throw new Error(`calls never ended: ${[...open.keys()]}`);
  return out;
}

const W = '{"name": "get_weather", "arguments": {"city": "Paris"}}';
const A = '{"name": "math.add", "arguments": {"a": 5, "b": 5.0}}';
const S = '{"name": "search", "arguments": {"query": "caf\\u00e9 \\"q\\" \\\\ 東京 😀", "tags": ["a", "\\ud83d\\ude00"]}}';

export const target: FuzzTarget = {
  maxLen: 8 * 1024,
  json: false,
  dict: ['[', ']', '{', '}', '"name"', '"arguments"', '"tool_calls"', '"thought"', '```', '```json', '[TOOL_CALLS]', '<tool_call>',
    '</tool_call>', '<think>', '</think>', '"get_weather"', '"math.add"', '"search"', '"city"', '\\u', '\\ud83d', '😀', ': ', ', ', '\n'],
  seeds() {
    return [`[${W}]`, `  \n[${W}, ${A},\n ${S}]\n\n`, '[]', `Sure:\n\`\`\`json\n[${W}]\n\`\`\`\nMore?`, `[TOOL_CALLS][${W}, ${A}]`,
      `<tool_call>\n${W}\n</tool_call>\n<tool_call>\n${A}\n</tool_call>`, `<think>use [x]</think>\n\n[${W}]`, `{"tool_calls": [${W}, ${A}]}`,
      `{"thought": "call \\"it\\"", "tool_calls": [${S}]}`, W, 'Plain text 😀 東京 [brackets] {braces} `code` <b>',
      '[{"name": "get_time", "arguments": {}}, {"name": "get_weather", "arguments": {"city": 42}}]',
      '[{"name": "math.add", "arguments": "{\\"a\\": 1}"}]', `[${W}}] trailing`, '[{"name": "math.add", "arguments": {"a": 1,, "b": 2}}] x',
      '[{"name": "search", "arguments": {"query": "x"', `\`\`\`\n{"tool_calls": [${A}]}\n\`\`\``].map((s, i) => Buffer.concat([Buffer.from(s), Buffer.from([i])]));
  },
  run(data) {
    if (data.length === 0) return;
    const ctl = data[data.length - 1]!;
    const text = data.subarray(0, data.length - 1).toString('utf8');
    const format = FORMATS[ctl & 3]!;
    const whole = parse([text], format);
    // Chunks of 1..max code units, sizes from a generator seeded by the control byte.
    const max = [1, 2, 3, 7][(ctl >> 2) & 3]!;
    let x = ctl * 2654435761;
    const pieces: string[] = [];
    for (let i = 0; i < text.length;) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const n = 1 + ((x >>> 16) % max);
      pieces.push(text.slice(i, i + n));
      i += n;
    }
    const chunked = parse(pieces, format);
    if (chunked.text !== whole.text) throw new Error(`text differs: whole ${JSON.stringify(whole.text)}, chunked ${JSON.stringify(chunked.text)}`);
    if (chunked.calls.join('\n') !== whole.calls.join('\n')) throw new Error(`calls differ:\nwhole   ${whole.calls.join('\n')}\nchunked ${chunked.calls.join('\n')}`);
  },
  expected: () => false,
};
