// Benchmarks of the serving engine on the random-weight checkpoint with the xLAM-2-1b shape:
// aggregate decode tokens/s at concurrency 1, 4 and 16, and time to first token for an xLAM-2
// prompt with 10 BFCL tools, cold vs served from the prefix cache. Side by side in one run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { bfclToTools, Engine } from '../dist/lib/index.js';
import { makeCheckpoint } from './make-checkpoint.mjs';

const BFCL = join(new URL('.', import.meta.url).pathname, '..', '..', 'shared', 'bfcl', 'data', 'BFCL_v4_live_multiple.json');

// Aggregate decode rate: from the step where every request has its first token (prefill done)
// to the end, counted with the engine's own generated-token counter.
export async function decodeRate(engine, concurrency, tokens) {
  const prompt = (i) => Array.from({ length: 16 }, (_, k) => 1000 + i * 50 + k);
  const base = engine.stats().generatedTokens;
  let t0 = 0;
  let startTokens = 0;
  const poll = setInterval(() => {
    const g = engine.stats().generatedTokens - base;
    if (!t0 && g >= concurrency) {
      t0 = performance.now();
      startTokens = g;
    }
  }, 2);
  await Promise.all(
    Array.from({ length: concurrency }, (_, i) => engine.generate({ promptTokens: prompt(i), maxTokens: tokens, temperature: 0, ignoreEos: true })),
  );
  clearInterval(poll);
  const ms = performance.now() - t0;
  const generated = engine.stats().generatedTokens - base - startTokens;
  return { concurrency, generated, ms, tokensPerSecond: (generated / ms) * 1000 };
}

function tenTools() {
  const entries = readFileSync(BFCL, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const docs = [];
  for (const e of entries) {
    for (const f of e.function) if (docs.length < 10 && !docs.some((d) => d.name === f.name)) docs.push(f);
    if (docs.length >= 10) break;
  }
  return bfclToTools(docs);
}

// Time to first token: prefill plus one decoded token.
async function ttft(engine, request) {
  const t0 = performance.now();
  const r = await engine.generate({ ...request, maxTokens: 1 });
  return { ms: performance.now() - t0, usage: r.usage };
}

export async function benchServing({ tokens = 8, rounds = 5 } = {}) {
  const dir = makeCheckpoint();
  const engine = await Engine.load(dir, { maxBatchTokens: 512 });
  await engine.tokenizer();
  // Rounds interleave the concurrencies and each keeps its best round: the machine's noise (other
  // tenants, frequency) only ever slows a run down, and it must not land on one concurrency only.
  const levels = [1, 4, 16];
  const decode = levels.map((concurrency) => ({ concurrency, tokensPerSecond: 0 }));
  for (let round = 0; round < rounds; round++)
    for (const [i, c] of levels.entries()) {
      const r = await decodeRate(engine, c, tokens);
      if (r.tokensPerSecond > decode[i].tokensPerSecond) decode[i] = r;
    }
  const request = { messages: [{ role: 'user', content: 'Find me a restaurant in Paris for tomorrow evening.' }], tools: tenTools(), temperature: 0 };
  const cold = await ttft(engine, request);
  const cached = await ttft(engine, request);
  const kernels = engine.info().kernels;
  await engine.close();
  return { kernels, rounds, decode, promptTokens: cold.usage.promptTokens, coldMs: cold.ms, cachedMs: cached.ms, cachedTokens: cached.usage.cachedPromptTokens };
}
