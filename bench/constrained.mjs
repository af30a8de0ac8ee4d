// Benchmarks of grammar-constrained tool calls (see the README's "Constrained tool calls"):
// 1. mask time per token with the 151k Qwen vocabulary, replaying BFCL ground-truth answers in one
//    long-lived native GrammarSession (cold: first use of each grammar; warm: a second replay);
// 2. the same summed over 16 concurrent sequences (the batch's mask time per engine step), and
//    measured in the engine on the bench checkpoint;
// 3. decode tokens/s with and without the constraint on the xLAM-2-1b-shaped checkpoint;
// 4. every BFCL entry with tools sampled at temperature 1.0 under toolChoice 'required' by tiny
//    random-weight models with the Qwen2 and Llama-3 vocabularies: how many outputs are valid.
//
//   node bench/constrained.mjs [masks] [decode] [bfcl] [--stride=N] [--rounds=N] [--tokens=N]
// runs the named parts (default: all three) and prints their figures; --stride=N takes every Nth
// BFCL entry, --rounds and --tokens set the decode comparison's rounds and maxTokens.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { compileGrammar, toByteGrammar, toolCallGrammar } from '../dist/lib/grammar/index.js';
import { bfclLanguage, bfclToTools, Engine, parseJson, stringifyJson, Tokenizer } from '../dist/lib/index.js';
import { native } from '../dist/lib/native.js';
import { makeFixtures } from '../scripts/make-fixtures.mjs';
import { makeCheckpoint } from './make-checkpoint.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const DATA = join(here, '..', '..', 'shared', 'bfcl', 'data');
const FIXTURES = join(here, '..', 'test', 'fixtures', 'models');

const readLines = (file) => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
const isDict = (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && v.constructor === Object;
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const summary = (values) => {
  const s = Float64Array.from(values).sort();
  return { n: s.length, median: quantile(s, 0.5), p99: quantile(s, 0.99), max: s[s.length - 1] ?? 0, mean: s.reduce((a, b) => a + b, 0) / (s.length || 1) };
};

function fixture(name) {
  makeFixtures(FIXTURES, { only: [name] });
  return join(FIXTURES, name);
}

/**
 * A copy of a test fixture whose config allows `context` positions (random weights learned no
 * context length), in the git-ignored bench/models: every BFCL prompt fits, with room to answer.
 */
function longContextFixture(name, context) {
  const from = fixture(name);
  const to = join(here, 'models', `${name}-context${context}`);
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) {
    if (f === 'config.json') continue;
    const target = join(to, f);
    if (!existsSync(target) || statSync(target).size !== statSync(join(from, f)).size) copyFileSync(join(from, f), target);
  }
  const config = JSON.parse(readFileSync(join(from, 'config.json'), 'utf8'));
  config.max_position_embeddings = context;
  writeFileSync(join(to, 'config.json'), JSON.stringify(config, null, 2));
  return to;
}

// ---------------------------------------------------------------------------------------------
// BFCL entries and ground-truth answers

/** Every BFCL entry with tools (file order): id, first turn's messages, tools as BFCL shows them. */
export function bfclEntries() {
  const out = [];
  for (const file of readdirSync(DATA).filter((f) => f.endsWith('.json')).sort()) {
    for (const line of readLines(join(DATA, file))) {
      const e = JSON.parse(line);
      if (!e.function?.length || !e.question?.[0]?.length) continue;
      out.push({ id: e.id, file, messages: e.question[0], docs: e.function, tools: bfclToTools(e.function, { language: bfclLanguage(e.id) }) });
    }
  }
  return out;
}

/**
 * A minimal ground-truth answer (the tests' firstAnswer does it properly, with BFCL's checker):
 * each parameter gets its first acceptable value (`""` first: left out unless required; dict
 * values hold acceptable lists one level deep), Java/JavaScript values are written as strings,
 * and object keys follow the schema's order, as the grammar fixes it. Answers the grammar then
 * refuses are skipped by the caller.
 */
function answerText(entry, groundTruth) {
  const language = bfclLanguage(entry.id);
  const first = (list, required) => {
    for (const v of Array.isArray(list) ? list : [list]) {
      if (v === '') {
        if (!required) return undefined;
        continue;
      }
      return v;
    }
    return Array.isArray(list) && list.includes('') ? '' : undefined;
  };
  const nested = (v) => {
    if (isDict(v)) return Object.fromEntries(Object.entries(v).map(([k, acc]) => [k, first(acc, false)]).filter(([, x]) => x !== undefined));
    if (Array.isArray(v) && v.length > 0 && v.every(isDict)) return v.map(nested);
    return v;
  };
  const order = (v, schema) => {
    if (Array.isArray(v)) return v.map((x) => order(x, schema?.items));
    if (!isDict(v)) return v;
    const props = schema?.properties ?? {};
    const keys = [...Object.keys(props).filter((k) => Object.hasOwn(v, k)), ...Object.keys(v).filter((k) => !Object.hasOwn(props, k))];
    return Object.fromEntries(keys.map((k) => [k, order(v[k], props[k])]));
  };
  const calls = groundTruth.map((gt) => {
    const [name, params] = Object.entries(gt)[0];
    const doc = entry.docs.find((d) => d.name === name);
    const tool = entry.tools.find((t) => t.name === name);
    if (!doc || !tool) throw new Error(`${entry.id}: no tool ${name}`);
    const required = new Set(doc.parameters?.required ?? []);
    const args = {};
    for (const [k, acceptable] of Object.entries(params)) {
      let v = first(acceptable, required.has(k));
      if (v === undefined) continue;
      v = nested(v);
      if (language !== 'python' && typeof v !== 'string') v = stringifyJson(v, true);
      args[k] = v;
    }
    return { name, arguments: order(args, tool.parameters) };
  });
  return stringifyJson(calls, true);
}

/** BFCL entries with a ground truth: the xLAM-2 answer text and the entry's byte grammar. */
function answeredEntries() {
  const byId = new Map(bfclEntries().map((e) => [e.id, e]));
  const out = [];
  let total = 0;
  for (const file of readdirSync(join(DATA, 'possible_answer')).filter((f) => f.endsWith('.json')).sort()) {
    for (const line of readLines(join(DATA, 'possible_answer', file))) {
      const a = parseJson(line, { numbers: 'literal' });
      const entry = byId.get(String(a.id));
      if (!entry) continue;
      total++;
      let text;
      try {
        text = answerText(entry, a.ground_truth);
      } catch {
        continue;
      }
      const grammar = toByteGrammar(compileGrammar(toolCallGrammar(entry.tools, { format: 'xlam2', toolChoice: 'required' })));
      out.push({ id: entry.id, text, grammar });
    }
  }
  return { total, entries: out };
}

// ---------------------------------------------------------------------------------------------
// 1-2. Mask time per token, replayed in one native GrammarSession

/** A session over the tokenizer's vocabulary: special and empty tokens are not allowed. */
function sessionFor(tok) {
  const { data, offsets } = tok.tokenBytesTable();
  const allowed = Uint8Array.from(tok.allTokenBytes(), (v, i) => (v.length > 0 && !tok.isSpecialToken(i) ? 1 : 0));
  return new (native().GrammarSession)(data, offsets, allowed);
}

/**
 * Per-step mask time of a batch of `width` concurrent sequences: `width` slots, each replaying
 * one answer's per-token times and taking the next answer when it is done (continuous batching),
 * so every step sums `width` masks while answers remain.
 */
function batchSteps(perEntry, width) {
  const steps = [];
  const slots = [];
  let next = 0;
  for (;;) {
    for (let s = 0; s < width; s++) {
      if (!slots[s] || slots[s].i >= slots[s].times.length) slots[s] = next < perEntry.length ? { times: perEntry[next++], i: 0 } : null;
    }
    const live = slots.filter(Boolean);
    if (live.length < width) break; // the tail, with fewer than `width` sequences, is left out
    let sum = 0;
    for (const sl of live) sum += sl.times[sl.i++];
    steps.push(sum);
  }
  return steps;
}

export async function benchMasks({ width = 16 } = {}) {
  const tok = await Tokenizer.fromDir(fixture('qwen2-bf16'));
  const session = sessionFor(tok);
  const { total, entries } = answeredEntries();
  const cold = [];
  const warm = [];
  const coldTimes = [];
  const warmTimes = [];
  const firstUseMs = [];
  const warmUseMs = [];
  let rejected = 0;
  let tokens = 0;
  const t0 = performance.now();
  for (const e of entries) {
    const bytes = new TextEncoder().encode(e.text);
    const m = session.matchBytes(e.grammar, bytes);
    if (m.accepted !== bytes.length || !m.complete) {
      rejected++;
      continue;
    }
    const ids = tok.encode(e.text, { addSpecialTokens: false, parseSpecialTokens: false });
    tokens += ids.length;
    const a = performance.now();
    const c = session.replay(e.grammar, ids);
    const b = performance.now();
    const w = session.replay(e.grammar, ids);
    firstUseMs.push(b - a);
    warmUseMs.push(performance.now() - b);
    coldTimes.push(c);
    warmTimes.push(w);
    for (const x of c) cold.push(x / 1e6);
    for (const x of w) warm.push(x / 1e6);
  }
  const wallMs = performance.now() - t0;
  const toMs = (arr) => arr.map((t) => Array.from(t, (x) => x / 1e6));
  return {
    total,
    replayed: coldTimes.length,
    rejected: rejected + (total - entries.length),
    tokens,
    vocab: tok.allTokenBytes().length,
    cold: summary(cold),
    warm: summary(warm),
    firstUse: summary(firstUseMs),
    warmUse: summary(warmUseMs),
    width,
    batchCold: summary(batchSteps(toMs(coldTimes), width)),
    batchWarm: summary(batchSteps(toMs(warmTimes), width)),
    stats: session.stats(),
    wallMs,
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Decode with and without the constraint on the xLAM-2-1b-shaped checkpoint (and 2, for real)

/**
 * The logit bias that lets random weights finish a call (as test/constrained-bfcl.test.ts): +bias
 * on every token that closes something (a quote, `}` or `]`) and opens nothing (`{`, `[`), so
 * strings end and calls do not keep adding calls and items.
 */
async function closeBias(engine, bias = 6) {
  const tok = await engine.tokenizer();
  const out = {};
  tok.allTokenBytes().forEach((b, id) => {
    const closes = b.includes(0x22) || b.includes(0x7d) || b.includes(0x5d);
    if (!tok.isSpecialToken(id) && closes && !b.includes(0x7b) && !b.includes(0x5b)) out[String(id)] = bias;
  });
  return out;
}

/**
 * Runs `concurrency` requests at once and measures the steps where all of them decode: from the
 * first engine step after the last prefill (every request has its first token) to the step in
 * which the first request finishes. Engine stats are sampled after every step.
 */
async function decodeWindow(engine, concurrency, request) {
  const snaps = [];
  let last = -1;
  const snap = () => {
    const s = engine.stats();
    if (s.steps !== last) {
      last = s.steps;
      snaps.push({ t: performance.now(), ...s });
    }
  };
  snap();
  const poll = setInterval(snap, 1);
  const results = await Promise.all(Array.from({ length: concurrency }, (_, i) => request(i)));
  clearInterval(poll);
  snap();
  const prompt = snaps[snaps.length - 1].promptTokensComputed;
  const start = snaps.findIndex((s) => s.promptTokensComputed === prompt && s.running === concurrency && s.waiting === 0);
  let end = snaps.findIndex((s, i) => i > start && s.running < concurrency);
  if (end < 0) end = snaps.length - 1;
  const a = snaps[start], b = snaps[end];
  // Plain decode steps: one token sampled per request and none forced, in this step and in the
  // one before (forced tokens are appended after a step's sampling and computed in the next
  // step as a chunk, so that step is not plain either).
  const plain = [];
  const plainMask = [];
  const plainForward = [];
  const plainSample = [];
  for (let i = Math.max(start + 1, 2); i <= end; i++) {
    const o = snaps[i - 2], p = snaps[i - 1], q = snaps[i];
    if (q.steps - p.steps !== 1 || p.steps - o.steps !== 1) continue;
    if (q.generatedTokens - p.generatedTokens !== concurrency || q.grammarForcedTokens !== p.grammarForcedTokens || p.grammarForcedTokens !== o.grammarForcedTokens) continue;
    plain.push(q.t - p.t);
    plainMask.push(q.grammarMaskMs - p.grammarMaskMs);
    plainForward.push(q.forwardMs - p.forwardMs);
    plainSample.push(q.sampleMs - p.sampleMs);
  }
  const ms = b.t - a.t;
  const steps = b.steps - a.steps;
  const generated = b.generatedTokens - a.generatedTokens;
  return {
    concurrency,
    steps,
    ms,
    generated,
    forced: b.grammarForcedTokens - a.grammarForcedTokens,
    masks: b.grammarMasks - a.grammarMasks,
    maskMs: b.grammarMaskMs - a.grammarMaskMs,
    tokensPerSecond: (generated / ms) * 1000,
    forwardMs: b.forwardMs - a.forwardMs,
    sampleMs: b.sampleMs - a.sampleMs,
    stepMs: ms / steps,
    plainSteps: plain.length,
    plainStepMs: summary(plain).median,
    plainMaskMs: summary(plainMask).median,
    plainForwardMs: summary(plainForward).median,
    plainSampleMs: summary(plainSample).median,
    results,
  };
}

export async function benchDecode({ id = 'live_simple_2-2-0', tokens = 48, rounds = 4, levels = [1, 16], log = () => {} } = {}) {
  const entry = bfclEntries().find((e) => e.id === id);
  const engine = await Engine.load(makeCheckpoint(), { maxBatchTokens: 512 });
  const base = { messages: entry.messages, tools: entry.tools, maxTokens: tokens, temperature: 1 };
  const modes = {
    constrained: (i) => engine.callTools(entry.messages, entry.tools, { toolChoice: 'required', maxTokens: tokens, temperature: 1, seed: i }),
    unconstrained: (i) => engine.generate({ ...base, constrained: false, ignoreEos: true, seed: i }),
  };
  // Warm-up: prefill the prompt into the prefix cache, hand the vocabulary to the grammar engine.
  const warm = await engine.callTools(entry.messages, entry.tools, { toolChoice: 'required', maxTokens: 2, temperature: 1, seed: 0 });
  await engine.generate({ ...base, constrained: false, ignoreEos: true, maxTokens: 2, seed: 0 });
  const best = {};
  const perRound = [];
  for (let round = 0; round < rounds; round++)
    for (const c of levels)
      for (const mode of round % 2 ? ['unconstrained', 'constrained'] : ['constrained', 'unconstrained']) {
        const r = await decodeWindow(engine, c, modes[mode]);
        const key = `${mode}/${c}`;
        const finish = r.results.map((x) => x.finishReason);
        perRound.push({ round, key: `${mode}/${c}`, tokensPerSecond: r.tokensPerSecond, plainStepMs: r.plainStepMs, plainForwardMs: r.plainForwardMs, plainSampleMs: r.plainSampleMs, plainSteps: r.plainSteps, steps: r.steps });
        log(`  ${key} round ${round}: ${r.tokensPerSecond.toFixed(2)} tok/s, plain step ${r.plainStepMs?.toFixed(1)} ms (forward ${r.plainForwardMs?.toFixed(1)}, sample ${r.plainSampleMs?.toFixed(2)}) over ${r.plainSteps}, ${r.steps} steps ${r.ms.toFixed(0)} ms, forward total ${r.forwardMs.toFixed(0)} ms, sample total ${r.sampleMs.toFixed(0)} ms`);
        const prev = best[key];
        if (!prev || r.tokensPerSecond > prev.tokensPerSecond) best[key] = { ...r, results: undefined, finish, plainStepMs: prev?.plainStepMs ?? Infinity, plainMaskMs: prev?.plainMaskMs };
        // The plain-step time keeps its own best round (the fastest median).
        if (r.plainSteps > 0 && r.plainStepMs < best[key].plainStepMs) Object.assign(best[key], { plainStepMs: r.plainStepMs, plainMaskMs: r.plainMaskMs });
        best[key].stops = (prev?.stops ?? 0) + finish.filter((f) => f === 'stop').length;
      }
  // 16 constrained calls that run to their end (closing bias: strings close, the grammar's
  // structure is walked), every step's masks counted.
  const logitBias = await closeBias(engine);
  const s0 = engine.stats();
  const t0 = performance.now();
  const real = await decodeWindow(engine, 16, (i) =>
    engine.callTools(entry.messages, entry.tools, { toolChoice: 'required', maxTokens: 64, temperature: 1, seed: 100 + i, logitBias }),
  );
  const wallMs = performance.now() - t0;
  const s1 = engine.stats();
  const whole = {
    steps: s1.steps - s0.steps,
    wallMs,
    masks: s1.grammarMasks - s0.grammarMasks,
    maskMs: s1.grammarMaskMs - s0.grammarMaskMs,
    forced: s1.grammarForcedTokens - s0.grammarForcedTokens,
    generated: s1.generatedTokens - s0.generatedTokens,
    stopped: real.results.filter((r) => r.finishReason === 'stop').length,
  };
  const kernels = engine.info().kernels;
  await engine.close();
  return { id, tokens, rounds, kernels, promptTokens: warm.usage.promptTokens, best, perRound, real: { ...real, results: undefined }, whole };
}

// ---------------------------------------------------------------------------------------------
// 4. Every BFCL entry with tools, sampled by tiny random-weight models under the grammar

async function pool(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

/** Why an output is not valid, in a few words. */
function failureKind(r) {
  if (r.finishReason !== 'stop') return `finish '${r.finishReason}'`;
  if (r.calls.length === 0) return 'no call';
  const e = r.calls.find((c) => c.error).error;
  if (/Infinity/.test(e.message)) return `${e.code}: a number that overflows to ±Infinity`;
  if (/9007199254740991/.test(e.message)) return `${e.code}: an integer beyond ±(2^53 − 1)`;
  return `${e.code}: ${e.message.slice(0, 100)}`;
}

export async function benchBfcl({ fixtures = ['qwen2-sampling-bf16', 'llama3-sampling-bf16'], context = 8192, stride = 1, limit = Infinity, concurrency = 32, maxTokens = 2048, log = () => {} } = {}) {
  const entries = bfclEntries().filter((_, i) => i % stride === 0).slice(0, limit);
  const out = [];
  for (const [k, name] of fixtures.entries()) {
    const engine = await Engine.load(longContextFixture(name, context), { kvCacheTokens: 1 << 17, maxSequences: 32 });
    const vocab = engine.info().vocabSize;
    const contextLength = engine.info().contextLength;
    const logitBias = await closeBias(engine);
    const renderer = await engine.promptRenderer();
    const tok = await engine.tokenizer();
    const finish = {};
    const failures = [];
    const kinds = new Map();
    let done = 0;
    let valid = 0, calls = 0, completionTokens = 0, promptTokens = 0, tooLong = 0, shortRoom = 0, lengthShortRoom = 0;
    const t0 = performance.now();
    await pool(entries, concurrency, async (e, i) => {
      // The prompt and maxTokens must fit the context: what is left of it, at most maxTokens.
      const promptLength = tok.encode(renderer.render({ messages: e.messages, tools: e.tools, addGenerationPrompt: true }), { addSpecialTokens: false }).length;
      const room = Math.min(maxTokens, contextLength - promptLength);
      if (room <= 0) {
        tooLong++;
        return;
      }
      if (room < maxTokens) shortRoom++;
      const r = await engine.callTools(e.messages, e.tools, { toolChoice: 'required', temperature: 1, seed: 1000 * k + i, maxTokens: room, logitBias });
      finish[r.finishReason] = (finish[r.finishReason] ?? 0) + 1;
      if (r.finishReason === 'length' && room < maxTokens) lengthShortRoom++;
      calls += r.calls.length;
      completionTokens += r.usage.completionTokens;
      promptTokens += r.usage.promptTokens;
      if (r.finishReason === 'stop' && r.calls.length > 0 && !r.calls.some((c) => c.error)) valid++;
      else {
        const kind = failureKind(r);
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        if (failures.length < 10) failures.push(`${e.id}: ${r.finishReason}, ${r.calls.length} calls, ${r.calls.filter((c) => c.error).map((c) => c.error.message).join('; ').slice(0, 300)}`);
      }
      if (++done % 500 === 0) log(`${name}: ${done} of ${entries.length} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    });
    const wallMs = performance.now() - t0;
    const s = engine.stats();
    await engine.close();
    out.push({ name, vocab, context: contextLength, stride, entries: entries.length, tooLong, shortRoom, lengthShortRoom, calls, valid, finish, completionTokens, promptTokens, wallMs, failures, failureKinds: [...kinds].sort((a, b) => b[1] - a[1]), stats: s });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/** The section's figures, as Markdown lines (bench/run.mjs writes them into bench/README.md). */
export function constrainedFigures({ masks, decode, bfcl }) {
  const us = (ms) => `${(ms * 1000).toFixed(ms < 0.01 ? 1 : 0)} µs`;
  const ok = (x) => typeof x === 'number' && Number.isFinite(x);
  const t = (ms) => (!ok(ms) ? '–' : ms < 1 ? us(ms) : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`);
  const ratio = (a, b) => (ok(a) && ok(b) && b > 0 ? (a / b).toFixed(3) : '–');
  const pct = (a, b) => `${((100 * a) / b).toFixed(1)}%`;
  const n = (x) => x.toLocaleString('en-US');
  const lines = ['', '### Constrained tool calls (grammar masks)'];
  if (masks) {
    const row = (what, s) => `| ${what} | ${t(s.median)} | ${t(s.p99)} | ${t(s.max)} |`;
    lines.push(
      '',
      `Mask time per token, ${n(masks.vocab)}-token Qwen vocabulary: ${n(masks.replayed)} of ${n(masks.total)} BFCL ground-truth answers ` +
        `(the grammar refuses ${masks.rejected}), ${n(masks.tokens)} tokens, replayed in one long-lived \`GrammarSession\`.`,
      '',
      '| what | median | p99 | max |',
      '| --- | --- | --- | --- |',
      row('mask per token, cold (first use of each grammar)', masks.cold),
      row('mask per token, warm (the same answer again)', masks.warm),
      row('whole answer, cold (`replay` call: grammar compile + masks)', masks.firstUse),
      row('whole answer, warm', masks.warmUse),
      row(`batch of ${masks.width}: per-step sum of ${masks.width} sequences' masks, cold`, masks.batchCold),
      row(`batch of ${masks.width}: the same, warm`, masks.batchWarm),
      '',
      `Mask entries built ${n(masks.stats.entriesBuilt)}, shared from the cache ${n(masks.stats.entriesShared)}; ` +
        `whole masks copied for a repeated state ${n(masks.stats.stateMaskHits)}; cache ${(masks.stats.cacheBytes / 2 ** 20).toFixed(0)} MiB at the end.`,
    );
  }
  if (decode) {
    const b = decode.best;
    const rows = [1, 16].filter((c) => b[`constrained/${c}`]).map((c) => {
      const on = b[`constrained/${c}`], off = b[`unconstrained/${c}`];
      return (
        `| ${c} | ${on.tokensPerSecond.toFixed(2)} | ${off.tokensPerSecond.toFixed(2)} | ${ratio(on.tokensPerSecond, off.tokensPerSecond)} | ` +
        `${t(on.plainStepMs)} | ${t(off.plainStepMs)} | ${ratio(on.plainStepMs, off.plainStepMs)} | ${t(on.plainMaskMs)} | ` +
        `${on.forced} of ${on.generated} | ${on.steps} vs ${off.steps} |`
      );
    });
    const w = decode.whole, r = decode.real;
    lines.push(
      '',
      `Decode with and without the constraint (bench checkpoint, ${decode.kernels} kernels; BFCL \`${decode.id}\`, ${decode.promptTokens} prompt tokens; ` +
        `temperature 1, maxTokens ${decode.tokens}; best of ${decode.rounds} interleaved rounds):`,
      '',
      '| concurrency | tokens/s constrained | tokens/s unconstrained | ratio | plain step constrained (median) | plain step unconstrained | ratio | masks per plain step | forced tokens | forward passes |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
      `16 constrained \`callTools\` at once in the engine (closing bias, maxTokens 64, to their end): grammarMaskMs / steps = ` +
        `${t(w.maskMs / w.steps)} per step (${n(w.masks)} masks, ${n(w.forced)} forced of ${n(w.generated)} tokens) ` +
        `against ${t(w.wallMs / w.steps)} per step on average (${w.steps} steps, ${pct(w.maskMs, w.wallMs)} of the time); ` +
        `while all 16 decode: ${t(r.maskMs / r.steps)} of masks per step against ${t(r.stepMs)}. ${w.stopped} of the 16 calls ended (the rest reached maxTokens).`,
    );
    const early = [1, 16].map((c) => b[`constrained/${c}`]?.stops ?? 0).reduce((x, y) => x + y, 0);
    const spread = [1, 16]
      .filter((c) => b[`constrained/${c}`])
      .map((c) => {
        const of = (mode) => (decode.perRound ?? []).filter((p) => p.key === `${mode}/${c}`).map((p) => (ok(p.plainStepMs) ? p.plainStepMs.toFixed(0) : '–')).join(', ');
        return `concurrency ${c}: constrained ${of('constrained')}, unconstrained ${of('unconstrained')}`;
      });
    // Inside the engine (stats forwardMs / sampleMs over the same plain steps), median of the rounds.
    const roundsMedian = (mode, c, field) => {
      const v = (decode.perRound ?? []).filter((p) => p.key === `${mode}/${c}` && ok(p[field])).map((p) => p[field]);
      return v.length ? summary(v).median : NaN;
    };
    const inside = [1, 16]
      .filter((c) => b[`constrained/${c}`] && ok(roundsMedian('constrained', c, 'plainForwardMs')))
      .map((c) => {
        const [fc, fu, sc, su] = [
          roundsMedian('constrained', c, 'plainForwardMs'),
          roundsMedian('unconstrained', c, 'plainForwardMs'),
          roundsMedian('constrained', c, 'plainSampleMs'),
          roundsMedian('unconstrained', c, 'plainSampleMs'),
        ];
        return `concurrency ${c}: forward pass ${fc.toFixed(1)} vs ${fu.toFixed(1)} ms, sampling with masks ${sc.toFixed(2)} vs ${su.toFixed(2)} ms (+${(sc - su).toFixed(2)} ms, ${(((sc - su) / fu) * 100).toFixed(1)}% of the pass)`;
      });
    if (inside.length)
      lines.splice(lines.length - 2, 0, '', `The plain steps inside the engine (\`engine.stats()\` \`forwardMs\` and \`sampleMs\`, constrained vs unconstrained, median of the rounds): ${inside.join('; ')}.`);
    lines.splice(
      lines.length - 2,
      0,
      '',
      `Plain-step medians of each round, in ms (the noise between rounds): ${spread.join('; ')}. ` +
        `Constrained calls that ended before maxTokens in these rounds: ${early}.`,
    );
  }
  if (bfcl) {
    lines.push(
      '',
      `${bfcl[0].stride > 1 ? `Every ${bfcl[0].stride === 2 ? 'second' : `${bfcl[0].stride}th`} BFCL entry` : 'Every BFCL entry'} with tools, temperature 1.0, toolChoice 'required', closing bias +6, 32 requests at once:`,
      '',
      '| model (vocabulary) | context | entries | prompt longer than the context | calls | valid outputs | finish stop / length | tokens generated (forced) | mask time | wall time | entries/s |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...bfcl.map((m) => {
        const ran = m.entries - m.tooLong;
        return (
          `| ${m.name} (${n(m.vocab)}) | ${n(m.context)} | ${n(m.entries)} | ${m.tooLong} | ${n(m.calls)} | ${n(m.valid)} of ${n(ran)} (${pct(m.valid, ran)}) | ` +
          `${n(m.finish.stop ?? 0)} / ${n(m.finish.length ?? 0)} | ${n(m.completionTokens)} (${n(m.stats.grammarForcedTokens)}) | ` +
          `${(m.stats.grammarMaskMs / 1000).toFixed(1)} s (${n(m.stats.grammarMasks)} masks) | ${(m.wallMs / 1000).toFixed(0)} s | ${(ran / (m.wallMs / 1000)).toFixed(2)} |`
        );
      }),
    );
    const reasons = bfcl.flatMap((m) => m.failureKinds.map(([k, c]) => `${m.name}: ${c} × ${k}`));
    if (reasons.length) lines.push('', `Invalid outputs by reason: ${reasons.join('; ')}.`);
    lines.push(
      '',
      `'length' finishes whose prompt left less than maxTokens (2,048) of the context: ` +
        `${bfcl.map((m) => `${m.name} ${m.lengthShortRoom ?? '–'} of ${m.finish.length ?? 0}`).join(', ')}.`,
    );
  }
  return lines;
}

export async function benchConstrained({ sections = ['masks', 'decode', 'bfcl'], stride = 1, decode = {}, log = () => {} } = {}) {
  const out = {};
  const timed = async (name, fn) => {
    const t0 = performance.now();
    out[name] = await fn();
    log(`constrained/${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    // The raw results so far, kept beside the checkpoints (git-ignored).
    mkdirSync(join(here, 'models'), { recursive: true });
    writeFileSync(join(here, 'models', 'constrained-last.json'), JSON.stringify(out, null, 1));
  };
  if (sections.includes('masks')) await timed('masks', () => benchMasks());
  if (sections.includes('decode')) await timed('decode', () => benchDecode({ ...decode, log }));
  if (sections.includes('bfcl')) await timed('bfcl', () => benchBfcl({ stride, log }));
  return out;
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const a = args.find((x) => x.startsWith(`--${name}=`));
    return a === undefined ? undefined : Number(a.slice(name.length + 3));
  };
  const named = args.filter((a) => !a.startsWith('--'));
  const r = await benchConstrained({
    sections: named.length ? named : undefined,
    stride: opt('stride') ?? 1,
    decode: { rounds: opt('rounds'), tokens: opt('tokens') },
    log: (m) => console.error(m),
  });
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(r, null, 1));
  console.log(constrainedFigures(r).join('\n'));
}
