// The serving API: continuous batching gives each request its solo output, the prefix cache
// serves repeated tool prompts, preemption under a small KV cache keeps outputs, aborts and early
// exits leave no blocks behind, close rejects pending work, and the event loop stays responsive.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import t from 'tap';

import { Engine, XlamAbortError, XlamEngineClosedError, XlamInvalidArgumentError, type GenerateRequest } from '../dist/lib/index.js';
import { fixturePath } from './helpers/fixtures.js';

const MODEL = fixturePath('qwen2-f32');

function requests(): GenerateRequest[] {
  const shared = Array.from({ length: 40 }, (_, i) => 1000 + i * 37);
  return Array.from({ length: 16 }, (_, i) => {
    const own = Array.from({ length: 1 + ((i * 23) % 70) }, (_, k) => 2000 + ((i * 131 + k * 17) % 40000));
    const base: GenerateRequest = { promptTokens: i % 3 === 0 ? [...shared, ...own] : own, maxTokens: 6 + (i % 7), ignoreEos: true };
    return i % 2 === 0 ? { ...base, temperature: 0 } : { ...base, temperature: 0.9, topP: 0.95, seed: 100 + i };
  });
}

t.test('16 concurrent requests give exactly the tokens each gives alone', async (t) => {
  const solo = await Engine.load(MODEL, { maxBatchTokens: 64 });
  const alone = [];
  for (const r of requests()) alone.push((await solo.generate(r)).tokenIds);
  await solo.close();
  const engine = await Engine.load(MODEL, { maxBatchTokens: 64 });
  const together = await Promise.all(requests().map((r) => engine.generate(r)));
  together.forEach((r, i) => t.same(r.tokenIds, alone[i], `request ${i}`));
  const s = engine.stats();
  t.match(s, { running: 0, waiting: 0, kvBlocksUsed: 0 });
  t.ok(s.steps < together.reduce((n, r) => n + r.usage.completionTokens, 0), 'requests shared forward passes');
  await engine.close();
});

t.test('a repeated xLAM-2 prompt with 10 tools is served from the prefix cache', async (t) => {
  const engine = await Engine.load(MODEL);
  t.teardown(() => engine.close());
  const tools = Array.from({ length: 10 }, (_, i) => ({
    type: 'function' as const,
    function: {
      name: `tool_${i}`,
      description: `Tool number ${i} does something useful with its arguments.`,
      parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
    },
  }));
  const req: GenerateRequest = { messages: [{ role: 'user', content: 'What is the weather in Paris for 3 days?' }], tools, maxTokens: 12, temperature: 0 };
  const first = await engine.generate(req);
  const second = await engine.generate(req);
  const fullBlocks = Math.floor((first.usage.promptTokens - 1) / 16) * 16;
  t.equal(first.usage.cachedPromptTokens, 0);
  t.ok(second.usage.cachedPromptTokens >= fullBlocks, `${second.usage.cachedPromptTokens} cached of ${first.usage.promptTokens}`);
  t.ok(fullBlocks > 100);
  t.same(second.tokenIds, first.tokenIds);
});

t.test('a KV cache too small for all requests preempts and completes with the same outputs', async (t) => {
  const big = await Engine.load(MODEL, { maxBatchTokens: 128 });
  const small = await Engine.load(MODEL, { maxBatchTokens: 128, kvCacheTokens: 224 });
  const [a, b] = await Promise.all([Promise.all(requests().map((r) => big.generate(r))), Promise.all(requests().map((r) => small.generate(r)))]);
  a.forEach((r, i) => t.same(b[i]!.tokenIds, r.tokenIds, `request ${i}`));
  t.ok(small.stats().preemptions > 0, 'preempted');
  t.equal(small.stats().kvBlocksUsed, 0);
  await big.close();
  await small.close();
});

t.test('abort mid-stream and breaking out of for-await return stats to idle', async (t) => {
  const engine = await Engine.load(MODEL);
  t.teardown(() => engine.close());
  const ac = new AbortController();
  let n = 0;
  await t.rejects(
    (async () => {
      for await (const ev of engine.stream({ promptTokens: [5, 6, 7], maxTokens: 500, ignoreEos: true, signal: ac.signal })) {
        if (ev.type === 'text' && ++n === 3) ac.abort();
      }
    })(),
    XlamAbortError,
  );
  let m = 0;
  for await (const ev of engine.stream({ promptTokens: [5, 6, 7], maxTokens: 500, ignoreEos: true })) {
    if (ev.type === 'text' && ++m === 3) break;
  }
  await t.rejects(engine.generate({ promptTokens: [1], signal: AbortSignal.abort() }), XlamAbortError);
  await new Promise((r) => setTimeout(r, 100)); // the cancel takes effect at the next step
  t.match(engine.stats(), { running: 0, waiting: 0, kvBlocksUsed: 0 });
});

t.test('close during generation rejects pending requests with a typed error', async (t) => {
  const engine = await Engine.load(MODEL);
  const pending = [engine.generate({ promptTokens: [1, 2, 3], maxTokens: 1000, ignoreEos: true }), engine.generate({ promptTokens: [4], maxTokens: 1000, ignoreEos: true })];
  await new Promise((r) => setTimeout(r, 50));
  await engine.close();
  for (const p of pending) await t.rejects(p, XlamEngineClosedError);
  await t.rejects(engine.generate({ promptTokens: [1] }), XlamEngineClosedError);
});

t.test('stop strings, EOS and bad requests', async (t) => {
  const engine = await Engine.load(MODEL);
  t.teardown(() => engine.close());
  const full = await engine.generate({ prompt: 'Hello', maxTokens: 16, temperature: 0, ignoreEos: true });
  const cut = full.text.slice(4, 9);
  const stopped = await engine.generate({ prompt: 'Hello', maxTokens: 16, temperature: 0, ignoreEos: true, stop: [cut] });
  t.equal(stopped.finishReason, 'stop');
  t.equal(stopped.text, full.text.slice(0, full.text.indexOf(cut)));
  await t.rejects(engine.generate({ prompt: 'x', promptTokens: [1] } as GenerateRequest), XlamInvalidArgumentError);
  await t.rejects(engine.generate({ promptTokens: [1], temperature: -1 }), XlamInvalidArgumentError);
  await t.rejects(engine.generate({ promptTokens: [1], logitBias: { '999999999': 1 } }), { code: 'INVALID_ARGUMENT' });
  t.match(engine.stats(), { running: 0, waiting: 0 });
});

t.test('callTools renders, generates and parses (calls typed, failures reported per call)', async (t) => {
  const engine = await Engine.load(MODEL);
  t.teardown(() => engine.close());
  const tools = [{ name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }] as const;
  const r = await engine.callTools([{ role: 'user', content: 'Weather in Paris?' }], tools, { maxTokens: 8, temperature: 0 });
  t.type(r.raw, 'string');
  t.ok(Array.isArray(r.calls));
  t.equal(r.usage.completionTokens, 8);
});

t.test('the event loop stays responsive while 16 streams generate', async (t) => {
  const engine = await Engine.load(MODEL); // computePriority 'idle' by default
  t.teardown(() => engine.close());
  const run = (maxTokens: number) =>
    Promise.all(
      requests().map(async (r) => {
        let n = 0;
        for await (const ev of engine.stream({ ...r, maxTokens })) if (ev.type === 'text') n++;
        return n;
      }),
    );
  // Warm-up: the tokenizer (an 11 MB tokenizer.json, parsed once) and the JIT, not generation.
  await run(2);
  await new Promise((r) => setTimeout(r, 200));
  // The criterion. A step's 16 events take 0.3-0.6 ms of JS here; what reaches the max
  // is the host and other processes taking the CPU from the event loop (an idle Node process sees
  // 2-20 ms on this shared 2-vCPU VM, in phases of minutes) and, run alone in a fresh process,
  // sometimes the collection of what loading the tokenizer left behind (10-40 ms pauses; not seen
  // after this file's earlier tests). So up to three measurements are taken and one must meet
  // the criterion: an engine that blocks the loop fails all three; a noisy minute fails one.
  const attempts: string[] = [];
  let met = false;
  for (let attempt = 0; attempt < 3 && !met; attempt++) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    await run(24);
    h.disable();
    const max = h.max / 1e6;
    const p99 = h.percentile(99) / 1e6;
    met = p99 < 5 && max < 20;
    attempts.push(`p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms`);
  }
  t.ok(met, `event-loop delay under 5 ms at p99 and 20 ms at most, in one of: ${attempts.join('; ')}`);
});
