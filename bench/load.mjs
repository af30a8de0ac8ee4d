// Benchmark: Engine.load of the 1.5B-parameter bf16 checkpoint with the xLAM-2-1b shape, with
// the file in the page cache. Side by side in one run: the time to read the same file once
// from the page cache, so the ratio shows that loading maps the weights instead of copying them.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { Engine } from '../dist/lib/index.js';
import { makeCheckpoint } from './make-checkpoint.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function readWholeFile(path) {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(64 << 20);
  let total = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    total += n;
  }
  closeSync(fd);
  return total;
}

export async function benchLoad({ runs = 5 } = {}) {
  const dir = makeCheckpoint();
  const file = join(dir, 'model.safetensors');
  readWholeFile(file); // into the page cache
  const loads = [], reads = [];
  let info;
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    readWholeFile(file);
    reads.push(performance.now() - t0);
    t0 = performance.now();
    const engine = await Engine.load(dir);
    loads.push(performance.now() - t0);
    info = engine.info();
    await engine.close();
  }
  const load = median(loads), read = median(reads);
  return {
    name: 'load',
    checkpoint: `${info.modelType}, hidden ${info.hiddenSize}, ${info.layers} layers, ${info.heads}/${info.kvHeads} heads, vocab ${info.vocabSize}, bf16, tied`,
    fileBytes: statSync(file).size,
    weightTensors: info.weightTensors,
    weightTensorsMapped: info.weightTensorsMapped,
    loadMs: load,
    readMs: read,
    ratio: read / load,
  };
}
