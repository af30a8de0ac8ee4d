// Grammar-constrained tool calls through the engine, on the tiny random-weight fixtures (real
// tokenizers: Qwen2 151k and Llama-3 128k byte-level vocabularies — the sampling fixtures, whose
// logits spread over the vocabulary at temperature 1 — and Llama-2 SentencePiece):
// sampled at temperature 1, every finished answer parses into valid calls and matches the
// reference grammar; toolChoice { name } calls only that tool, 'none' never calls, 'auto' gives
// valid calls or plain text; the v1 envelopes; an answer cut at maxTokens reports 'length' and
// no valid call (callTools and stream); constrained: false is the unconstrained path.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { z } from 'zod';

import { Engine, parseToolCalls, tool, XlamInvalidArgumentError, type ChatMessage, type StreamEvent, type ToolCall } from '../dist/lib/index.js';
import { acceptsPrefix, compileGrammar, matches, toolCallGrammar, type ToolCallGrammarFormat } from '../dist/lib/grammar/index.js';
import { normalizeTools } from '../dist/lib/tools/normalize.js';
import { fixturePath, repoRoot } from './helpers/fixtures.js';

// Bounded arguments (a pattern, enums, a boolean), so random weights finish their calls.
const weather = tool({
  name: 'get_weather',
  description: 'Current weather of a city',
  parameters: z.object({ city: z.string().regex(/^[A-Za-z ]{1,20}$/), unit: z.enum(['celsius', 'fahrenheit']).optional() }),
});
const alarm = {
  type: 'function',
  function: {
    name: 'set_alarm',
    description: 'Sets an alarm',
    parameters: {
      type: 'object',
      properties: {
        day: { enum: ['mon', 'tue', 'wed'] },
        repeat: { type: 'boolean' },
        label: { type: 'object', properties: { text: { type: 'string', pattern: '^[a-z]{0,8}$' } }, required: ['text'] },
      },
      required: ['day'],
    },
  },
} as const;
const tools = [weather, alarm] as const;
const normalized = normalizeTools(tools);
const messages: ChatMessage[] = [{ role: 'user', content: 'What is the weather in Paris?' }];

const grammarOf = (format: ToolCallGrammarFormat, toolChoice: 'auto' | 'none' | 'required' | { name: string }) =>
  compileGrammar(toolCallGrammar(normalized, { format, toolChoice }));

const names = (calls: ReadonlyArray<ToolCall<typeof tools>>) => calls.map((c) => c.name);

t.test('xLAM-2 (Qwen2 vocabulary): sampled answers are valid calls; toolChoice narrows them', async (t) => {
  const engine = await Engine.load(fixturePath('qwen2-sampling-bf16'));
  t.teardown(() => engine.close());
  t.equal((await engine.promptRenderer()).format, 'xlam2');

  const required = grammarOf('xlam2', 'required');
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => engine.callTools(messages, tools, { toolChoice: 'required', temperature: 1, seed: i, maxTokens: 256 })),
  );
  let stopped = 0;
  for (const [i, r] of results.entries()) {
    if (r.finishReason === 'stop') {
      stopped++;
      t.ok(r.calls.length > 0 && r.calls.every((c) => !c.error), `seed ${i}: ${r.calls.length} valid calls (${names(r.calls).join(', ')})`);
      t.ok(matches(required, r.raw), `seed ${i}: the answer is a complete document of the grammar`);
      t.equal(r.text, '', `seed ${i}: no text besides the calls`);
    } else {
      t.ok(r.calls.every((c) => c.error?.code === 'INCOMPLETE_CALL'), `seed ${i}: cut at maxTokens, no valid call`);
      t.ok(acceptsPrefix(required, r.raw), `seed ${i}: the cut answer is a prefix of the grammar`);
    }
    for (const c of r.calls) if (!c.error && c.name === 'get_weather') t.type(c.arguments.city, 'string');
  }
  t.ok(stopped >= 15, `${stopped} of 20 answers finished within 256 tokens`);
  t.ok(engine.stats().grammarMasks > 0, 'the engine masked tokens');

  const only = await Promise.all(
    Array.from({ length: 5 }, (_, i) => engine.callTools(messages, tools, { toolChoice: { name: 'set_alarm' }, temperature: 1, seed: 100 + i, maxTokens: 256 })),
  );
  for (const r of only.filter((r) => r.finishReason === 'stop')) {
    t.ok(r.calls.length > 0 && r.calls.every((c) => !c.error && c.name === 'set_alarm'), `{ name: 'set_alarm' }: ${names(r.calls).join(', ')}`);
  }
  t.ok(only.some((r) => r.finishReason === 'stop'), 'some { name } answers finished');

  const none = grammarOf('xlam2', 'none');
  for (const [i, r] of (await Promise.all(Array.from({ length: 5 }, (_, i) => engine.callTools(messages, tools, { toolChoice: 'none', temperature: 1, seed: 200 + i, maxTokens: 24 })))).entries()) {
    t.same(r.calls, [], `'none' seed ${i}: no call`);
    t.ok(acceptsPrefix(none, r.raw), `'none' seed ${i}: plain text ${JSON.stringify(r.raw.slice(0, 40))}`);
  }

  // 'auto' (the default): valid calls or plain text, never a broken call.
  const auto = grammarOf('xlam2', 'auto');
  let calling = 0;
  for (const [i, r] of (await Promise.all(Array.from({ length: 10 }, (_, i) => engine.callTools(messages, tools, { temperature: 1, seed: 300 + i, maxTokens: 96 })))).entries()) {
    if (r.calls.length > 0) calling++;
    if (r.finishReason === 'stop') t.ok(r.calls.every((c) => !c.error), `'auto' seed ${i}: ${r.calls.length} calls, all valid`);
    else t.ok(r.calls.every((c) => c.error?.code === 'INCOMPLETE_CALL'), `'auto' seed ${i}: cut, no valid call`);
    t.ok(acceptsPrefix(auto, r.raw), `'auto' seed ${i}: within the grammar: ${JSON.stringify(r.raw.slice(0, 40))}`);
  }
  t.comment(`'auto': ${calling} of 10 answers call a tool`);
  // An answer that starts like a call (a strong bias toward '[') must be a valid call list.
  const bracket = (await engine.tokenizer()).tokenToId('[')!;
  for (const [i, r] of (await Promise.all(Array.from({ length: 5 }, (_, i) => engine.callTools(messages, tools, { temperature: 1, seed: 400 + i, maxTokens: 256, logitBias: { [String(bracket)]: 40 } })))).entries()) {
    t.ok(r.raw.trimStart().startsWith('['), `'auto' with '[' favoured, seed ${i}: starts a call list`);
    if (r.finishReason === 'stop') t.ok(r.calls.length > 0 && r.calls.every((c) => !c.error) && matches(auto, r.raw), `seed ${i}: ${names(r.calls).join(', ')}`);
  }
});

t.test('stream: tool-call events of a constrained answer, the same calls as callTools', async (t) => {
  const engine = await Engine.load(fixturePath('qwen2-sampling-bf16'));
  t.teardown(() => engine.close());
  const options = { toolChoice: 'required', temperature: 1, seed: 3, maxTokens: 256 } as const;
  const events: StreamEvent[] = [];
  for await (const ev of engine.stream({ messages, tools: [...tools], ...options })) events.push(ev);
  const ends = events.flatMap((e) => (e.type === 'tool_call_end' ? [e.call] : []));
  const done = events.at(-1);
  t.equal(done?.type === 'done' && done.finishReason, 'stop');
  t.ok(ends.length > 0 && ends.every((c) => !c.error), `${ends.length} valid calls`);
  t.equal(events.filter((e) => e.type === 'tool_call_start').length, ends.length, 'a start per call');
  const r = await engine.callTools(messages, tools, options);
  t.same(ends.map((c) => [c.name, c.rawArguments]), r.calls.map((c) => [c.name, c.rawArguments]), 'callTools gives the same calls');
});

t.test('an answer cut at maxTokens: finishReason length, no valid call', async (t) => {
  const engine = await Engine.load(fixturePath('qwen2-sampling-bf16'));
  t.teardown(() => engine.close());
  const tokenizer = await engine.tokenizer();
  // A full answer with two calls or more, then the same request cut right after its first call.
  let full;
  let seed = 0;
  for (; seed < 40; seed++) {
    full = await engine.callTools(messages, tools, { toolChoice: 'required', temperature: 1, seed, maxTokens: 256 });
    if (full.finishReason === 'stop' && full.calls.length >= 2) break;
  }
  t.ok(full && full.calls.length >= 2, `seed ${seed} answers with ${full?.calls.length} calls`);
  const result = await engine.generate({ messages, tools: [...tools], toolChoice: 'required', temperature: 1, seed, maxTokens: 256 });
  let n = 1;
  while (n < result.tokenIds.length && !parseToolCalls(tokenizer.decode(result.tokenIds.slice(0, n), { skipSpecialTokens: true }), tools).calls.some((c) => !c.error)) n++;
  const cut = await engine.callTools(messages, tools, { toolChoice: 'required', temperature: 1, seed, maxTokens: n + 1 });
  t.equal(cut.finishReason, 'length');
  t.ok(parseToolCalls(cut.raw, tools, { format: 'xlam2' }).calls.some((c) => !c.error), 'the parser alone finds a complete first call');
  t.ok(cut.calls.length > 0, 'callTools returns the calls written before the cut');
  for (const c of cut.calls) {
    t.equal(c.error?.code, 'INCOMPLETE_CALL', `call ${c.index} (${c.name}) is flagged`);
    if (c.index === 0) t.match(c.error?.message, /cut at maxTokens/);
  }

  // Cut inside the first call: the stream ends it INCOMPLETE_CALL and says 'length'.
  for (const maxTokens of [8, 12, 16]) {
    const events: StreamEvent[] = [];
    for await (const ev of engine.stream({ messages, tools: [weather], toolChoice: { name: 'get_weather' }, temperature: 1, seed: 7, maxTokens })) events.push(ev);
    const done = events.at(-1);
    t.equal(done?.type === 'done' && done.finishReason, 'length', `maxTokens ${maxTokens}: length`);
    for (const e of events) if (e.type === 'tool_call_end') t.equal(e.call.error?.code, 'INCOMPLETE_CALL', `maxTokens ${maxTokens}: the cut call is incomplete`);
  }
});

t.test('constrained: false is the unconstrained path; bad tool choices are typed errors', async (t) => {
  const engine = await Engine.load(fixturePath('qwen2-sampling-bf16'));
  t.teardown(() => engine.close());
  const renderer = await engine.promptRenderer();
  const tokenizer = await engine.tokenizer();
  const ids = tokenizer.encode(renderer.render({ messages, tools: normalized, addGenerationPrompt: true }), { addSpecialTokens: false });
  const masks = engine.stats().grammarMasks;
  const free = await engine.generate({ messages, tools: [...tools], constrained: false, temperature: 0, maxTokens: 12 });
  const plain = await engine.generate({ promptTokens: ids, temperature: 0, maxTokens: 12 });
  t.same(free.tokenIds, plain.tokenIds, 'the same tokens as the rendered prompt without a grammar');
  t.equal(engine.stats().grammarMasks, masks, 'no token was masked');
  const constrained = await engine.generate({ messages, tools: [...tools], temperature: 0, maxTokens: 12 });
  t.ok(engine.stats().grammarMasks > masks, 'tools constrain generate by default');
  t.ok(acceptsPrefix(grammarOf('xlam2', 'auto'), constrained.text), 'the default answer is within the auto grammar');

  // Unconstrained answers are still parsed against the tool choice.
  const named = await engine.callTools(messages, tools, { constrained: false, toolChoice: { name: 'set_alarm' }, temperature: 0, maxTokens: 8 });
  t.ok(named.calls.every((c) => c.error || c.name === 'set_alarm'));

  await t.rejects(engine.callTools(messages, tools, { toolChoice: { name: 'nope' } }), {
    name: 'XlamInvalidArgumentError',
    message: 'request.toolChoice.name: no tool named "nope"; the tools are: "get_weather", "set_alarm"',
  });
  await t.rejects(engine.generate({ messages, toolChoice: 'required' }), { name: 'XlamInvalidArgumentError', message: /^request\.toolChoice: only with tools/ });
  await t.rejects(engine.generate({ prompt: 'Hi', constrained: true }), XlamInvalidArgumentError);
  await t.rejects(engine.callTools(messages, tools, { toolChoice: 'always' as 'auto' }), { message: /^request\.toolChoice: expected "auto", "required", "none" or \{ name: string \}/ });
  await t.rejects(engine.callTools(messages, [], { toolChoice: 'required' }), { message: /"required" needs at least one tool/ });
});

t.test('Llama-3 vocabulary (xLAM-2 Llama format)', async (t) => {
  const engine = await Engine.load(fixturePath('llama3-sampling-bf16'));
  t.teardown(() => engine.close());
  const required = grammarOf('xlam2', 'required');
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => engine.callTools(messages, tools, { toolChoice: 'required', temperature: 1, seed: i, maxTokens: 256 })));
  for (const [i, r] of results.entries()) {
    if (r.finishReason !== 'stop') continue;
    t.ok(r.calls.length > 0 && r.calls.every((c) => !c.error) && matches(required, r.raw), `seed ${i}: ${names(r.calls).join(', ')}`);
  }
  t.ok(results.filter((r) => r.finishReason === 'stop').length >= 4, 'most answers finished');
});

/** A copy of a fixture with a chat template that selects a v1 prompt format. */
function v1Model(fixture: string, template: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'xlam-v1-'));
  for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']) copyFileSync(join(fixturePath(fixture), f), join(dir, f));
  copyFileSync(join(repoRoot, 'test', 'fixtures', 'templates', template), join(dir, 'chat_template.jinja'));
  return dir;
}

t.test('xLAM v1 envelopes: {"tool_calls": [...]} (Llama-3 vocabulary), {"thought", "tool_calls"} (SentencePiece)', async (t) => {
  for (const [fixture, template, format] of [
    ['llama3-sampling-bf16', 'deepseek-coder-instruct.jinja', 'xlam1-fc'],
    ['mistral-bf16', 'mistral-instruct-v0.1.jinja', 'xlam1-r'],
  ] as const) {
    const dir = v1Model(fixture, template);
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const engine = await Engine.load(dir);
    t.teardown(() => engine.close());
    t.equal((await engine.promptRenderer()).format, format);
    // Random weights rarely close a free string (the xlam1-r thought): favour the quote token.
    const quote = (await engine.tokenizer()).tokenToId('"')!;
    const logitBias = { [String(quote)]: 30 };
    for (const toolChoice of ['required', 'none', 'auto'] as const) {
      const results = await Promise.all(Array.from({ length: 3 }, (_, i) => engine.callTools(messages, tools, { toolChoice, temperature: 1, seed: i, maxTokens: 160, logitBias })));
      for (const [i, r] of results.entries()) {
        t.equal(r.finishReason, 'stop', `${format} ${toolChoice} seed ${i}: finished`);
        t.ok(matches(grammarOf(format, toolChoice), r.raw), `${format} ${toolChoice} seed ${i}: ${JSON.stringify(r.raw.slice(0, 60))}`);
        t.ok(r.calls.every((c) => !c.error), `${format} ${toolChoice} seed ${i}: ${r.calls.length} calls, all valid`);
        if (toolChoice === 'required') t.ok(r.calls.length > 0);
        if (toolChoice === 'none') t.same(r.calls, []);
      }
    }
  }
});
