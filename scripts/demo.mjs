#!/usr/bin/env node
// `npm run demo`: the main job, a tool call, on a small embedded default. Makes the tiny
// random-weight qwen2 fixture (xLAM-2 architecture, real Qwen tokenizer) if it is missing, or
// takes a model folder as its argument (`npm run demo -- /models/xLAM-2-1b-fc-r`). It streams a
// constrained tool call, then asks callTools for the typed call. Random weights write nonsense
// arguments, but the output grammar makes every call valid: a known tool, arguments that match
// its schema.
import { join } from 'node:path';

import { z } from 'zod';

import { Engine, tool } from '../dist/lib/index.js';
import { DEFAULT_OUT, fixtureByName, makeFixture } from './make-fixtures.mjs';

let dir = process.argv[2];
if (!dir) {
  makeFixture(fixtureByName('qwen2-bf16'), DEFAULT_OUT);
  dir = join(DEFAULT_OUT, 'qwen2-bf16');
}

const weather = tool({
  name: 'get_weather',
  description: 'Current weather of a city',
  parameters: z.object({
    city: z.string().min(1).max(24).describe('The city, e.g. Paris'),
    unit: z.enum(['celsius', 'fahrenheit']).optional(),
  }),
});
const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];

const engine = await Engine.load(dir);
const info = engine.info();
console.log(`model: ${dir} (${info.modelType}, ${info.layers} layers, vocab ${info.vocabSize})`);

console.log('stream:');
const escaped = (s) => JSON.stringify(s).slice(1, -1); // random weights write odd whitespace
for await (const ev of engine.stream({ messages, tools: [weather], toolChoice: 'required', maxTokens: 200 })) {
  if (ev.type === 'tool_call_start') process.stdout.write(`  call ${ev.index} ${ev.name}: `);
  else if (ev.type === 'tool_call_delta') process.stdout.write(escaped(ev.argumentsDelta));
  else if (ev.type === 'tool_call_end') console.log(ev.call.error ? `  -> invalid: ${ev.call.error.message}` : '  -> valid');
  else if (ev.type === 'text') process.stdout.write(escaped(ev.delta));
  else if (ev.type === 'done') console.log(`  done: ${ev.finishReason}, ${ev.usage.completionTokens} tokens`);
}

console.log('callTools:');
const { calls, finishReason } = await engine.callTools(messages, [weather], { toolChoice: 'required', maxTokens: 200, temperature: 0.7, seed: 42 });
for (const call of calls) {
  if (call.error) console.log(`  invalid call: ${call.error.code} ${call.error.message}`);
  else console.log(`  ${call.name}(city: ${JSON.stringify(call.arguments.city)}, unit: ${call.arguments.unit ?? '(default)'})`);
}
console.log(`  finish: ${finishReason}`);
await engine.close();
if (calls.length === 0 || calls.some((c) => c.error)) process.exitCode = 1;
