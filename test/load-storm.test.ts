// RELIABILITY.md 7.2 L1–L3, reduced (the full sizes and the figures: npm run storm, bench/storm.mjs):
// - L1: 48 requests 32 at a time give exactly the tokens each gives alone, and leave the engine idle;
// - L2: a cancellation storm of 160 requests from 48 clients — aborts at random times, aborts while queued, stream iterators
//   dropped without return() — rejects only the aborted calls (XlamAbortError), leaves the other
//   outputs untouched and no KV block or sequence behind once the dropped iterators are collected;
// - L3: 32 requests on a KV pool at 25 % of their peak demand preempts, completes every request with the tokens of an
//   unpressured run, and refuses a request larger than the pool without touching it.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';

import { Engine, type GenerateRequest } from '../dist/lib/index.js';
// @ts-expect-error: plain JS module without types, shared with bench/storm.mjs
import { collectUntilIdle, makeRequests, pressure, quiet, runAlone, runConcurrent, settle, storm } from '../bench/load-scenarios.mjs';
import { fixturePath } from './helpers/fixtures.js';

const MODEL = fixturePath('qwen2-f32');
const LOAD = { maxSequences: 32, kvCacheTokens: 20_000 };
const IDLE = { running: 0, waiting: 0, kvBlocksUsed: 0 };
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
let unhandled = 0;
process.on('unhandledRejection', () => unhandled++);

interface StormRecord {
  role: 'abort' | 'queued' | 'abandon' | 'normal';
  outcome: 'ok' | 'aborted' | 'error';
  tokens?: number[];
  error?: unknown;
  eventsBeforeAbort?: number;
}

// One engine runs the requests alone (the reference), another runs L1 and then L2.
let reference: Engine;
let engine: Engine;
t.before(async () => {
  reference = await Engine.load(MODEL, LOAD);
  engine = await Engine.load(MODEL, LOAD);
});
t.teardown(async () => {
  await reference.close();
  await engine.close();
});

t.test('L1: 48 requests, 32 at a time, each gives its tokens alone', async (t) => {
  const requests = (await makeRequests(reference, { count: 48, seed: 11, maxTokens: 48 })) as GenerateRequest[];
  t.ok(requests.some((r) => r.tools) && requests.some((r) => r.promptTokens), 'tool requests with the grammar and token prompts');
  const alone = (await runAlone(reference, requests)) as number[][];
  const r = (await runConcurrent(engine, requests, 32)) as { outputs: number[][]; errors: unknown[] };
  t.same(r.errors, [], 'no error');
  r.outputs.forEach((o, i) => t.same(o, alone[i], `request ${i}`));
  await settle(engine);
  t.same(quiet(engine), IDLE, 'idle, every KV block free');
});

t.test('L2: a cancellation storm of 160 requests leaves the rest untouched and no block behind', async (t) => {
  const requests = (await makeRequests(reference, { count: 160, seed: 22, maxTokens: 32 })) as GenerateRequest[];
  const { records } = (await storm(engine, requests, { clients: 48, abandonTokens: 200 })) as { records: StormRecord[] };
  t.equal(records.filter(Boolean).length, requests.length, 'every request settled');
  const roles = (role: StormRecord['role']) => records.filter((r) => r.role === role);
  for (const role of ['abort', 'queued', 'abandon', 'normal'] as const) t.ok(roles(role).length > 0, `${roles(role).length} ${role}`);
  t.same(records.filter((r) => r.outcome === 'error').map((r) => String(r.error)), [], 'no error other than aborts');
  t.ok(roles('queued').every((r) => r.outcome === 'aborted'), 'every request aborted while queued rejected with XlamAbortError');
  t.ok(roles('queued').filter((r) => r.eventsBeforeAbort === 0).length >= roles('queued').length / 2, 'most had not produced an event when aborted');
  t.ok(roles('abort').some((r) => r.outcome === 'aborted'), 'aborts at random times rejected with XlamAbortError');
  t.ok(roles('normal').every((r) => r.outcome === 'ok'), 'normal requests all completed');
  const normal = records.map((r, i) => [r, i] as const).filter(([r]) => r.role === 'normal');
  const alone = (await runAlone(reference, normal.map(([, i]) => requests[i]!))) as number[][];
  normal.forEach(([r, i], k) => t.same(r.tokens, alone[k], `normal request ${i} untouched`));
  // The dropped iterators' requests are paused holding blocks until collection tells the engine.
  const rounds = (await collectUntilIdle(engine, gc)) as number;
  t.ok(rounds > 0, `idle after ${rounds} forced collections`);
  t.same(quiet(engine), IDLE, '0 leaked blocks, 0 sequences');
  t.equal(unhandled, 0, 'no unhandled rejection');
});

t.test('L3: a KV pool at 25 % of peak demand preempts and completes every request', async (t) => {
  const requests = (await makeRequests(reference, { count: 32, seed: 33, grammarShare: 0, sharedPrefixes: false })) as GenerateRequest[];
  const r = await pressure(MODEL, requests, { share: 0.25, loadOptions: { maxSequences: 32 } });
  t.ok(r.poolTokens < r.peakTokens / 2, `pool ${r.poolTokens} of peak ${r.peakTokens} tokens`);
  t.same(r.errors.map(String), [], 'no error');
  t.equal(r.completed, requests.length, '100 % completion');
  t.ok(r.preemptions >= 1, `${r.preemptions} preemptions`);
  (r.outputs as number[][]).forEach((o, i) => t.same(o, r.reference[i], `request ${i}: the unpressured run's tokens`));
  t.equal(r.admission, 'refused', 'a request larger than the pool is refused at admission');
  t.notOk(r.admissionTouchedPool, 'without touching the pool');
  t.same(r.quiet, IDLE);
});
