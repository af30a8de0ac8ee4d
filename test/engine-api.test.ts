// The Engine API's contract: validated options with typed errors, context limits, stop ids,
// concurrent calls (batched on the engine thread), close.
import t from 'tap';

import {
  Engine,
  XlamContextOverflowError,
  XlamEngineClosedError,
  XlamInvalidArgumentError,
} from '../dist/lib/index.js';
import { fixturePath, golden } from './helpers/fixtures.js';

const NAME = 'qwen2-f32';

t.test('info describes the model and the mapping', async (t) => {
  const engine = await Engine.load(fixturePath(NAME), { kvCacheTokens: 1000, blockSize: 32 });
  const i = engine.info();
  t.match(i, { backend: 'cpu', kernels: /^(amx|avx512|avx2|generic)$/, modelType: 'qwen2', vocabSize: 151936, hiddenSize: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16 });
  t.equal(i.kvCacheTokens, 1024, 'rounded up to whole blocks');
  t.equal(i.blockSize, 32);
  t.equal(i.weightTensorsMapped, i.weightTensors, 'every f32 tensor read in place from the mapping');
  await engine.close();
});

t.test('XLAM_CPU_ISA pins the CPU kernel set at load; an unknown set is a typed error', async (t) => {
  const saved = process.env.XLAM_CPU_ISA;
  t.teardown(() => {
    if (saved === undefined) delete process.env.XLAM_CPU_ISA;
    else process.env.XLAM_CPU_ISA = saved;
  });
  process.env.XLAM_CPU_ISA = 'generic';
  const engine = await Engine.load(fixturePath(NAME));
  t.equal(engine.info().kernels, 'generic');
  await engine.close();
  process.env.XLAM_CPU_ISA = 'sse9';
  await t.rejects(Engine.load(fixturePath(NAME)), { name: 'XlamInvalidArgumentError', message: /XLAM_CPU_ISA=sse9/ });
});

t.test('bad options and requests are typed errors', async (t) => {
  await t.rejects(Engine.load(fixturePath(NAME), { blockSize: 0 }), XlamInvalidArgumentError);
  await t.rejects(Engine.load(fixturePath(NAME), { backend: 'tpu' as 'cpu' }), XlamInvalidArgumentError);
  await t.rejects(Engine.load(fixturePath(NAME), { nope: 1 } as object), XlamInvalidArgumentError);
  await t.rejects(Engine.load(''), XlamInvalidArgumentError);
  const engine = await Engine.load(fixturePath(NAME), { kvCacheTokens: 64 });
  t.teardown(() => engine.close());
  await t.rejects(engine.generateTokens([]), XlamInvalidArgumentError);
  await t.rejects(engine.generateTokens([1.5]), XlamInvalidArgumentError);
  await t.rejects(engine.generateTokens([-1]), XlamInvalidArgumentError);
  await t.rejects(engine.generateTokens([151936]), { code: 'INVALID_ARGUMENT', message: /vocabulary/ });
  await t.rejects(engine.generateTokens([1], { maxTokens: -1 }), XlamInvalidArgumentError);
  await t.rejects(engine.generateTokens([1], { topLogprobs: 101 }), XlamInvalidArgumentError);
  await t.rejects(engine.generateTokens(Array(60).fill(5), { maxTokens: 10 }), XlamContextOverflowError);
  // The engine still works after every rejection.
  const r = await engine.generateTokens(Array(60).fill(5), { maxTokens: 5 });
  t.equal(r.tokens.length, 5, 'exactly fills the 64-token cache');
});

t.test('maxTokens 0 and stop ids', async (t) => {
  const g = golden(NAME);
  const p = g.prompts[1]!;
  const engine = await Engine.load(fixturePath(NAME));
  t.teardown(() => engine.close());
  t.same((await engine.generateTokens(p.ids, { maxTokens: 0 })).tokens, []);
  const stopAt = p.tokens[3]!;
  const first = p.tokens.indexOf(stopAt);
  const r = await engine.generateTokens(p.ids, { maxTokens: 32, stopTokenIds: [stopAt] });
  t.same(r.tokens, p.tokens.slice(0, first + 1));
  t.equal(r.finishReason, 'stop');
});

t.test('concurrent calls each get their own answer', async (t) => {
  const g = golden(NAME);
  const engine = await Engine.load(fixturePath(NAME));
  t.teardown(() => engine.close());
  const results = await Promise.all(g.prompts.map((p) => engine.generateTokens(p.ids, { maxTokens: 32 })));
  results.forEach((r, i) => t.same(r.tokens, g.prompts[i]!.tokens));
});

t.test('generateTokens runs on the engine thread: concurrent calls share forward passes', async (t) => {
  const g = golden(NAME);
  const p = g.prompts[3]!; // 300 tokens
  const engine = await Engine.load(fixturePath(NAME));
  t.teardown(() => engine.close());
  const solo = await engine.generateTokens(p.ids, { maxTokens: 32 });
  const soloSteps = engine.stats().steps;
  const [a, b] = await Promise.all([engine.generateTokens(p.ids, { maxTokens: 32 }), engine.generateTokens(p.ids, { maxTokens: 32, topLogprobs: 2 })]);
  t.same(a.tokens, solo.tokens);
  t.same(b.tokens, solo.tokens);
  t.equal(b.topLogprobs.length, 32);
  const steps = engine.stats().steps - soloSteps;
  t.ok(steps < 1.5 * soloSteps, `${steps} steps for two calls, ${soloSteps} for one`);
  t.match(engine.stats(), { running: 0, waiting: 0, kvBlocksUsed: 0 });
});

t.test('close: pending calls and later calls are typed errors', async (t) => {
  const g = golden(NAME);
  const engine = await Engine.load(fixturePath(NAME));
  const running = engine.generateTokens(g.prompts[3]!.ids, { maxTokens: 32 });
  await engine.close();
  await t.rejects(running, XlamEngineClosedError);
  await t.rejects(engine.generateTokens([1]), XlamEngineClosedError);
  t.throws(() => engine.info(), XlamEngineClosedError);
  await engine.close(); // twice is fine
});
