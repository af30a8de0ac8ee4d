#!/usr/bin/env node
// The full load, cancellation and KV-pressure scenarios of shared/RELIABILITY.md §7.2 (L1–L3) on
// the tiny qwen2-f32 fixture (bench/load-scenarios.mjs; test/load-storm.test.ts runs them
// reduced). Prints the figures and checks the goals; exit code 1 when one fails.
//
//   npm run storm -- [--l1 2000] [--l2 1000] [--l3 64] [--only l1,l2,l3]
//
// L1: 2,000 requests, 64 at a time (prompts 64–512 tokens cut from xLAM-style tool prompts,
//     16–64 tokens, 20 % chat requests with tools and the grammar), against each alone.
// L2: 1,000 requests from 96 clients: 30 % aborted at a random time in [0, 500 ms], 10 % aborted
//     while queued, 5 % stream iterators dropped after 1–5 events; the rest against each alone.
// L3: 64 requests (token prompts sharing no prefix) on a KV pool of 25 % of their peak demand,
//     against a pool with room for all.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { Engine } from '../dist/lib/index.js';
import { collectUntilIdle, makeRequests, pressure, quantile, quiet, runAlone, runConcurrent, settle, storm, warmUp } from './load-scenarios.mjs';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const here = dirname(fileURLToPath(import.meta.url));
const MODEL = join(here, '..', 'test', 'fixtures', 'models', 'qwen2-f32');
const { values: opt } = parseArgs({ options: { l1: { type: 'string', default: '2000' }, l2: { type: 'string', default: '1000' }, l3: { type: 'string', default: '64' }, only: { type: 'string', default: 'l1,l2,l3' } } });
const only = new Set(opt.only.split(','));
const LOAD = { maxSequences: 64, kvCacheTokens: 40_000 };

let unhandled = 0;
process.on('unhandledRejection', () => unhandled++);
const goals = {};
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const f1 = (x) => x.toFixed(1);

const reference = await Engine.load(MODEL, LOAD);

if (only.has('l1')) {
  const requests = await makeRequests(reference, { count: Number(opt.l1), seed: 11 });
  const t0 = performance.now();
  const alone = await runAlone(reference, requests);
  const aloneMs = performance.now() - t0;
  const engine = await Engine.load(MODEL, LOAD);
  await warmUp(engine); // grammars compiled, masks built: the figures are of serving, not of first use
  const r = await runConcurrent(engine, requests, 64);
  const mismatches = r.outputs.filter((o, i) => !same(o, alone[i])).length;
  await settle(engine);
  const q = quiet(engine);
  const s = engine.stats();
  await engine.close();
  console.log(`L1: ${requests.length} requests, 64 at a time: ${r.errors.length} errors, ${mismatches} outputs differing from the request alone, ` +
    `event-loop delay p99 ${f1(r.loopDelayP99Ms)} ms (max ${f1(r.loopDelayMaxMs)}), ${f1(r.ms / 1000)} s (alone, one by one: ${f1(aloneMs / 1000)} s), ` +
    `${s.generatedTokens} tokens in ${s.steps} steps, at the end ${JSON.stringify(q)}`);
  goals['L1 no error'] = r.errors.length === 0;
  goals['L1 outputs equal alone'] = mismatches === 0;
  goals['L1 idle, no KV block at the end'] = same(q, { running: 0, waiting: 0, kvBlocksUsed: 0 });
  goals['L1 event-loop delay p99 <= 20 ms'] = r.loopDelayP99Ms <= 20;
}

if (only.has('l2')) {
  const requests = await makeRequests(reference, { count: Number(opt.l2), seed: 22 });
  const engine = await Engine.load(MODEL, LOAD);
  await warmUp(engine);
  const before = engine.stats();
  // Step durations: the stats polled every 2 ms; where one step passed between two polls, its
  // forward + sampling time.
  const steps = [];
  let last = before;
  const poll = setInterval(() => {
    const s = engine.stats();
    if (s.steps === last.steps + 1) steps.push(s.forwardMs + s.sampleMs - last.forwardMs - last.sampleMs);
    last = s;
  }, 2);
  const { records, ms } = await storm(engine, requests, { clients: 96 });
  clearInterval(poll);
  const during = engine.stats();
  const stepMs = (during.forwardMs + during.sampleMs - before.forwardMs - before.sampleMs) / Math.max(1, during.steps - before.steps);
  await settle(engine, 2000);
  const beforeGc = quiet(engine);
  const gcRounds = await collectUntilIdle(engine, gc);
  const leaked = engine.stats().kvBlocksUsed;
  const q = quiet(engine);
  await engine.close();
  const normal = records.map((r, i) => [r, i]).filter(([r]) => r.role === 'normal');
  const alone = await runAlone(reference, normal.map(([, i]) => requests[i]));
  const mismatches = normal.filter(([r], k) => r.outcome !== 'ok' || !same(r.tokens, alone[k])).length;
  const by = (role) => records.filter((r) => r.role === role);
  const aborted = records.filter((r) => r.outcome === 'aborted');
  const latency = aborted.map((r) => r.abortToRejectMs);
  const queued = by('queued');
  const errors = records.filter((r) => r.outcome === 'error');
  const p99 = quantile(latency, 0.99);
  console.log(`L2: ${records.length} requests from 96 clients in ${f1(ms / 1000)} s: ${by('abort').length} aborted at random times (${by('abort').filter((r) => r.outcome === 'aborted').length} before they finished), ` +
    `${queued.length} aborted while queued (${queued.filter((r) => r.eventsBeforeAbort === 0 && r.waitingAtAbort > 0).length} with no event yet and requests waiting), ${by('abandon').length} iterators abandoned, ${normal.length} normal; ` +
    `${errors.length} errors, ${mismatches} normal outputs differing from alone; abort to rejection median ${f1(quantile(latency, 0.5))} ms, p99 ${f1(p99)} ms, max ${f1(Math.max(...latency))} ms ` +
    `(steps: mean ${f1(stepMs)} ms, median ${f1(quantile(steps, 0.5))}, p99 ${f1(quantile(steps, 0.99))}, max ${f1(Math.max(...steps))} of ${steps.length} timed); after the storm ${JSON.stringify(beforeGc)}, after ${gcRounds} forced collections ${JSON.stringify(q)}: leaked blocks ${leaked}; unhandled rejections ${unhandled}`);
  goals['L2 no error but aborts'] = errors.length === 0;
  goals['L2 normal outputs equal alone'] = mismatches === 0;
  goals['L2 0 leaked blocks and sequences'] = leaked === 0 && same(q, { running: 0, waiting: 0, kvBlocksUsed: 0 });
  // "Within one decode step + 50 ms": an abort waits for the step in progress to end, so its
  // bound is that step's length; the p99 step stands for it.
  goals['L2 abort to rejection p99 <= p99 step + 50 ms'] = p99 <= quantile(steps, 0.99) + 50;
  goals['L2 no unhandled rejection'] = unhandled === 0;
}

if (only.has('l3')) {
  // Token prompts that share no prefix: the peak demand is then the pool the requests need.
  const requests = await makeRequests(reference, { count: Number(opt.l3), seed: 33, grammarShare: 0, sharedPrefixes: false });
  const r = await pressure(MODEL, requests, { share: 0.25, loadOptions: { maxSequences: 64 } });
  const mismatches = r.outputs.filter((o, i) => !same(o, r.reference[i])).length;
  console.log(`L3: ${requests.length} requests, peak demand ${r.peakTokens} KV tokens, pool ${r.poolTokens} (${f1((100 * r.poolTokens) / r.peakTokens)} %): ` +
    `${r.completed} of ${requests.length} completed (${f1((100 * r.completed) / requests.length)} %), ${r.preemptions} preemptions, ${mismatches} outputs differing from the unpressured run, ${f1(r.ms / 1000)} s; ` +
    `a request larger than the pool: ${r.admission}${r.admissionTouchedPool ? ' (touched the pool!)' : ' without touching the pool'}; at the end ${JSON.stringify(r.quiet)}`);
  goals['L3 100 % completion'] = r.completed === requests.length;
  goals['L3 >= 1 preemption'] = r.preemptions >= 1;
  goals['L3 outputs equal the unpressured run'] = mismatches === 0;
  goals['L3 oversized request refused at admission, pool untouched'] = r.admission === 'refused' && !r.admissionTouchedPool;
}

await reference.close();
const failed = Object.entries(goals).filter(([, ok]) => !ok).map(([k]) => k);
console.log(failed.length === 0 ? `storm: every goal met (${Object.keys(goals).length})` : `storm: FAILED ${failed.join('; ')}`);
process.exitCode = failed.length === 0 ? 0 : 1;
