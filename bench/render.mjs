#!/usr/bin/env node
// Prompt rendering on the host thread vs in the sandbox worker (what Engine does): per-render
// latency and the host's event-loop delay, for a 10-tool BFCL-sized prompt and for one at the
// request limits (128 tools, 512 messages, ~2,000,000 characters). Side by side in one run.
// `node bench/render.mjs` prints a table; bench/run.mjs includes it.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { ChatTemplate, DEFAULT_TEMPLATE_BUDGET, normalizeTools } from '../dist/lib/index.js';
import { runRenderJob, templateData } from '../dist/lib/prompt/sandbox/job.js';
import { RenderSandbox } from '../dist/lib/prompt/sandbox/sandbox.js';

const here = dirname(fileURLToPath(import.meta.url));
const source = readFileSync(join(here, '..', 'test', 'fixtures', 'templates', 'xlam2-qwen.hf.jinja'), 'utf8');
const template = new ChatTemplate(source, { eos_token: '<|im_end|>' });
const control = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];

function tool(i, chars) {
  return {
    name: `tool_${i}`,
    description: 'd'.repeat(chars),
    parameters: { type: 'object', properties: Object.fromEntries(Array.from({ length: 10 }, (_, j) => [`p${j}`, { type: 'string', description: 'x'.repeat(40), enum: ['a', 'b'] }])), required: ['p0'] },
  };
}

const CASES = [
  { name: '10 tools, 3 messages', tools: Array.from({ length: 10 }, (_, i) => tool(i, 200)), messages: [{ role: 'system', content: 'You are helpful.' }, { role: 'user', content: 'What is the weather in Paris and in Rome?' }, { role: 'assistant', content: 'Let me check.' }, { role: 'user', content: 'Go on.' }] },
  { name: '128 tools, 512 messages (~2 M characters)', tools: Array.from({ length: 128 }, (_, i) => tool(i, 200)), messages: Array.from({ length: 512 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: 'hello '.repeat(640) })) },
];

const job = (c) => ({
  template: templateData(template), format: 'xlam2', messages: c.messages, tools: normalizeTools(c.tools), addGenerationPrompt: true,
  budget: { ...DEFAULT_TEMPLATE_BUDGET, maxTimeMs: 10_000 }, controlTokens: control, specialTokenText: 'plain',
});

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchRender({ rounds = 7 } = {}) {
  const sandbox = new RenderSandbox();
  await sandbox.render(job(CASES[0]));
  const rows = [];
  for (const c of CASES) {
    const j = job(c);
    const host = [];
    const worker = [];
    const delays = { host: monitorEventLoopDelay({ resolution: 1 }), worker: monitorEventLoopDelay({ resolution: 1 }) };
    // The worker's rounds first, then the host thread's: garbage from host renders would show up
    // as collector pauses in the worker's delay figure otherwise.
    const tick = setInterval(() => {}, 1); // keeps the loop ticking, so its delay is sampled
    delays.worker.enable();
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      c.chars = (await sandbox.render(j)).text.length;
      worker.push(performance.now() - t0);
    }
    delays.worker.disable();
    delays.host.enable();
    for (let r = 0; r < rounds; r++) {
      await new Promise((res) => setTimeout(res, 2));
      const t0 = performance.now();
      runRenderJob(j);
      host.push(performance.now() - t0);
    }
    await new Promise((res) => setTimeout(res, 2));
    delays.host.disable();
    clearInterval(tick);
    rows.push({
      name: c.name, chars: c.chars, hostMs: median(host), workerMs: median(worker),
      hostMaxDelayMs: delays.host.max / 1e6, workerMaxDelayMs: delays.worker.max / 1e6,
    });
  }
  await sandbox.close();
  return { rounds, rows };
}

export function renderFigures(r) {
  return [
    '### Prompt rendering: on the host thread vs in the sandbox worker (xLAM-2 Qwen template)',
    '',
    `| prompt | characters | host thread, median of ${r.rounds} | worker (Engine's path), median | worst event-loop delay: host thread | worker |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...r.rows.map((x) => `| ${x.name} | ${x.chars.toLocaleString('en-US')} | ${x.hostMs.toFixed(1)} ms | ${x.workerMs.toFixed(1)} ms | ${x.hostMaxDelayMs.toFixed(1)} ms | ${x.workerMaxDelayMs.toFixed(1)} ms |`),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(renderFigures(await benchRender()).join('\n'));
}
