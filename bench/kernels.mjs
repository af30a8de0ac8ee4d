// Benchmark: the CPU backend's kernel sets side by side on the checkpoint with the xLAM-2-1b
// shape. Each instruction set this CPU runs (pinned with XLAM_CPU_ISA for one Engine.load) is
// measured in the same run: prefill tokens/s on one 512-token prompt, and aggregate decode
// tokens/s at concurrency 1 and 16 (the best of interleaved rounds).
import { Engine } from '../dist/lib/index.js';
import { makeCheckpoint } from './make-checkpoint.mjs';
import { decodeRate } from './serving.mjs';

const ISAS = ['generic', 'avx2', 'avx512', 'amx'];

async function prefillRate(engine, tokens) {
  const promptTokens = Array.from({ length: tokens }, (_, k) => 3000 + ((k * 7919) % 100000));
  const t0 = performance.now();
  await engine.generate({ promptTokens, maxTokens: 1, temperature: 0 });
  return (tokens / (performance.now() - t0)) * 1000;
}

export async function benchKernels({ prefillTokens = 512, decodeTokens = 6, rounds = 2 } = {}) {
  const dir = makeCheckpoint();
  const rows = [];
  const saved = process.env.XLAM_CPU_ISA;
  try {
    for (const isa of ISAS) {
      process.env.XLAM_CPU_ISA = isa;
      let engine;
      try {
        engine = await Engine.load(dir, { maxBatchTokens: 512 });
      } catch {
        continue; // this CPU (or build) lacks the set
      }
      try {
        const prefill = await prefillRate(engine, prefillTokens);
        let c1 = 0;
        let c16 = 0;
        for (let round = 0; round < rounds; round++) {
          c1 = Math.max(c1, (await decodeRate(engine, 1, decodeTokens)).tokensPerSecond);
          c16 = Math.max(c16, (await decodeRate(engine, 16, decodeTokens)).tokensPerSecond);
        }
        rows.push({ isa, prefill, c1, c16 });
      } finally {
        await engine.close();
      }
    }
  } finally {
    if (saved === undefined) delete process.env.XLAM_CPU_ISA;
    else process.env.XLAM_CPU_ISA = saved;
  }
  return { prefillTokens, rounds, rows };
}
