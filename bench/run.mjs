#!/usr/bin/env node
// `npm run bench`: runs the benchmarks and writes their figures into bench/README.md between the
// BEGIN/END markers. Checkpoints are generated into bench/models/ (git-ignored) when missing.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { benchConstrained, constrainedFigures } from './constrained.mjs';
import { benchKernels } from './kernels.mjs';
import { benchLoad } from './load.mjs';
import { benchRender, renderFigures } from './render.mjs';
import { benchServing } from './serving.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const readme = join(here, 'README.md');
const gb = (b) => (b / 1e9).toFixed(2);

const load = await benchLoad();
const lines = [
  `Run ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}.`,
  '',
  '### Engine.load of a 1.5B-parameter bf16 checkpoint (xLAM-2-1b shape), file in the page cache',
  '',
  `Checkpoint: ${load.checkpoint}; ${gb(load.fileBytes)} GB in one safetensors file.`,
  '',
  '| what | median of 5 |',
  '| --- | --- |',
  `| \`Engine.load\` (validate header, map, bind ${load.weightTensors} tensors, allocate KV cache) | ${load.loadMs.toFixed(1)} ms |`,
  `| reading the same file once from the page cache (for scale) | ${load.readMs.toFixed(1)} ms |`,
  `| ratio read / load | ${load.ratio.toFixed(1)}× |`,
  '',
  `${load.weightTensorsMapped} of ${load.weightTensors} weight tensors are read in place from the mapping (zero-copy).`,
];
const serving = await benchServing();
const c1 = serving.decode[0].tokensPerSecond;
lines.push(
  '',
  `### Serving: continuous batching and prefix caching (same checkpoint, ${serving.kernels} kernels)`,
  '',
  `| concurrency | decode tokens/s (aggregate, after prefill; best of ${serving.rounds} interleaved rounds) | vs concurrency 1 |`,
  '| --- | --- | --- |',
  ...serving.decode.map((d) => `| ${d.concurrency} | ${d.tokensPerSecond.toFixed(2)} | ${(d.tokensPerSecond / c1).toFixed(2)}× |`),
  '',
  `Time to first token, xLAM-2 prompt with 10 BFCL tools (${serving.promptTokens} prompt tokens): cold ${(serving.coldMs / 1000).toFixed(2)} s, ` +
    `prefix-cached ${(serving.cachedMs / 1000).toFixed(2)} s (${serving.cachedTokens} tokens from the cache): ${(serving.coldMs / serving.cachedMs).toFixed(1)}× faster.`,
);
const kernels = await benchKernels();
const generic = kernels.rows.find((r) => r.isa === 'generic');
lines.push(
  '',
  '### CPU kernel sets side by side (same checkpoint; `XLAM_CPU_ISA` pins one per load)',
  '',
  `| kernels | prefill tokens/s (${kernels.prefillTokens}-token prompt) | decode tokens/s, concurrency 1 (best of ${kernels.rounds}) | decode tokens/s, concurrency 16 (best of ${kernels.rounds}) | prefill vs generic |`,
  '| --- | --- | --- | --- | --- |',
  ...kernels.rows.map(
    (r) => `| ${r.isa} | ${r.prefill.toFixed(1)} | ${r.c1.toFixed(2)} | ${r.c16.toFixed(2)} | ${generic ? (r.prefill / generic.prefill).toFixed(1) + '×' : '–'} |`,
  ),
);
lines.push('', ...renderFigures(await benchRender()));
// Constrained tool calls: mask times, decode with and without the grammar, every BFCL entry
// sampled under it (the longest section, ~20 minutes; `node bench/constrained.mjs` runs it alone;
// BENCH_BFCL_STRIDE=N samples every Nth BFCL entry instead).
const constrainedStart = performance.now();
try {
  const constrained = await benchConstrained({ stride: Number(process.env.BENCH_BFCL_STRIDE ?? 1), log: (m) => console.error(m) });
  lines.push(...constrainedFigures(constrained), '', `This section took ${((performance.now() - constrainedStart) / 60000).toFixed(0)} minutes.`);
} catch (err) {
  lines.push('', '### Constrained tool calls (grammar masks)', '', `The section failed: ${err.message}`);
}
console.log(lines.join('\n'));

const text = readFileSync(readme, 'utf8');
const begin = '<!-- BEGIN FIGURES -->', end = '<!-- END FIGURES -->';
const i = text.indexOf(begin), j = text.indexOf(end);
if (i < 0 || j < 0) throw new Error('bench/README.md lacks the figure markers');
writeFileSync(readme, text.slice(0, i + begin.length) + '\n' + lines.join('\n') + '\n' + text.slice(j));
