#!/usr/bin/env node
// `npm run demo`: the main job on a small embedded default. Makes the tiny random-weight
// qwen2 fixture (xLAM-2 architecture, real Qwen tokenizer) if it is missing, loads it with the
// native engine and decodes greedily from a prompt of token ids. Random weights answer
// nonsense; the point is the whole path: folder -> mapped weights -> paged-KV forward -> tokens.
import { join } from 'node:path';

import { Engine } from '../dist/lib/index.js';
import { DEFAULT_OUT, fixtureByName, makeFixture } from './make-fixtures.mjs';

const name = 'qwen2-bf16';
makeFixture(fixtureByName(name), DEFAULT_OUT);
const dir = join(DEFAULT_OUT, name);

const engine = await Engine.load(dir);
const info = engine.info();
console.log(`model: ${dir}`);
console.log(`  ${info.modelType}, ${info.layers} layers, hidden ${info.hiddenSize}, ${info.heads}/${info.kvHeads} heads, ` +
  `vocab ${info.vocabSize}; ${info.weightTensorsMapped}/${info.weightTensors} weight tensors memory-mapped; backend ${info.backend}`);
// "<|im_start|>user\nWhat is the weather in Paris?<|im_end|>\n<|im_start|>assistant\n" in the Qwen2 tokenizer.
const prompt = [151644, 872, 198, 3838, 374, 279, 9104, 304, 12095, 30, 151645, 198, 151644, 77091, 198];
const t0 = performance.now();
const r = await engine.generateTokens(prompt, { maxTokens: 16, topLogprobs: 3 });
const ms = performance.now() - t0;
console.log(`prompt ids: ${prompt.join(' ')}`);
console.log(`generated:  ${r.tokens.join(' ')}  (${r.tokens.length} tokens in ${ms.toFixed(1)} ms, finish: ${r.finishReason})`);
r.topLogprobs.slice(0, 4).forEach((step, i) =>
  console.log(`  step ${i}: ${step.map(([id, lp]) => `${id} (${lp.toFixed(3)})`).join(', ')}`));
await engine.close();
