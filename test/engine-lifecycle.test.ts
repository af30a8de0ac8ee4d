// RELIABILITY.md 7.1 row N, lifecycle: closing twice is fine; every call after close is an
// XlamEngineClosedError (generate, stream, callTools, generateTokens, stats, info); close
// rejects what is in flight, a paused stream included; and a child process that ends with 8
// requests in flight (process.exit, an uncaught exception, an unhandled rejection) exits
// cleanly — its own exit code, no signal, no native abort — within 5 s.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import { Engine, XlamEngineClosedError } from '../dist/lib/index.js';
import { fixturePath, repoRoot } from './helpers/fixtures.js';

const MODEL = fixturePath('mistral-f32');
const CHILD = fileURLToPath(new URL('./helpers/exit-in-flight.mjs', import.meta.url));
const messages = [{ role: 'user' as const, content: 'Weather in Paris?' }];
const tools = [{ name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];

t.test('double close, and every call after close, are typed errors', async (t) => {
  const engine = await Engine.load(MODEL);
  t.ok((await engine.generateTokens([1, 2], { maxTokens: 2 })).tokens.length === 2, 'works before close');
  await engine.close();
  await engine.close();
  await engine[Symbol.asyncDispose]();
  await t.rejects(engine.generate({ promptTokens: [1] }), XlamEngineClosedError, 'generate');
  await t.rejects(engine.generate({ prompt: 'hello' }), XlamEngineClosedError, 'generate from text');
  await t.rejects(engine.generateTokens([1]), XlamEngineClosedError, 'generateTokens');
  await t.rejects(engine.callTools(messages, tools), XlamEngineClosedError, 'callTools');
  await t.rejects(engine.stream({ promptTokens: [1] }).next(), XlamEngineClosedError, 'stream');
  t.throws(() => engine.stats(), XlamEngineClosedError, 'stats');
  t.throws(() => engine.info(), XlamEngineClosedError, 'info');
});

t.test('close rejects running and queued requests and a stream no longer read', async (t) => {
  const engine = await Engine.load(MODEL, { maxSequences: 4, kvCacheTokens: 4096 });
  const long = { promptTokens: [9, 10, 11], maxTokens: 1000, ignoreEos: true };
  const stream = engine.stream(long);
  await stream.next(); // then stop reading: backpressure pauses it
  const generating = engine.generate({ ...long, promptTokens: [12, 13] });
  const queued = Array.from({ length: 8 }, (_, i) => engine.generate({ ...long, promptTokens: [20 + i] })); // beyond maxSequences: they wait
  await new Promise((r) => setTimeout(r, 200));
  t.ok(engine.stats().waiting > 0, 'requests were waiting');
  await engine.close();
  await t.rejects(generating, XlamEngineClosedError);
  for (const q of queued) await t.rejects(q, XlamEngineClosedError);
  await t.rejects((async () => { for (;;) if ((await stream.next()).done) return; })(), XlamEngineClosedError, 'the paused stream');
});

for (const [mode, code] of [['exit', 0], ['throw', 1], ['unhandled', 1]] as const) {
  t.test(`a child that ends with 8 requests in flight (${mode}) exits cleanly within 5 s`, async (t) => {
    const child = spawn(process.execPath, [CHILD, MODEL, mode], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let exitingAt = 0;
    child.stdout.on('data', (d: Buffer) => {
      if (!exitingAt && d.toString().includes('exiting')) exitingAt = performance.now();
    });
    const { status, signal } = await new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('the child did not exit within 60 s'));
      }, 60_000);
      child.on('exit', (s, sig) => {
        clearTimeout(timer);
        resolve({ status: s, signal: sig });
      });
    });
    const ms = performance.now() - exitingAt;
    t.ok(exitingAt > 0, 'the child had requests generating when it ended');
    t.equal(signal, null, 'not killed by a signal');
    t.equal(status, code, `exit code ${code}: ${stderr.slice(-500)}`);
    t.notMatch(stderr, /Abort|FATAL|Segmentation|terminate called/, 'no native abort');
    t.ok(ms < 5000, `exited ${ms.toFixed(0)} ms after ending (bound: 5 s)`);
  });
}
