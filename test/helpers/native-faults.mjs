// The child process of test/native-faults.test.ts, run with XLAM_TEST_FAULT naming the sites
// that throw (native/src/fault-injection.h). Prints one JSON line per step: { name, got } where
// got is the error class and code a call ended with ('XlamOutOfMemoryError:OUT_OF_MEMORY', ...),
// 'ok', or for a generation its tokens; then { done: true } as the last line.
import { Engine } from '../../dist/lib/index.js';
import { native } from '../../dist/lib/native.js';
import { fromNative } from '../../dist/lib/errors.js';

const [model, promptJson] = process.argv.slice(2);
const prompt = JSON.parse(promptJson);
const describe = (err) => `${err?.constructor?.name}:${err?.code}`;
const print = (name, got) => console.log(JSON.stringify({ name, got }));
async function step(name, f) {
  try {
    const v = await f();
    print(name, v === undefined ? 'ok' : v);
  } catch (err) {
    print(name, describe(err));
  }
}

await step('Engine.load, the binding call throws', async () => void (await Engine.load(model)));
await step('Engine.load, the load on the worker thread throws', async () => void (await Engine.load(model)));
const engine = await Engine.load(model);
await step('stats throws', () => void engine.stats());
await step('stats again', () => void engine.stats());
await step('info throws a non-std exception', () => void engine.info());
await step('submit throws', () => engine.generateTokens(prompt, { maxTokens: 4 }).then((r) => r.tokens));
await step('a stream whose step throws', async () => {
  for await (const ev of engine.stream({ promptTokens: prompt, maxTokens: 8, ignoreEos: true })) void ev;
});
await step('stats after the failed step', () => {
  const s = engine.stats();
  return { running: s.running, waiting: s.waiting, kvBlocksUsed: s.kvBlocksUsed };
});
const three = await Promise.allSettled([0, 1, 2].map(() => engine.generateTokens(prompt, { maxTokens: 8 })));
print('three concurrent requests, a step throws', three.map((r) => (r.status === 'fulfilled' ? r.value.tokens : describe(r.reason))));
await step('stats after them', () => {
  const s = engine.stats();
  return { running: s.running, waiting: s.waiting, kvBlocksUsed: s.kvBlocksUsed };
});
await step('the engine generates again', () => engine.generateTokens(prompt, { maxTokens: 8 }).then((r) => r.tokens));
const vocab = [new Uint8Array([97]), Uint32Array.of(0, 1), Uint8Array.of(1)];
await step('new GrammarSession throws', () => {
  try {
    void new (native().GrammarSession)(...vocab);
  } catch (err) {
    throw fromNative(err);
  }
});
await step('GrammarSession.stats throws', () => {
  const s = new (native().GrammarSession)(...vocab);
  try {
    s.stats();
  } catch (err) {
    throw fromNative(err);
  }
});
await engine.close();
print('done', true);
