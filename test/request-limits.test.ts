// Requests over a limit or malformed (shared/RELIABILITY.md §5.1, class R): a typed
// XlamInvalidArgumentError with code INVALID_ARGUMENT and the offending `field`, before anything
// is rendered, tokenized or queued, and the engine's state (requests, KV blocks) unchanged; a full
// queue answers OVERLOADED. A property test sends 1,000 random requests, valid and invalid, and
// checks that no valid one is rejected and no invalid one accepted.
import fc from 'fast-check';
import t from 'tap';

import { Engine, GenerateRequestSchema, REQUEST_LIMITS, XlamAbortError, XlamInvalidArgumentError, XlamOverloadedError, type GenerateRequest } from '../dist/lib/index.js';
import { fixturePath } from './helpers/fixtures.js';

const MODEL = fixturePath('qwen2-f32'); // a chat template, for the message requests
const engine = await Engine.load(MODEL);
t.teardown(() => engine.close());

const user = (content: string) => [{ role: 'user' as const, content }];
const weather = (parameters: object = { type: 'object', properties: { city: { type: 'string' } } }) => ({
  type: 'function',
  function: { name: 'get_weather', description: 'Weather', parameters },
});

/** Nested object schemas, `levels` deep. */
function deepSchema(levels: number): object {
  let s: object = { type: 'string' };
  for (let i = 0; i < levels; i++) s = { type: 'object', properties: { a: s } };
  return s;
}

const idle = () => {
  const s = engine.stats();
  return { running: s.running, waiting: s.waiting, kvBlocksUsed: s.kvBlocksUsed };
};

async function rejects(t: Tap.Test, request: GenerateRequest, field: RegExp | string, why: string): Promise<void> {
  const before = idle();
  const err = await engine.generate({ maxTokens: 1, ...request }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof XlamInvalidArgumentError, `${why}: an XlamInvalidArgumentError (${(err as Error)?.message?.slice(0, 160)})`);
  const e = err as XlamInvalidArgumentError;
  t.equal(e.code, 'INVALID_ARGUMENT');
  if (typeof field === 'string') t.equal(e.field, field, `${why}: field`);
  else t.match(e.field ?? '', field, `${why}: field`);
  t.same(idle(), before, `${why}: the engine's state is unchanged`);
}

t.test('each limit gives INVALID_ARGUMENT naming the field', async (t) => {
  await rejects(t, { prompt: 'hi', stop: [''] }, /^request\.stop/, 'an empty stop string');
  await rejects(t, { prompt: 'hi', stop: 'x'.repeat(REQUEST_LIMITS.maxStopStringBytes + 1) }, /^request\.stop/, 'a stop string over 256 bytes');
  await rejects(t, { prompt: 'hi', stop: 'é'.repeat(129) }, /^request\.stop/, 'a stop string of 129 two-byte characters');
  await rejects(t, { prompt: 'hi', stop: Array.from({ length: 17 }, (_, i) => `s${i}`) }, /^request\.stop/, '17 stop strings');
  await rejects(t, { messages: user('hi'), tools: Array.from({ length: 129 }, () => weather()) }, 'request.tools', '129 tools');
  await rejects(t, { messages: user('hi'), tools: [weather(deepSchema(40))] }, 'request.tools[0].parameters', 'a schema nested 80 levels');
  await rejects(
    t,
    { messages: user('hi'), tools: [weather({ type: 'object', properties: { c: { type: 'string', enum: Array.from({ length: 30000 }, (_, i) => `value-${i}`) } } })] },
    'request.tools[0].parameters',
    'a schema over 256 KiB of JSON',
  );
  await rejects(t, { prompt: 'x'.repeat(REQUEST_LIMITS.maxTextChars + 1) }, 'request.prompt', 'a prompt over 2,000,000 characters');
  await rejects(t, { messages: [...user('a'.repeat(1_500_000)), { role: 'assistant', content: 'b' }, ...user('c'.repeat(600_000))] }, 'request', 'messages over 2,000,000 characters together');
  await rejects(t, { prompt: 'bad \uD800 text' }, 'request.prompt', 'a lone surrogate in the prompt');
  await rejects(t, { messages: Array.from({ length: REQUEST_LIMITS.maxMessages + 1 }, () => ({ role: 'user' as const, content: 'x' })) }, 'request.messages', '513 messages');
  await rejects(t, { messages: user('ok \uDC00') }, 'request.messages[0].content', 'a lone surrogate in a message');
  await rejects(t, { messages: user('hi'), tools: [{ ...weather(), function: { ...weather().function, description: 'x\uD83D' } }] }, 'request.tools[0].function.description', 'a lone surrogate in a tool description');
  await rejects(t, { prompt: 'hi', temperature: Number.NaN }, 'request.temperature', 'temperature NaN');
  await rejects(t, { prompt: 'hi', topP: 0 }, 'request.topP', 'topP 0');
  await rejects(t, { prompt: 'hi', maxTokens: 0 }, 'request.maxTokens', 'maxTokens 0');
  await rejects(t, { prompt: 'hi', logitBias: { abc: 1 } }, /^request\.logitBias/, 'a logit-bias key that is not a token id');
  await rejects(t, { prompt: 'hi', logitBias: { '99999999': 1 } }, 'request.logitBias["99999999"]', 'a logit-bias id outside the vocabulary');
  await rejects(t, { prompt: 'hi', logitBias: { '5': 1e308 } }, 'request.logitBias["5"]', 'a logit bias over 100');
  await rejects(t, { prompt: 'hi', logitBias: { '5': Infinity } }, 'request.logitBias["5"]', 'a logit bias of +Infinity');
  await rejects(t, { promptTokens: [1, 151936] }, 'request.promptTokens[1]', 'a prompt token outside the vocabulary');
  // Sparse id lists: refused at the first hole (zod would collect an issue per hole, ~600 MiB per million), or by length.
  await rejects(t, { promptTokens: new Array<number>(2 ** 24) }, 'request.promptTokens[0]', 'a promptTokens of 2^24 holes');
  await rejects(t, { promptTokens: new Array<number>(2 ** 32 - 1) }, 'request.promptTokens', 'a promptTokens of 2^32-1 holes');
  await rejects(t, { prompt: 'hi', stopTokenIds: new Array<number>(2 ** 24) }, 'request.stopTokenIds[0]', 'a stopTokenIds of 2^24 holes');
  await rejects(t, { prompt: 'hi', stopTokenIds: [2 ** 30] }, 'request.stopTokenIds[0]', 'a stop token outside the vocabulary');
  t.equal((await engine.generate({ prompt: 'hi', maxTokens: 2, temperature: 0, logitBias: { '5': -Infinity, '6': -100, '7': 100 } })).tokenIds[0], 7, '-Infinity bans, 100 forces');
  await rejects(t, { prompt: 'hi', seed: -1 }, 'request.seed', 'a negative seed');
  // Within the limits: a surrogate pair, 256-byte stop strings, a schema 30 levels deep; and
  // (checked without rendering: 128 tools would not fit the fixture's context) 128 tools.
  const ok = await engine.generate({
    messages: user('emoji \uD83D\uDE00 ok'),
    tools: [weather(deepSchema(30))],
    stop: ['x'.repeat(256), 'é'.repeat(128)],
    maxTokens: 1,
    constrained: false,
  });
  t.equal(ok.usage.completionTokens, 1, 'a request at the limits runs');
  const many = { messages: user('hi'), tools: Array.from({ length: 128 }, (_, i) => ({ ...weather(), function: { ...weather().function, name: `t${i}` } })) };
  t.ok(GenerateRequestSchema.safeParse(many).success, '128 tools pass the schema');
});

t.test('the grammar compile budget: tools whose grammar would be too large are GRAMMAR_TOO_LARGE', async (t) => {
  const before = idle();
  // 10^9 repetitions in one pattern: refused while counting, before anything that size is built.
  const tools = [weather({ type: 'object', properties: { city: { type: 'string', pattern: '^((a{1000}){1000}){1000}$' } }, required: ['city'] })];
  const err = await engine.generate({ messages: user('hi'), tools, maxTokens: 1 }).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof XlamInvalidArgumentError && err.code === 'GRAMMAR_TOO_LARGE', `GRAMMAR_TOO_LARGE (${(err as Error)?.message})`);
  t.equal((err as XlamInvalidArgumentError).field, 'request.tools');
  t.same(idle(), before, 'the engine\'s state is unchanged');
  // Nested arrays with large minItems grow with the sum of their sizes, not the product.
  let nested: object = { type: 'string', minLength: 64, maxLength: 64 };
  for (let i = 0; i < 4; i++) nested = { type: 'array', items: nested, minItems: 64, maxItems: 64 };
  const deep = [weather({ type: 'object', properties: { city: nested } })];
  const ok = await engine.renderPrompt({ messages: user('hi'), tools: deep });
  t.ok(ok.tokenIds.length > 0, 'the prompt renders');
  const r = await engine.generate({ messages: user('hi'), tools: deep, maxTokens: 1 });
  t.equal(r.usage.completionTokens, 1, '64^4 nested items compile (as rules, not copies) and generate');
});

t.test('a full queue answers OVERLOADED, and takes requests again once it drains', async (t) => {
  const small = await Engine.load(MODEL, { maxSequences: 1, maxQueuedRequests: 1 });
  t.teardown(() => small.close());
  const aborts = [new AbortController(), new AbortController()];
  const long = aborts.map((a) => small.generate({ prompt: 'count', maxTokens: 2000, ignoreEos: true, signal: a.signal }).catch((e: unknown) => e));
  // Both submitted (one running, one waiting) before the third comes.
  for (let i = 0; i < 500 && small.stats().running + small.stats().waiting < 2; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(small.stats().running + small.stats().waiting, 2, 'two requests in flight');
  const err = await small.generate({ prompt: 'one more', maxTokens: 1 }).catch((e: unknown) => e);
  t.ok(err instanceof XlamOverloadedError, 'the third request is refused');
  t.equal((err as XlamOverloadedError).code, 'OVERLOADED');
  for (const a of aborts) a.abort();
  for (const r of await Promise.all(long)) t.ok(r instanceof XlamAbortError, 'the long requests were aborted');
  const after = await small.generate({ prompt: 'again', maxTokens: 1 });
  t.equal(after.usage.completionTokens, 1, 'a request after the queue drained runs');
});

t.test('property: 1,000 random requests, valid ones run and invalid ones are refused', async (t) => {
  // Each field: a valid value, or an invalid one (with the oracle's verdict beside it).
  const field = <V>(valid: fc.Arbitrary<V>, invalid: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 10, arbitrary: valid.map((v) => ({ v: v as unknown, ok: true })) }, { weight: 1, arbitrary: invalid.map((v) => ({ v, ok: false })) });
  const absentOr = <V>(f: fc.Arbitrary<{ v: V; ok: boolean }>) => fc.option(f, { nil: undefined, freq: 2 }); // absent half the time
  const num = (xs: number[]) => fc.constantFrom(...xs);
  const request = fc.record({
    prompt: field(fc.string({ minLength: 1, maxLength: 20 }), fc.constantFrom('a\uD800', '\uDFFF', 7, null)),
    // Always given (the default, 256 tokens, would make this test slow, not stronger).
    maxTokens: field(fc.integer({ min: 1, max: 3 }), num([0, -1, 1.5, Number.NaN, Infinity])),
    temperature: absentOr(field(fc.double({ min: 0, max: 2, noNaN: true }), num([-0.5, Number.NaN, Infinity, 101]))),
    topP: absentOr(field(fc.double({ min: 0.01, max: 1, noNaN: true }), num([0, -1, 1.5, Number.NaN]))),
    topK: absentOr(field(fc.integer({ min: 0, max: 50 }), num([-1, 2.5, Number.NaN]))),
    minP: absentOr(field(fc.double({ min: 0, max: 1, noNaN: true }), num([-0.1, 1.1, Number.NaN]))),
    repetitionPenalty: absentOr(field(fc.double({ min: 0.5, max: 2, noNaN: true }), num([0, -1, Number.NaN, Infinity]))),
    presencePenalty: absentOr(field(fc.double({ min: -2, max: 2, noNaN: true }), num([-2.5, 3, Number.NaN]))),
    seed: absentOr(field(fc.integer({ min: 0, max: 2 ** 40 }), num([-1, 0.5, 2 ** 60]))),
    stop: absentOr(field(fc.array(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 4 }), fc.constantFrom([''], Array(17).fill('s'), ['x'.repeat(300)]))),
    logprobs: absentOr(field(fc.integer({ min: 0, max: 20 }), num([21, -1, 0.5]))),
    logitBias: absentOr(field(fc.dictionary(fc.integer({ min: 0, max: 31999 }).map(String), fc.double({ min: -5, max: 5, noNaN: true }), { maxKeys: 3 }), fc.constantFrom({ abc: 1 }, { '5': Number.NaN }, { '-3': 1 }))),
    extra: fc.oneof({ weight: 15, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant({ v: 1 as unknown, ok: false }) }),
  });
  let valid = 0, invalid = 0;
  await fc.assert(
    fc.asyncProperty(request, async (fields) => {
      const req: Record<string, unknown> = {};
      let expectOk = true;
      for (const [k, f] of Object.entries(fields)) {
        if (f === undefined) continue;
        req[k === 'extra' ? 'unknownField' : k] = f.v;
        expectOk &&= f.ok;
      }
      const r = await engine.generate(req as GenerateRequest).then(
        () => 'ok',
        (e: unknown) => e,
      );
      if (expectOk) {
        valid++;
        return r === 'ok';
      }
      invalid++;
      return r instanceof XlamInvalidArgumentError && r.code === 'INVALID_ARGUMENT' && typeof r.field === 'string';
    }),
    { numRuns: 1000, seed: 20261124 },
  );
  t.ok(valid > 200 && invalid > 200, `${valid} valid and ${invalid} invalid requests`);
  t.same(idle(), { running: 0, waiting: 0, kvBlocksUsed: 0 }, 'the engine is idle after them');
});
