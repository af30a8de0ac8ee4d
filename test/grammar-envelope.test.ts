// Tool-call grammars, byte by byte: the xLAM-2 bare array, the v1 {"tool_calls": [...]} and the
// v1-r {"thought": ..., "tool_calls": [...]} envelopes; names limited to the tools (or the one
// named by toolChoice), arguments to that tool's schema, keys in the formats' order; tools from
// normalizeTools (JSON Schema and zod).
import t from 'tap';
import { z } from 'zod';

import { printGbnf, toolCallGrammar } from '../dist/lib/grammar/index.js';
import { normalizeTools } from '../dist/lib/tools/normalize.js';
import { tool } from '../dist/lib/tools/tool.js';
import { checkCases } from './helpers/grammar.js';

const tools = normalizeTools([
  {
    type: 'function',
    function: {
      name: 'get_weather',
      parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { enum: ['celsius', 'fahrenheit'] } }, required: ['city'] },
    },
  },
  { name: 'math.add', parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] } },
  { name: 'get_weather_now', description: 'a name that extends another' },
  tool({ name: 'search', parameters: z.object({ query: z.string().min(1), limit: z.number().int().optional() }) }),
]);

const W = '{"name": "get_weather", "arguments": {"city": "Paris"}}';
const A = '{"name": "math.add", "arguments": {"a": 1, "b": 2.5}}';
const N = '{"name": "get_weather_now", "arguments": {}}';
const Q = '{"name": "search", "arguments": {"query": "東京", "limit": 3}}';

t.test('xlam2: one or more calls in a bare array', async (t) => {
  const g = toolCallGrammar(tools, { format: 'xlam2', toolChoice: 'required' });
  checkCases(t, g, [`[${W}]`, `[${W}, ${A}, ${N}, ${Q}]`, `[${A},${W}]`, `[\n  ${W},\n  ${A}\n]`, '[{"name":"get_weather","arguments":{"city":"P","unit":"celsius"}}]'], [
    ['[]', 1],
    ['[{"name": "get_time", "arguments": {}}]', 15],
    ['[{"name": "get_weather", "arguments": {"city": 5}}]', 47],
    ['[{"name": "get_weather", "arguments": {}}]', 39],
    ['[{"name": "math.add", "arguments": {"a": 1}}]', 42],
    ['[{"arguments": {}, "name": "get_weather_now"}]', 3],
    ['[{"name": "get_weather_now"}]', 27],
    ['[{"name": "get_weather_now", "arguments": {"x": 1}}]', 43],
    ['[{"name": "search", "arguments": {"query": ""}}]', 44],
    ['[{"name": "search", "arguments": {"query": "x", "limit": 1.5}}]', 58],
    [`[${W}] `, W.length + 2],
    [`${W}`, 0],
    [`[${W},]`, W.length + 2],
    ['{"tool_calls": []}', 0],
  ]);
  t.match(printGbnf(g), /^root ::= calls\n/, 'root is the call list');
});

t.test('toolChoice { name }: only that tool', async (t) => {
  const g = toolCallGrammar(tools, { format: 'xlam2', toolChoice: { name: 'get_weather' } });
  checkCases(t, g, [`[${W}]`, `[${W}, ${W}]`], [
    [`[${A}]`, 11],
    [`[${N}]`, 22],
    [`[${W}, ${Q}]`, W.length + 13],
  ]);
  t.throws(() => toolCallGrammar(tools, { toolChoice: { name: 'nope' } }), { name: 'XlamInvalidArgumentError', message: /no tool named "nope"; the tools are: "get_weather", "math.add"/ });
});

t.test('xlam1-fc: {"tool_calls": [...]}', async (t) => {
  const g = toolCallGrammar(tools, { format: 'xlam1-fc' });
  checkCases(t, g, [`{"tool_calls": [${W}]}`, `{\n    "tool_calls": [\n    ${W},\n    ${A}\n    ]\n}`], [
    [`[${W}]`, 0],
    ['{"tool_calls": []}', 16],
    [`{"thought": "", "tool_calls": [${W}]}`, 3],
    [`{"tool_calls": [${W}], "thought": ""}`, W.length + 17],
  ]);
});

t.test('xlam1-r: {"thought": "...", "tool_calls": [...]}', async (t) => {
  const g = toolCallGrammar(tools, { format: 'xlam1-r' });
  checkCases(t, g, [`{"thought": "", "tool_calls": [${W}]}`, `{"thought": "The user wants the weather 🌦 in \\"Paris\\".\\nCall it.", "tool_calls": [${W}, ${A}]}`], [
    [`{"tool_calls": [${W}]}`, 3],
    [`{"thought": "a\nb", "tool_calls": [${W}]}`, 14],
    [`{"thought": 1, "tool_calls": [${W}]}`, 12],
    ['{"thought": "", "tool_calls": []}', 31],
  ]);
});

t.test('bad options are rejected with clear errors', async (t) => {
  t.throws(() => toolCallGrammar([], { toolChoice: 'required' }), { name: 'XlamInvalidArgumentError', message: /needs at least one tool/ });
  t.throws(() => toolCallGrammar(tools, { format: 'json' as 'xlam2' }), { name: 'XlamInvalidArgumentError', message: /format: expected one of xlam2, xlam1-fc, xlam1-r/ });
  t.throws(() => toolCallGrammar(tools, { toolChoice: 'auto' as 'required' }), { name: 'XlamInvalidArgumentError', message: /toolChoice: expected "required" or \{ name \}/ });
});
