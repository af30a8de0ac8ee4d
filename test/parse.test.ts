// parseToolCalls on every accepted output form, validation against zod and JSON-Schema tools,
// errors reported per call, ids, formats; the lossless JSON parser; and the type-level test of
// typed calls (test/types/tool-calls.ts, compiled with tsc).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import t from 'tap';
import { z } from 'zod';

import { JsonNumber, parseJson, parseToolCalls, stringifyJson, tool, XlamInvalidArgumentError } from '../dist/lib/index.js';
import { repoRoot } from './helpers/fixtures.js';
import { samples, tools } from './helpers/tool-samples.js';

const ids = { generateId: (i: number) => `c${i}` };

/** [name, rawArguments, error code?] per call, and the text. */
type Expected = { text: string; calls: Array<[string, string, string?]> };
const W: [string, string] = ['get_weather', '{"city": "Paris"}'];
const A: [string, string] = ['math.add', '{"a": 5, "b": 5.0}'];
const N: [string, string] = [
  'search',
  '{"query": "caf\\u00e9 \\"quoted\\" \\\\ 東京 😀 e\u0301", "filters": {"range": [1, -2.5e3, {"deep": [true, false, null]}], "empty": {}, "list": []}, "tags": ["a", "\\ud83d\\ude00"]}',
];
const expected: Record<string, Expected> = {
  'bare array': { text: '', calls: [W] },
  'bare array, several calls, whitespace around': { text: '', calls: [W, A, N] },
  'bare array, compact': { text: '', calls: [['math.add', '{"a":1,"b":2}']] },
  'bare array, arguments before name': { text: '', calls: [['math.add', '{"a": 1, "b": 2}']] },
  'bare array, pretty-printed': { text: '', calls: [['search', '{\n      "query": "x",\n      "tags": [\n        "y"\n      ]\n    }']] },
  'empty array': { text: '', calls: [] },
  'fence json': { text: 'Sure, here you go:\n\nAnything else?', calls: [W] },
  'fence plain': { text: '', calls: [A, N] },
  'fence without newline': { text: '', calls: [A] },
  '[TOOL_CALLS]': { text: '', calls: [W, A] },
  '[TOOL_CALLS] after text': { text: 'Let me check. \nDone.', calls: [N] },
  '<tool_call> wrappers': { text: '', calls: [W, A] },
  '<tool_call> with array': { text: 'I will call it.\n ok', calls: [W] },
  'after </think>': { text: '<think>The user wants [weather] for Paris; use `get_weather`.</think>', calls: [W] },
  'after </think>, with text after': { text: '<think>…</think> 完成', calls: [A] },
  'v1 tool_calls': { text: '', calls: [W, A] },
  'v1 thought': { text: 'The user asks for the weather 🌦 in "Paris".\nCall it.', calls: [W] },
  'v1 thought after tool_calls': { text: 'adding 😀', calls: [A] },
  'v1 no calls': { text: 'I cannot help with that.', calls: [] },
  'v1 fenced': { text: '', calls: [A] },
  'single call object': { text: '', calls: [W] },
  'single call in fence': { text: '', calls: [N] },
  'plain text': { text: samples['plain text']!, calls: [] },
  'text that looks like openers': { text: samples['text that looks like openers']!, calls: [] },
  'code fence that is not a call': { text: samples['code fence that is not a call']!, calls: [] },
  'array that is not a call': { text: '[1, 2, 3] are numbers', calls: [] },
  'object that is not a call': { text: '{"answer": 42}', calls: [] },
  'text before a bare array': { text: samples['text before a bare array']!, calls: [] },
  'unknown tool and invalid arguments': {
    text: '',
    calls: [['get_time', '{}', 'UNKNOWN_TOOL'], ['get_weather', '{"city": 42}', 'INVALID_ARGUMENTS'], ['math.add', '{"a": "1"}', 'INVALID_ARGUMENTS']],
  },
  'arguments as a string': { text: '', calls: [['math.add', '"{\\"a\\": 1, \\"b\\": 2}"', 'MALFORMED_CALL']] },
  'missing arguments': { text: '', calls: [['search', '{}', 'INVALID_ARGUMENTS']] },
  'missing name': { text: '', calls: [['math.add', '{"a": 1, "b": 2}'], ['', '{"a": 1}', 'MALFORMED_CALL']] },
  'name not a string': { text: '', calls: [['get_weather', '{"city": "x"}'], ['', '{}', 'MALFORMED_CALL']] },
  'duplicate keys': { text: '', calls: [['math.add', '{"a": 1, "b": 2}', 'MALFORMED_CALL']] },
  'extra keys': { text: '', calls: [['math.add', '{"a": 1, "b": 2}']] },
  'extra closing brace': { text: '}] trailing', calls: [W] },
  'broken arguments JSON': { text: ', "b": 2}}] rest', calls: [['math.add', '{"a": 1,', 'MALFORMED_CALL']] },
  'bad escape': { text: 'q"}}]', calls: [['search', '{"query": "\\', 'MALFORMED_CALL']] },
  'control character in a string': { text: 'b"}}]', calls: [['search', '{"query": "a', 'MALFORMED_CALL']] },
  'leading zero': { text: '1, "b": 2}}]', calls: [['math.add', '{"a": 0', 'MALFORMED_CALL']] },
  'truncated in arguments': { text: '', calls: [['search', '{"query": "東京 😀", "tags": ["a", "b', 'INCOMPLETE_CALL']] },
  'truncated after a call': { text: '', calls: [W, ['', '', 'INCOMPLETE_CALL']] },
  'truncated opener': { text: 'Calling now [TOOL_CA', calls: [] },
  'unterminated <tool_call>': { text: 'and more', calls: [W] },
  'unclosed fence': { text: 'the end', calls: [A] },
  'lone surrogates and astral text': { text: samples['lone surrogates and astral text']!, calls: [] },
  'v1 tool_calls not a list': { text: 'nothing to do', calls: [] },
  'call object with a thought': { text: 'hm', calls: [['math.add', '{"a": 1, "b": 2}']] },
  'non-object item': { text: '5]', calls: [['math.add', '{"a": 1, "b": 2}']] },
  'only </think>': { text: '<think>nothing to call</think>', calls: [] },
  '[TOOL_CALLS] then text': { text: '[TOOL_CALLS] none needed', calls: [] },
  'partial closing fence': { text: '``', calls: [A] },
  'whitespace only': { text: '', calls: [] },
};

t.test('every sample output parses to the expected calls and text', async (t) => {
  t.same(Object.keys(expected).sort(), Object.keys(samples).sort(), 'every sample has an expectation');
  for (const [name, text] of Object.entries(samples)) {
    const want = expected[name]!;
    const r = parseToolCalls(text, tools, ids);
    t.equal(r.text, want.text, `${name}: text`);
    t.same(
      r.calls.map((c) => [c.name, c.rawArguments, ...(c.error ? [c.error.code] : [])]),
      want.calls,
      `${name}: calls`,
    );
    t.same(r.calls.map((c) => c.index), want.calls.map((_, i) => i), `${name}: indices`);
    t.same(r.calls.map((c) => c.id), want.calls.map((_, i) => `c${i}`), `${name}: ids`);
    for (const c of r.calls) {
      if (c.error) t.type(c.error.message, 'string');
      // Complete arguments are the JSON value as written (zod tools: the schema output).
      if (!c.error && c.name !== 'get_weather') t.same(c.arguments, JSON.parse(c.rawArguments), `${name}: arguments of ${c.name}`);
    }
  }
});

t.test('zod tools: arguments are the schema output (defaults, transforms); JSON-Schema tools keep what was written', async (t) => {
  const conv = tool({
    name: 'convert',
    parameters: z.object({ amount: z.string().transform(Number), to: z.string().toUpperCase().default('EUR') }),
  });
  const r = parseToolCalls('[{"name": "convert", "arguments": {"amount": "12.5"}}, {"name": "search", "arguments": {"query": "q"}}]', [conv, ...tools]);
  t.same(r.calls[0]!.arguments, { amount: 12.5, to: 'EUR' });
  t.equal(r.calls[0]!.rawArguments, '{"amount": "12.5"}');
  t.same(r.calls[1]!.arguments, { query: 'q' }, 'no defaults added to JSON-Schema tools');
  t.notOk(r.calls[1]!.error);
  const bad = parseToolCalls('[{"name": "get_weather", "arguments": {"city": "x", "unit": "k"}}]', tools).calls[0]!;
  t.equal(bad.error?.code, 'INVALID_ARGUMENTS');
  t.same(bad.error?.issues?.map((i) => i.path), [['unit']]);
  t.match(bad.error?.message, /unit/);
  t.same(bad.arguments, { city: 'x', unit: 'k' }, 'the arguments as written stay available');
});

t.test('JSON-Schema validation can be switched off; without tools nothing but the shape is checked', async (t) => {
  const text = '[{"name": "math.add", "arguments": {"a": "1"}}, {"name": "anything", "arguments": {"x": [1]}}]';
  const off = parseToolCalls(text, tools, { validateArguments: false }).calls;
  t.notOk(off[0]!.error);
  t.equal(off[1]!.error?.code, 'UNKNOWN_TOOL');
  const none = parseToolCalls(text).calls;
  t.same(none.map((c) => c.error), [undefined, undefined]);
  t.same(none[1]!.arguments, { x: [1] });
  t.equal(parseToolCalls('[{"name": "x", "arguments": []}]').calls[0]!.error?.code, 'MALFORMED_CALL');
  t.equal(parseToolCalls('[{"name": "get_weather", "arguments": {"city": "x"}}]', []).calls[0]!.error?.code, 'UNKNOWN_TOOL', 'an empty tool list admits nothing');
  // A zod schema whose refinement throws reports INVALID_ARGUMENTS instead of throwing.
  const boom = tool({ name: 'boom', parameters: z.object({ a: z.string() }).transform(() => { throw new Error('kaput'); }) });
  const r = parseToolCalls('[{"name": "boom", "arguments": {"a": "x"}}]', [boom]).calls[0]!;
  t.equal(r.error?.code, 'INVALID_ARGUMENTS');
  t.match(r.error?.message, /kaput/);
});

t.test('default ids look like vLLM\'s and are unique', async (t) => {
  const { calls } = parseToolCalls(`[${Array(5).fill('{"name": "f", "arguments": {}}').join(', ')}]`);
  calls.forEach((c, i) => t.match(c.id, new RegExp(`^call_${i}_[0-9a-f]{32}$`)));
  t.equal(new Set(calls.map((c) => c.id)).size, 5);
});

t.test('formats: auto accepts the union; xlam2 and xlam1-* accept their own forms', async (t) => {
  const count = (name: string, format: 'auto' | 'xlam2' | 'xlam1-fc' | 'xlam1-r') => parseToolCalls(samples[name]!, tools, { format }).calls.length;
  t.same(['auto', 'xlam2', 'xlam1-fc', 'xlam1-r'].map((f) => count('v1 tool_calls', f as 'auto')), [2, 0, 2, 2]);
  t.same(['auto', 'xlam2', 'xlam1-fc', 'xlam1-r'].map((f) => count('v1 thought', f as 'auto')), [1, 0, 1, 1]);
  t.same(['auto', 'xlam2', 'xlam1-fc', 'xlam1-r'].map((f) => count('single call object', f as 'auto')), [1, 1, 0, 0]);
  t.same(['auto', 'xlam2', 'xlam1-fc', 'xlam1-r'].map((f) => count('<tool_call> wrappers', f as 'auto')), [2, 2, 0, 0]);
  t.same(['auto', 'xlam2', 'xlam1-fc', 'xlam1-r'].map((f) => count('fence plain', f as 'auto')), [2, 2, 2, 2]);
  t.same(['auto', 'xlam2', 'xlam1-fc', 'xlam1-r'].map((f) => count('bare array', f as 'auto')), [1, 1, 1, 1]);
  t.equal(parseToolCalls(samples['v1 tool_calls']!, tools, { format: 'xlam2' }).text, samples['v1 tool_calls']);
});

t.test('bad options and tools throw XlamInvalidArgumentError; bad text never throws', async (t) => {
  t.throws(() => parseToolCalls('', tools, { format: 'xlam3' as 'auto' }), { name: 'XlamInvalidArgumentError', code: 'INVALID_ARGUMENT', message: /options\.format/ });
  t.throws(() => parseToolCalls('', tools, { bogus: 1 } as object), XlamInvalidArgumentError);
  t.throws(() => parseToolCalls('', [{ name: 'a b', parameters: { type: 'object' } }]), { message: /tools\[0\]\.name/ });
  for (const text of ['', '[', '{', '```', '<tool_call>', '[{"name"', '\\', '\ud800', '[{"name": "x", "arguments": {"a": [[[[[[[[[[[[[[[[[[['])
    t.doesNotThrow(() => parseToolCalls(text, tools), JSON.stringify(text));
});

t.test('number literals keep their kind through rawArguments', async (t) => {
  const call = parseToolCalls('[{"name": "math.add", "arguments": {"a": 5, "b": 5.0, "c": [1e3, -0, 2E-2, 12345678901234567890]}}]').calls[0]!;
  t.same(call.arguments, { a: 5, b: 5, c: [1000, -0, 0.02, 12345678901234567890] });
  const lossless = parseJson(call.rawArguments, { numbers: 'literal' }) as { a: JsonNumber; b: JsonNumber; c: JsonNumber[] };
  t.same([lossless.a.kind, lossless.b.kind], ['int', 'float']);
  t.same(lossless.c.map((n) => [n.raw, n.kind]), [['1e3', 'float'], ['-0', 'int'], ['2E-2', 'float'], ['12345678901234567890', 'int']]);
  t.equal(BigInt(lossless.c[3]!.raw), 12345678901234567890n);
  t.equal(lossless.b.value, 5);
  t.equal(+lossless.b, 5);
  t.equal(stringifyJson(lossless), '{"a":5,"b":5.0,"c":[1e3,-0,2E-2,12345678901234567890]}');
  t.equal(stringifyJson(lossless, true), '{"a": 5, "b": 5.0, "c": [1e3, -0, 2E-2, 12345678901234567890]}');
});

t.test('parseJson agrees with JSON.parse and rejects what it rejects', async (t) => {
  const good = [
    '0', '-1.5e+10', '"a\\u00e9\\n\\"\\\\\\/\\b\\f\\r\\t"', ' [1, {"a": [true, false, null]}, "x"] ', '{}', '[]',
    '{"__proto__": {"x": 1}, "a": 1, "a": 2}', '"😀\\ud83d\\ude00\\ud800"', '{"k":\n\t{"n": -0.0e-0}}',
  ];
  for (const s of good) {
    const a = parseJson(s);
    t.same(a, JSON.parse(s), s);
    t.same(Object.keys(a ?? {}), Object.keys(JSON.parse(s) ?? {}), `${s}: own keys (incl. __proto__)`);
  }
  const proto = parseJson('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
  t.equal(Object.getPrototypeOf(proto), Object.prototype);
  t.same(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value, { polluted: 1 });
  const bad = ['', ' ', '01', '1.', '.5', '-', '+1', '1e', 'NaN', 'Infinity', 'tru', '"\\x"', '"a\nb"', '[1,]', '{"a":1,}', '{a:1}', '"\\u12g4"', '1 2', "'a'", '[', '{"a" 1}'];
  for (const s of bad) {
    t.throws(() => JSON.parse(s), `${JSON.stringify(s)} is not JSON`);
    t.throws(() => parseJson(s), { name: 'XlamInvalidArgumentError', code: 'INVALID_ARGUMENT', message: /invalid JSON/ }, JSON.stringify(s));
  }
});

t.test('the type-level test compiles (narrowing by name gives the zod output type)', async (t) => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  let out = '';
  try {
    execFileSync(process.execPath, [tsc, '--noEmit', '-p', join(repoRoot, 'test', 'types', 'tsconfig.json')], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    out = String((err as { stdout?: string }).stdout ?? err);
  }
  t.equal(out, '', 'tsc reports no errors in test/types/tool-calls.ts');
});
