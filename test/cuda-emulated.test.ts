// End-to-end parity of the CUDA backend (issue 7): whole tiny models run through every CUDA kernel
// on the emulator ('cuda-emulated', libxlam-cuda-emulated.so built by `npm test`'s pretest) and
// must give the CPU backend's greedy tokens, with top-5 logprobs within 1e-3 of the CPU's — alone
// and batched together (mixed prefill chunks and decodes in one forward pass). On a machine with a
// GPU, `npm run test:gpu` runs this file with XLAM_TEST_CUDA_BACKEND=cuda: the same parity on the
// device.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';

import { Engine } from '../dist/lib/index.js';
import { compareTopK, fixturePath, golden, repoRoot } from './helpers/fixtures.js';

const BACKEND = (process.env.XLAM_TEST_CUDA_BACKEND ?? 'cuda-emulated') as 'cuda' | 'cuda-emulated';

// The emulator runs every GPU thread on this CPU (~1 s of CPU per decode step over a 151,936-token
// vocabulary), so each model gets two prompts and a few tokens: llama (linear rope, f32 weights:
// the SIMT kernels), qwen2 (q/k/v bias, tied embeddings; bf16 and f16 weights: tensor cores), and
// mixtral (MoE routing, sorting and grouped GEMM; with the 300-token prompt: prefill chunks over
// many blocks). `npm run test:gpu` runs the same on a device.
const FIXTURES: Array<[string, number[]]> = [
  ['llama-linear-f32', [7, 40]],
  ['qwen2-bf16', [7, 40]],
  ['qwen2-f16', [7]],
  ['mixtral-bf16', [7, 300]],
];
const MAX_TOKENS = 4;
const TOL = 1e-3;

for (const [name, lengths] of FIXTURES) {
  t.test(`${name}: ${BACKEND} gives the CPU's greedy tokens`, async (t) => {
    const dir = fixturePath(name);
    const prompts = golden(name).prompts.map((p) => p.ids).filter((ids) => lengths.includes(ids.length));
    t.equal(prompts.length, lengths.length, 'the golden has the prompts');
    const cpu = await Engine.load(dir, { backend: 'cpu-reference' });
    const gpu = await Engine.load(dir, { backend: BACKEND });
    try {
      t.equal(gpu.info().backend, BACKEND);
      t.match(gpu.info().kernels, BACKEND === 'cuda' ? /^sm_\d+ / : /^sm_80 /);
      const opts = { maxTokens: MAX_TOKENS, topLogprobs: 5 };
      const want = [];
      for (const ids of prompts) want.push(await cpu.generateTokens(ids, opts));
      // One at a time, then all at once (one batch: prefill chunks beside decodes).
      const alone = [];
      for (const ids of prompts) alone.push(await gpu.generateTokens(ids, opts));
      const batched = await Promise.all(prompts.map((ids) => gpu.generateTokens(ids, opts)));
      for (const [label, got] of [['alone', alone], ['batched', batched]] as const) {
        prompts.forEach((ids, i) => {
          t.same(got[i]!.tokens, want[i]!.tokens, `${label}: prompt of ${ids.length} tokens`);
          const bad = got[i]!.topLogprobs
            .map((step, s) => compareTopK(step, want[i]!.topLogprobs[s]!, TOL))
            .find((m) => m !== undefined);
          t.equal(bad, undefined, `${label}: prompt of ${ids.length} tokens: top-5 logprobs within ${TOL}`);
        });
      }
      // Batch invariance: a request's logprobs do not depend on its neighbours, bit for bit.
      t.same(batched.map((r) => r.topLogprobs), alone.map((r) => r.topLogprobs), 'batched = alone, bitwise');
    } finally {
      await gpu.close();
      await cpu.close();
    }
  });
}

t.test(`xlam generate --backend ${BACKEND}`, async (t) => {
  const cli = join(repoRoot, 'dist', 'lib', 'cli.js');
  const dir = fixturePath('mixtral-f32');
  const run = (backend: string) =>
    JSON.parse(
      execFileSync(process.execPath, [cli, 'generate', '--model', dir, '--prompt-ids', '1,2,3,4,5', '--max-tokens', '3', '--backend', backend, '--json'], {
        encoding: 'utf8',
      }),
    ) as { tokens: number[] };
  t.same(run(BACKEND).tokens, run('cpu').tokens);
});
