// The load scenarios of shared/RELIABILITY.md §7.2 on a tiny fixture model, shared by
// bench/storm.mjs (full sizes, figures) and test/load-storm.test.ts (reduced sizes, assertions):
//   L1 concurrency: many requests at once give the tokens each gives alone;
//   L2 cancellation storm: aborts at random times, aborts while queued, abandoned stream
//      iterators; the rest untouched, no KV block left;
//   L3 KV pressure: a pool at 25 % of peak demand preempts and completes every request with the
//      tokens of an unpressured run; a request larger than the pool is refused at admission.
// Every function returns what it measured; the callers decide what must hold.
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { Engine, XlamAbortError, XlamContextOverflowError } from '../dist/lib/index.js';

/** Deterministic randomness (mulberry32). */
export function prng(seed) {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const TOOLS = [
  { name: 'get_weather', description: 'Current weather of a city', parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 24 }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['city'] } },
  { name: 'search_flights', description: 'Flights between two airports on a date', parameters: { type: 'object', properties: { from: { type: 'string', maxLength: 3 }, to: { type: 'string', maxLength: 3 }, date: { type: 'string', format: 'date' }, passengers: { type: 'integer', minimum: 1, maximum: 9 } }, required: ['from', 'to', 'date'] } },
  { name: 'convert_currency', description: 'Converts an amount of money between currencies', parameters: { type: 'object', properties: { amount: { type: 'number', minimum: 0 }, from: { type: 'string' }, to: { type: 'string' } }, required: ['amount', 'from', 'to'] } },
];
const QUESTIONS = ['What is the weather in Paris?', 'Find flights from SFO to JFK on 2025-03-02 for 2 people.', 'Convert 125 EUR to USD.', 'Weather in Tokyo in fahrenheit, and flights from NRT to LAX tomorrow.'];

/** xLAM-style tool prompt text (a system turn with the tools' JSON, a user turn), long enough for 512 tokens. */
function toolPromptText(rand) {
  const tools = [...TOOLS, ...TOOLS].slice(Math.floor(rand() * 3), 6);
  const q = QUESTIONS[Math.floor(rand() * QUESTIONS.length)];
  return (
    '<|im_start|>system\nYou are an expert in composing functions. You are given a question and a set of possible functions. ' +
    'Based on the question, you will need to make one or more function/tool calls to achieve the purpose.\n' +
    `<tools>\n${tools.map((t) => JSON.stringify({ type: 'function', function: t })).join('\n')}\n</tools>\n` +
    'Answer in the format [{"name": "func_name", "arguments": {"arg": "value"}}].<|im_end|>\n' +
    `<|im_start|>user\n${q} ${q}<|im_end|>\n<|im_start|>assistant\n`
  );
}

/**
 * `count` requests, greedy: prompts of 64–512 tokens cut from xLAM-style tool prompts, 16–64
 * tokens generated; `grammarShare` of them are chat requests with tools, so constrained to the
 * tool-call grammar. With `sharedPrefixes` false the token prompts start at random places (no
 * prefix-cache sharing). Each is a GenerateRequest without a signal.
 */
export async function makeRequests(engine, { count, seed = 1, grammarShare = 0.2, minPrompt = 64, maxPrompt = 512, minTokens = 16, maxTokens = 64, sharedPrefixes = true }) {
  const rand = prng(seed);
  const tokenizer = await engine.tokenizer();
  const out = [];
  for (let i = 0; i < count; i++) {
    const n = minTokens + Math.floor(rand() * (maxTokens - minTokens + 1));
    if (rand() < grammarShare) {
      const tools = TOOLS.slice(0, 1 + Math.floor(rand() * 3));
      out.push({ messages: [{ role: 'user', content: QUESTIONS[Math.floor(rand() * QUESTIONS.length)] }], tools, maxTokens: n, temperature: 0 });
    } else {
      const ids = tokenizer.encode(toolPromptText(rand) + toolPromptText(rand), { addSpecialTokens: false });
      const len = minPrompt + Math.floor(rand() * (maxPrompt - minPrompt + 1));
      // Without shared prefixes the cut starts at a random token, so no two prompts share a
      // cached block and the KV demand is what the lengths say.
      const from = sharedPrefixes ? 0 : Math.floor(rand() * Math.max(1, ids.length - len));
      out.push({ promptTokens: ids.slice(from, from + len), maxTokens: n, temperature: 0, ignoreEos: true });
    }
  }
  return out;
}

export const quiet = (engine) => {
  const s = engine.stats();
  return { running: s.running, waiting: s.waiting, kvBlocksUsed: s.kvBlocksUsed };
};

/** Waits until the engine has no request running or waiting (at most `ms`). */
export async function settle(engine, ms = 10_000) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const s = engine.stats();
    if (s.running === 0 && s.waiting === 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A few requests of each kind (token prompts, each tool set), so grammars and caches are warm. */
export async function warmUp(engine) {
  const requests = await makeRequests(engine, { count: 12, seed: 99, grammarShare: 0.7, maxTokens: 16 });
  await Promise.all(requests.map((r) => engine.generate(r)));
  for (const n of [1, 2, 3]) await engine.generate({ messages: [{ role: 'user', content: 'hi' }], tools: TOOLS.slice(0, n), maxTokens: 4, temperature: 0 });
}

/** Each request alone, one after the other: the reference outputs. */
export async function runAlone(engine, requests) {
  const out = [];
  for (const r of requests) out.push((await engine.generate(r)).tokenIds);
  return out;
}

/**
 * L1: the requests run `concurrency` at a time (a pool of clients). Returns each one's tokens
 * (or its error), the event-loop delay while they ran, and the time taken.
 */
export async function runConcurrent(engine, requests, concurrency) {
  const outputs = new Array(requests.length);
  const errors = [];
  let next = 0;
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) {
        const i = next++;
        try {
          outputs[i] = (await engine.generate(requests[i])).tokenIds;
        } catch (err) {
          errors.push({ index: i, error: err });
        }
      }
    }),
  );
  const ms = performance.now() - t0;
  h.disable();
  return { outputs, errors, ms, loopDelayP99Ms: h.percentile(99) / 1e6, loopDelayMaxMs: h.max / 1e6 };
}

/**
 * L2: `requests` run by `clients` concurrent clients (more than the engine's maxSequences, so
 * some always wait). Each request gets a role from `rand`: 'abort' (its AbortSignal fires at a
 * uniform random time in [0, abortWindowMs] after submission), 'queued' (aborted 5 ms after
 * submission, while it waits for a slot), 'abandon' (a stream read for 1–5 events, then dropped without
 * return(); its maxTokens raised to `abandonTokens` so it would pause and hold its blocks), or
 * 'normal'. Returns one record per request: { role, outcome: 'ok' | 'aborted' | 'error',
 * tokens?, abortToRejectMs?, eventsBeforeAbort?, error? }.
 */
export async function storm(engine, requests, { clients = 96, seed = 2, abortShare = 0.3, queuedShare = 0.1, abandonShare = 0.05, abortWindowMs = 500, abandonTokens = 200 } = {}) {
  const rand = prng(seed);
  const roles = requests.map(() => {
    const x = rand();
    return x < abortShare ? 'abort' : x < abortShare + queuedShare ? 'queued' : x < abortShare + queuedShare + abandonShare ? 'abandon' : 'normal';
  });
  const delays = requests.map(() => rand() * abortWindowMs);
  const records = new Array(requests.length);
  let next = 0;

  async function one(i) {
    const role = roles[i];
    if (role === 'normal') {
      try {
        records[i] = { role, outcome: 'ok', tokens: (await engine.generate(requests[i])).tokenIds };
      } catch (error) {
        records[i] = { role, outcome: 'error', error };
      }
      return;
    }
    if (role === 'abandon') {
      // Read a few events, then drop the iterator (no return(), no abort): only garbage
      // collection can tell the engine it was abandoned.
      await (async () => {
        const it = engine.stream({ ...requests[i], maxTokens: abandonTokens })[Symbol.asyncIterator]();
        const k = 1 + (i % 5);
        for (let n = 0; n < k; n++) if ((await it.next()).done) break;
      })();
      records[i] = { role, outcome: 'ok' };
      return;
    }
    const ac = new AbortController();
    let abortedAt = 0;
    let events = 0;
    let eventsBeforeAbort = 0;
    let waitingAtAbort = 0;
    const abort = () => {
      abortedAt = performance.now();
      eventsBeforeAbort = events;
      waitingAtAbort = engine.stats().waiting;
      ac.abort();
    };
    // 'queued': 5 ms after submission, with more clients than running slots, it waits behind
    // others (waitingAtAbort and eventsBeforeAbort record that it had not started).
    const timer = setTimeout(abort, role === 'abort' ? delays[i] : 5);
    try {
      for await (const ev of engine.stream({ ...requests[i], signal: ac.signal })) {
        void ev;
        events++;
      }
      records[i] = { role, outcome: 'ok' }; // finished before its abort fired
    } catch (error) {
      const rejectedAt = performance.now();
      records[i] = error instanceof XlamAbortError ? { role, outcome: 'aborted', abortToRejectMs: rejectedAt - abortedAt, eventsBeforeAbort, waitingAtAbort } : { role, outcome: 'error', error };
    } finally {
      clearTimeout(timer);
    }
  }

  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < requests.length) await one(next++);
    }),
  );
  const ms = performance.now() - t0;
  return { records, ms };
}

/** Forces garbage collection (needs --expose-gc or v8.setFlagsFromString) until the engine is idle. */
export async function collectUntilIdle(engine, gc, rounds = 50) {
  for (let i = 0; i < rounds; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
    const s = engine.stats();
    if (s.running === 0 && s.waiting === 0 && s.kvBlocksUsed === 0) return i + 1;
  }
  return -1;
}

/** KV tokens the requests need at their peak, all at once (whole blocks). */
export function peakDemandTokens(requests, promptLengths, blockSize) {
  let total = 0;
  requests.forEach((r, i) => (total += Math.ceil((promptLengths[i] + r.maxTokens) / blockSize) * blockSize));
  return total;
}

/**
 * L3: the requests on an engine whose pool holds `share` of their peak demand, all at once,
 * against the same requests on an engine with room for all. Also a request larger than the
 * whole small pool, which must be refused at admission without touching it.
 */
export async function pressure(model, requests, { share = 0.25, loadOptions = {} } = {}) {
  const big = await Engine.load(model, { kvCacheTokens: 2048 * 64, ...loadOptions });
  // Prompt lengths as the engine sees them: from a first run's usage.
  const first = await Promise.all(requests.map((r) => big.generate(r)));
  const lengths = first.map((r) => r.usage.promptTokens);
  const blockSize = big.info().blockSize;
  const peak = peakDemandTokens(requests, lengths, blockSize);
  const largest = Math.max(...requests.map((r, i) => lengths[i] + r.maxTokens));
  const poolTokens = Math.max(Math.ceil((peak * share) / blockSize) * blockSize, Math.ceil(largest / blockSize) * blockSize);
  const small = await Engine.load(model, { kvCacheTokens: poolTokens, ...loadOptions });
  try {
    const t0 = performance.now();
    const settled = await Promise.allSettled(requests.map((r) => small.generate(r)));
    const ms = performance.now() - t0;
    const stats = small.stats();
    const before = small.stats();
    let admission;
    try {
      await small.generate({ promptTokens: [100, 101, 102, 103, 104, 105, 106, 107], maxTokens: poolTokens + 8, ignoreEos: true });
      admission = 'accepted';
    } catch (err) {
      admission = err instanceof XlamContextOverflowError ? 'refused' : `error ${err?.name}`;
    }
    const after = small.stats();
    return {
      peakTokens: peak,
      poolTokens,
      completed: settled.filter((s) => s.status === 'fulfilled').length,
      errors: settled.filter((s) => s.status === 'rejected').map((s) => s.reason),
      outputs: settled.map((s) => (s.status === 'fulfilled' ? s.value.tokenIds : undefined)),
      reference: first.map((r) => r.tokenIds),
      preemptions: stats.preemptions,
      quiet: quiet(small),
      admission,
      admissionTouchedPool: after.kvBlocksUsed !== before.kvBlocksUsed || after.steps !== before.steps || after.promptTokensComputed !== before.promptTokensComputed,
      ms,
    };
  } finally {
    await big.close();
    await small.close();
  }
}

/** The q-quantile of xs (nearest rank). */
export function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
