// RELIABILITY.md 7.1 row N: an AbortSignal before start, during prefill, during decode and after
// finish. Aborted calls reject with XlamAbortError (code ABORTED) and free their KV blocks; an
// abort before start submits nothing; an abort during prefill ends the request before its first
// token; an abort after finish changes nothing (the listener is gone, nothing rejects). And the
// stream consumer that neither aborts nor leaves its loop but drops the iterator: its request,
// paused by backpressure, is cancelled once the iterator is garbage-collected.
import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';

import { Engine, XlamAbortError } from '../dist/lib/index.js';
import { fixturePath } from './helpers/fixtures.js';

const MODEL = fixturePath('mistral-f32'); // context 2048
let unhandled = 0;
process.on('unhandledRejection', () => unhandled++);

const idle = (engine: Engine) => {
  const s = engine.stats();
  return { running: s.running, waiting: s.waiting, kvBlocksUsed: s.kvBlocksUsed };
};
const IDLE = { running: 0, waiting: 0, kvBlocksUsed: 0 };

t.test('before start: nothing is submitted', async (t) => {
  const engine = await Engine.load(fixturePath('qwen2-f32')); // it has a chat template, for callTools
  t.teardown(() => engine.close());
  const signal = AbortSignal.abort();
  const before = engine.stats();
  await t.rejects(engine.generate({ promptTokens: [1, 2], signal }), { name: 'XlamAbortError', code: 'ABORTED' });
  await t.rejects(engine.stream({ promptTokens: [1, 2], signal }).next(), XlamAbortError);
  await t.rejects(engine.callTools([{ role: 'user', content: 'hi' }], [{ name: 'f', parameters: { type: 'object' } }], { signal }), XlamAbortError);
  await new Promise((r) => setTimeout(r, 50));
  const after = engine.stats();
  t.equal(after.steps, before.steps, 'no forward pass ran');
  t.equal(after.promptTokensComputed, before.promptTokensComputed);
  t.same(idle(engine), IDLE);
});

t.test('during prefill: ends before the first token', async (t) => {
  // 1,600 prompt tokens in chunks of 8: 200 prefill steps; abort after the first chunk.
  const engine = await Engine.load(MODEL, { maxBatchTokens: 8 });
  t.teardown(() => engine.close());
  const prompt = Array.from({ length: 1600 }, (_, i) => 100 + ((i * 7919) % 30000));
  const before = engine.stats();
  const ac = new AbortController();
  const run = engine.generate({ promptTokens: prompt, maxTokens: 8, ignoreEos: true, signal: ac.signal });
  while (engine.stats().promptTokensComputed === before.promptTokensComputed) await new Promise((r) => setImmediate(r));
  ac.abort();
  await t.rejects(run, { name: 'XlamAbortError', code: 'ABORTED' });
  const after = engine.stats();
  t.equal(after.generatedTokens, before.generatedTokens, 'no token was generated');
  t.ok(after.promptTokensComputed - before.promptTokensComputed < prompt.length, `the prefill stopped (${after.promptTokensComputed - before.promptTokensComputed} of ${prompt.length} tokens)`);
  t.same(idle(engine), IDLE, 'blocks freed');
});

t.test('during decode: generate and stream reject, the rest is untouched', async (t) => {
  const engine = await Engine.load(MODEL);
  t.teardown(() => engine.close());
  const other = { promptTokens: [40, 41, 42], maxTokens: 24, temperature: 0, ignoreEos: true };
  const alone = await engine.generate(other);
  const ac = new AbortController();
  let texts = 0;
  const streamed = (async () => {
    for await (const ev of engine.stream({ promptTokens: [5, 6, 7], maxTokens: 1000, ignoreEos: true, signal: ac.signal }))
      if (ev.type === 'text' && ++texts === 3) ac.abort();
  })();
  const ac2 = new AbortController();
  const generated = engine.generate({ promptTokens: [8, 9], maxTokens: 1000, ignoreEos: true, signal: ac2.signal });
  const beside = engine.generate(other);
  await t.rejects(streamed, XlamAbortError, 'stream');
  ac2.abort();
  await t.rejects(generated, XlamAbortError, 'generate');
  t.ok(engine.stats().generatedTokens < 1000, 'aborted long before maxTokens');
  t.same((await beside).tokenIds, alone.tokenIds, 'a request beside them gives its own tokens');
  t.same(idle(engine), IDLE, 'blocks freed');
});

t.test('after finish: no effect', async (t) => {
  const engine = await Engine.load(MODEL);
  t.teardown(() => engine.close());
  const ac = new AbortController();
  const r = await engine.generate({ promptTokens: [1, 2, 3], maxTokens: 4, ignoreEos: true, signal: ac.signal });
  t.equal(getEventListeners(ac.signal, 'abort').length, 0, 'the abort listener was removed at the end');
  const ac2 = new AbortController();
  const events = [];
  for await (const ev of engine.stream({ promptTokens: [1, 2, 3], maxTokens: 4, ignoreEos: true, signal: ac2.signal })) events.push(ev);
  t.equal(getEventListeners(ac2.signal, 'abort').length, 0, 'stream: removed too');
  ac.abort();
  ac2.abort();
  await new Promise((res) => setTimeout(res, 50));
  t.equal(r.tokenIds.length, 4);
  t.equal(events.at(-1)?.type, 'done');
  t.same(idle(engine), IDLE);
  t.equal(unhandled, 0, 'no unhandled rejection in this file');
});

t.test('a stream iterator dropped without return() is cancelled when collected', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const engine = await Engine.load(MODEL);
  t.teardown(() => engine.close());
  await (async () => {
    const it = engine.stream({ promptTokens: [5, 6, 7], maxTokens: 1500, ignoreEos: true })[Symbol.asyncIterator]();
    await it.next();
    await it.next();
  })(); // dropped here: no return(), no abort
  // Unread events pile up until backpressure pauses the request, which then holds its blocks.
  for (let last = -1; engine.stats().generatedTokens !== last; ) {
    last = engine.stats().generatedTokens;
    await new Promise((r) => setTimeout(r, 300));
  }
  t.ok(engine.stats().generatedTokens < 1500, `paused after ${engine.stats().generatedTokens} tokens`);
  let rounds = 0;
  while (engine.stats().running > 0 && rounds++ < 100) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  t.same(idle(engine), IDLE, `freed after ${rounds} forced collections`);
  t.ok(engine.stats().generatedTokens < 1500, 'cancelled, not run to maxTokens');
});
