// Greedy tokens and top-5 logprobs of every fixture model against the transformers goldens
// (scripts/make-goldens.py): 32 steps from prompts of 1, 7, 40 and 300 tokens.
import { readdirSync } from 'node:fs';
import t from 'tap';

import { Engine, XlamInvalidArgumentError } from '../dist/lib/index.js';
import { compareTopK, fixturePath, golden, modelGoldensDir, tolerance, type Golden } from './helpers/fixtures.js';

const goldens: Array<[string, Golden]> = [];
for (const file of readdirSync(modelGoldensDir).filter((f) => f.endsWith('.json')).sort()) {
  const g = golden(file.replace(/\.json$/, ''));
  for (const name of [g.fixture, ...(g.also_for ?? [])]) goldens.push([name, g]);
}

t.test('every fixture family has a golden', async (t) => {
  const names = goldens.map(([n]) => n);
  for (const family of ['llama', 'llama-linear', 'llama3-rope', 'mistral', 'qwen2', 'mixtral'])
    for (const dtype of ['f32', 'bf16']) t.ok(names.includes(`${family}-${dtype}`), `${family}-${dtype}`);
  for (const name of ['llama-sharded-f32', 'qwen2-f16', 'qwen2-yarn-f32']) t.ok(names.includes(name), name);
  for (const [, g] of goldens) t.same(g.prompts.map((p) => p.ids.length), [1, 7, 40, 300]);
});

// Loads with XLAM_CPU_ISA pinning the CPU kernel set (undefined: the detected one); null when
// this CPU or build lacks the set.
async function loadWithKernels(path: string, isa: string | undefined): Promise<Engine | null> {
  const saved = process.env.XLAM_CPU_ISA;
  if (isa === undefined) delete process.env.XLAM_CPU_ISA;
  else process.env.XLAM_CPU_ISA = isa;
  try {
    return await Engine.load(path);
  } catch (e) {
    if (isa !== undefined && e instanceof XlamInvalidArgumentError) return null;
    throw e;
  } finally {
    if (saved === undefined) delete process.env.XLAM_CPU_ISA;
    else process.env.XLAM_CPU_ISA = saved;
  }
}

// The detected kernel set runs every golden; the other sets this CPU has run them too.
const detected = await (async () => {
  const e = await Engine.load(fixturePath('qwen2-f32'));
  const k = e.info().kernels;
  await e.close();
  return k;
})();
const kernelSets = [undefined, ...['amx', 'avx512', 'avx2', 'generic'].filter((k) => k !== detected)];

for (const isa of kernelSets)
for (const [name, g] of goldens) {
  t.test(`${name} (${isa ?? detected} kernels): greedy tokens and top-5 logprobs equal transformers for 32 steps`, async (t) => {
    const engine = await loadWithKernels(fixturePath(name), isa);
    if (!engine) return t.skip(`this CPU lacks ${isa}`);
    t.teardown(() => engine.close());
    t.equal(engine.info().kernels, isa ?? detected);
    const tol = tolerance(g);
    for (const p of g.prompts) {
      const r = await engine.generateTokens(p.ids, { maxTokens: 32, topLogprobs: 5 });
      t.same(r.tokens, p.tokens, `prompt of ${p.ids.length}: tokens`);
      t.equal(r.finishReason, 'length');
      let mismatch: string | undefined;
      r.topLogprobs.forEach((step, i) => {
        mismatch ??= compareTopK(step, p.top_logprobs[i]!, tol);
        if (mismatch && !mismatch.startsWith('step')) mismatch = `step ${i}: ${mismatch}`;
      });
      t.equal(mismatch, undefined, `prompt of ${p.ids.length}: top-5 logprobs within ${tol}`);
    }
  });
}

t.test('the reference backend (the oracle) gives the golden tokens too', async (t) => {
  for (const name of ['qwen2-f32', 'mixtral-bf16', 'mistral-f32']) {
    const g = golden(name);
    const engine = await Engine.load(fixturePath(name), { backend: 'cpu-reference' });
    t.equal(engine.info().backend, 'cpu-reference');
    t.equal(engine.info().kernels, 'reference');
    const p = g.prompts[2]!;  // 40 tokens
    const r = await engine.generateTokens(p.ids, { maxTokens: 8, topLogprobs: 5 });
    t.same(r.tokens, p.tokens.slice(0, 8), name);
    r.topLogprobs.forEach((step, i) => t.equal(compareTopK(step, p.top_logprobs[i]!, tolerance(g)), undefined));
    await engine.close();
  }
});

t.test('prefill chunking, block size and thread count do not change the output', async (t) => {
  const g = golden('mixtral-f32');
  const p = g.prompts[3]!;  // 300 tokens
  const variants = [
    { maxBatchTokens: 7, blockSize: 16 },
    { maxBatchTokens: 512, blockSize: 1 },
    { maxBatchTokens: 64, blockSize: 48, threads: 1 },
  ];
  for (const opts of variants) {
    const engine = await Engine.load(fixturePath('mixtral-f32'), opts);
    const r = await engine.generateTokens(p.ids, { maxTokens: 32, topLogprobs: 5 });
    t.same(r.tokens, p.tokens, JSON.stringify(opts));
    await engine.close();
  }
});
