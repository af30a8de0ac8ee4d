// Tool-call grammars, byte by byte: the xLAM-2 bare array, the v1 {"tool_calls": [...]} and the
// v1-r {"thought": ..., "tool_calls": [...]} envelopes under every tool choice ('required',
// { name }, 'auto', 'none'); names limited to the tools (or the one named by toolChoice),
// arguments to that tool's schema, keys in the formats' order; tools from normalizeTools (JSON
// Schema and zod). xLAM-2 plain text ('auto', 'none') is checked against the tool-call parser
// itself on random texts, and random answers drawn from the 'auto' grammars all parse cleanly.
import t from 'tap';
import { z } from 'zod';

import { compileGrammar, createMatcher, matches, printGbnf, toolCallGrammar, type GbnfGrammar } from '../dist/lib/grammar/index.js';
import { parseToolCalls } from '../dist/lib/parse/parse.js';
import { normalizeTools } from '../dist/lib/tools/normalize.js';
import { tool } from '../dist/lib/tools/tool.js';
import { checkCases } from './helpers/grammar.js';
import { prng } from './helpers/prng.js';

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

t.test('xlam2 required: one or more calls in a bare array', async (t) => {
  const g = toolCallGrammar(tools, { format: 'xlam2', toolChoice: 'required' });
  checkCases(t, g, [`[${W}]`, `[${W}, ${A}, ${N}, ${Q}]`, `[${A},${W}]`, `[\n  ${W},\n  ${A}\n]`, '[{"name":"get_weather","arguments":{"city":"P","unit":"celsius"}}]', ` [${W}]`, `\n  [${W}]`], [
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
    ['It is sunny.', 0],
    [`  [${W}]`, 1],
  ]);
  t.match(printGbnf(g), /^root ::= ws calls\n/, 'root is the call list');
});

t.test('toolChoice { name }: only that tool, in every format', async (t) => {
  const g = toolCallGrammar(tools, { format: 'xlam2', toolChoice: { name: 'get_weather' } });
  checkCases(t, g, [`[${W}]`, `[${W}, ${W}]`], [
    [`[${A}]`, 11],
    [`[${N}]`, 22],
    [`[${W}, ${Q}]`, W.length + 13],
    ['[]', 1],
    ['Sunny.', 0],
  ]);
  const fc = toolCallGrammar(tools, { format: 'xlam1-fc', toolChoice: { name: 'math.add' } });
  checkCases(t, fc, [`{"tool_calls": [${A}]}`, `{"tool_calls": [${A}, ${A}]}`], [
    [`{"tool_calls": [${W}]}`, 26],
    ['{"tool_calls": []}', 16],
  ]);
  const r = toolCallGrammar(tools, { format: 'xlam1-r', toolChoice: { name: 'search' } });
  checkCases(t, r, [`{"thought": "look it up", "tool_calls": [${Q}]}`], [
    [`{"thought": "", "tool_calls": [${W}]}`, 41],
    ['{"thought": "", "tool_calls": []}', 31],
  ]);
  t.throws(() => toolCallGrammar(tools, { toolChoice: { name: 'nope' } }), { name: 'XlamInvalidArgumentError', message: /no tool named "nope"; the tools are: "get_weather", "math.add"/ });
});

t.test('xlam2 auto: a valid call list, or plain text that cannot start a call', async (t) => {
  const g = toolCallGrammar(tools, { format: 'xlam2', toolChoice: 'auto' });
  checkCases(
    t,
    g,
    [
      `[${W}]`,
      `[${W}, ${A}]`,
      ` [${Q}]`,
      '',
      'It is sunny in Paris.',
      '\n\nIt is sunny.',
      'The answer is [1], see {"name": "x"}.',
      '{"temperature": 21}',
      '{"nam',
      'I would call ```get_weather``` here.',
      'Some code:\n```python\nprint([1])\n```',
      'a <tool_call> b',
      'a [TOOL_CALLS] b',
      '<think>Paris</think> It is sunny.',
      'Wait [TOOL_CA',
    ],
    [
      ['[x', 1],
      ['[]', 1],
      ['[1, 2]', 1],
      ['[TOOL_CALLS] hi', 1],
      ['[{"name": "get_time", "arguments": {}}]', 15],
      [' [{"name": "get_weather", "arguments": {"city": 5}}]', 48],
      ['\n\n[', 2],
      ['{"name": "get_weather", "arguments": {}}', 6],
      ['{ "arguments": {}}', 12],
      ['Sure: ```json\n[{"name"', 21],
      ['Sure: ```\n{"arguments"', 21],
      ['```json []```', 9],
      ['a <tool_call>{"name"', 19],
      ['a [TOOL_CALLS] []', 16],
      ['<think>Paris</think>\n[', 21],
      [`[${W}] and more`, W.length + 2],
    ],
  );
});

t.test('xlam2 none: plain text only', async (t) => {
  const g = toolCallGrammar(tools, { format: 'xlam2', toolChoice: 'none' });
  checkCases(t, g, ['', 'I cannot call a tool for that.', '{"city": "Paris"}', 'Totals: [3, 4]'], [
    [`[${W}]`, 0],
    [` [${W}]`, 1],
    [W, 6],
    ['Here ```json\n[{"arguments"', 25],
  ]);
  t.equal(printGbnf(toolCallGrammar([], { format: 'xlam2', toolChoice: 'auto' })), printGbnf(g), "'auto' without tools is 'none'");
  t.notMatch(printGbnf(g), /call/, 'no call rules');
});

t.test('xlam1-fc: {"tool_calls": [...]}, empty under auto and none', async (t) => {
  const required = toolCallGrammar(tools, { format: 'xlam1-fc' });
  checkCases(t, required, [`{"tool_calls": [${W}]}`, `{\n    "tool_calls": [\n    ${W},\n    ${A}\n    ]\n}`, ` {"tool_calls": [${W}]}`], [
    [`[${W}]`, 0],
    ['{"tool_calls": []}', 16],
    [`{"thought": "", "tool_calls": [${W}]}`, 3],
    [`{"tool_calls": [${W}], "thought": ""}`, W.length + 17],
  ]);
  const auto = toolCallGrammar(tools, { format: 'xlam1-fc', toolChoice: 'auto' });
  checkCases(t, auto, ['{"tool_calls": []}', '{"tool_calls": [ ]}', '{"tool_calls": [\n]}', `{"tool_calls": [${W}, ${N}]}`], [
    ['It is sunny.', 0],
    ['{"tool_calls": [}', 16],
    [`{"tool_calls": [${W},]}`, W.length + 17],
    ['{"tool_calls": [{"name": "get_time"', 30],
    ['{"tool_calls": []', 17],
  ]);
  const none = toolCallGrammar(tools, { format: 'xlam1-fc', toolChoice: 'none' });
  checkCases(t, none, ['{"tool_calls": []}', ' {"tool_calls": [ ]}'], [
    [`{"tool_calls": [${W}]}`, 16],
    ['[]', 0],
    ['No.', 0],
  ]);
});

t.test('xlam1-r: {"thought": "...", "tool_calls": [...]}, empty under auto and none', async (t) => {
  const required = toolCallGrammar(tools, { format: 'xlam1-r' });
  checkCases(t, required, [`{"thought": "", "tool_calls": [${W}]}`, `{"thought": "The user wants the weather 🌦 in \\"Paris\\".\\nCall it.", "tool_calls": [${W}, ${A}]}`], [
    [`{"tool_calls": [${W}]}`, 3],
    [`{"thought": "a\nb", "tool_calls": [${W}]}`, 14],
    [`{"thought": 1, "tool_calls": [${W}]}`, 12],
    ['{"thought": "", "tool_calls": []}', 31],
  ]);
  const auto = toolCallGrammar(tools, { format: 'xlam1-r', toolChoice: 'auto' });
  checkCases(t, auto, ['{"thought": "No tool fits.", "tool_calls": []}', `{"thought": "Weather.", "tool_calls": [${W}]}`], [
    ['{"thought": "", "tool_calls": [{"name": "nope"', 41],
    ['{"tool_calls": []}', 3],
    ['No tool fits.', 0],
  ]);
  const none = toolCallGrammar(tools, { format: 'xlam1-r', toolChoice: 'none' });
  checkCases(t, none, ['{"thought": "I will answer directly: 42.", "tool_calls": []}'], [
    [`{"thought": "", "tool_calls": [${W}]}`, 31],
    ['{"thought": "x"}', 15],
  ]);
});

t.test('bad options are rejected with clear errors', async (t) => {
  t.throws(() => toolCallGrammar([], { toolChoice: 'required' }), { name: 'XlamInvalidArgumentError', message: /needs at least one tool/ });
  t.throws(() => toolCallGrammar(tools, { format: 'json' as 'xlam2' }), { name: 'XlamInvalidArgumentError', message: /format: expected one of xlam2, xlam1-fc, xlam1-r/ });
  t.throws(() => toolCallGrammar(tools, { toolChoice: 'sometimes' as 'auto' }), {
    name: 'XlamInvalidArgumentError',
    message: /toolChoice: expected "auto", "none", "required" or \{ name \}, got "sometimes"/,
  });
});

// Fragments that make the parser's openers likely: wrappers, keys, brackets, whitespace.
const FRAGMENTS = [
  '[', ']', '{', '}', '"', ':', ',', ' ', '\n', '\t', '\u00a0', '\v', 'x', 'é', '😀', '1',
  '"name"', '"arguments"', '"tool_calls"', 'name', 'json', '```', '```json', '`', '<', '>', '/',
  '<tool_call>', '</tool_call>', '[TOOL_CALLS]', '[TOOL', '</think>', '</thi', 'think>', '<think>',
  '[{"name"', '[{"arguments"', '{"name"', '{ "arguments"', '[]', '[ ]', '{"nam', '"argum',
];

function randomText(rnd: () => number, max: number): string {
  let s = '';
  const n = Math.floor(rnd() * max);
  for (let i = 0; i < n; i++) s += FRAGMENTS[Math.floor(rnd() * FRAGMENTS.length)];
  return s;
}

t.test('xLAM-2 plain text is exactly what the parser reads as text (no block), with no [ where a bare call list may start', async (t) => {
  const g = compileGrammar(toolCallGrammar(tools, { format: 'xlam2', toolChoice: 'none' }));
  const rnd = prng(7);
  let text = 0;
  let mismatches = 0;
  for (let i = 0; i < 4000; i++) {
    const s = randomText(rnd, 14);
    const parsed = parseToolCalls(s, undefined, { format: 'xlam2' });
    const plain = parsed.calls.length === 0 && parsed.text === s.trim() && !/^\s*\[/.test(s) && !/<\/think>\s*\[/.test(s);
    if (plain) text++;
    if (matches(g, s) !== plain && mismatches++ < 10) t.fail(`${JSON.stringify(s)}: grammar ${!plain ? 'accepts' : 'rejects'} it, the parser reads ${plain ? 'plain text' : 'a block'}`);
  }
  t.equal(mismatches, 0, '4000 random texts: the grammar and the parser agree');
  t.ok(text > 500 && text < 3500, `both kinds are well represented (${text} plain)`);
});

/** A random complete document of `g` that begins with `first`, built from the pieces. */
function randomDocument(g: ReturnType<typeof compileGrammar>, rnd: () => number, pieces: readonly string[], first: string): string | undefined {
  let m = createMatcher(g);
  for (const b of new TextEncoder().encode(first)) if (!m.accept(b)) return undefined;
  let out = first;
  for (let step = 0; step < 60; step++) {
    if (m.isComplete() && rnd() < 0.15) return out;
    let moved = false;
    for (let attempt = 0; attempt < 12 && !moved; attempt++) {
      const piece = pieces[Math.floor(rnd() * pieces.length)]!;
      const c = m.clone();
      if ([...new TextEncoder().encode(piece)].every((b) => c.accept(b))) {
        m = c;
        out += piece;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return m.isComplete() ? out : undefined;
}

t.test('random answers of the auto grammars parse into valid calls or plain text', async (t) => {
  const rnd = prng(11);
  const pieces = [
    ...FRAGMENTS, W, A, N, Q, `[${W}`, `, ${A}`, ' It is sunny.', '{"tool_calls": [', '{"thought": "', 'hm', '", "tool_calls": [', ']}',
    '{"name": "get_weather", "arguments": {', '"city": "Rome"', '{"name": "search", "arguments": {"query": "q"', ', "limit": 2',
  ];
  for (const format of ['xlam2', 'xlam1-fc', 'xlam1-r'] as const) {
    const g = compileGrammar(toolCallGrammar(tools, { format, toolChoice: 'auto' }) as GbnfGrammar);
    let docs = 0;
    let withCalls = 0;
    for (let i = 0; i < 3000 && (docs < 150 || withCalls < 40); i++) {
      // Half of the answers start like a call.
      const first = rnd() < 0.5 ? (format === 'xlam2' ? `[${W}` : format === 'xlam1-fc' ? '{"tool_calls": [' : '{"thought": "hm", "tool_calls": [') : '';
      const s = randomDocument(g, rnd, pieces, first);
      if (s === undefined) continue;
      docs++;
      const r = parseToolCalls(s, tools, { format });
      const bad = r.calls.filter((c) => c.error);
      if (bad.length > 0) t.fail(`${format}: ${JSON.stringify(s)} gives an invalid call: ${bad[0]!.error!.message}`);
      if (r.calls.length > 0) withCalls++;
      if (format === 'xlam2' && r.calls.length === 0 && r.text !== s.trim()) t.fail(`xlam2: ${JSON.stringify(s)} has a block without calls`);
    }
    t.ok(docs >= 100 && withCalls >= 20 && docs - withCalls >= 20, `${format}: ${docs} random answers, ${withCalls} with calls, all valid`);
  }
});
