// Constrained tool calls on BFCL: tiny random-weight models with the real Qwen2 (151k) and
// Llama-3 (128k) vocabularies sample at temperature 1.0 under toolChoice 'required', and every
// output parses and validates against its tools' schemas — 1,000 BFCL entries across the two.
// With { name }, the named tool is the one called; a call cut short by maxTokens ends with
// finishReason 'length' and is never returned as valid.
//
// Random weights almost never close a JSON string (about 1 token in 2,000 ends one) and keep
// adding calls and array items, so the requests add a logit bias to the tokens that close
// something (a quote, `}` or `]`, opening nothing). The bias only changes which allowed token is
// drawn; what is allowed is the grammar's alone, which is what is under test.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { bfclLanguage, bfclToTools, Engine, type BfclFunctionDoc, type ChatMessage } from '../dist/lib/index.js';
import type { ToolDefinition } from '../dist/lib/tools/types.js';
import { fixturePath, repoRoot } from './helpers/fixtures.js';

const dataDir = join(repoRoot, '..', 'shared', 'bfcl', 'data');
const PER_MODEL = Number(process.env.XLAM_BFCL_PER_MODEL ?? 500);
const CLOSE_BIAS = 6;

interface Sample {
  id: string;
  messages: ChatMessage[];
  tools: ToolDefinition[];
}

/** Every BFCL entry with tools, in file order: the first turn's messages and the tools as BFCL shows them. */
function allEntries(): Sample[] {
  const out: Sample[] = [];
  for (const file of readdirSync(dataDir).filter((f) => f.endsWith('.json')).sort()) {
    for (const line of readFileSync(join(dataDir, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const e = JSON.parse(line) as { id: string; question: ChatMessage[][]; function: BfclFunctionDoc[] };
      if (!e.function?.length || !e.question?.[0]?.length) continue;
      out.push({ id: e.id, messages: e.question[0], tools: bfclToTools(e.function, { language: bfclLanguage(e.id) }) });
    }
  }
  return out;
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

/**
 * maxTokens for a sample: what the context leaves after its prompt (the fixtures have 2,048
 * positions), or 0 when that is under 512 tokens (prompts with many long tools).
 */
async function room(engine: Engine, s: Sample): Promise<number> {
  const [renderer, tok] = await Promise.all([engine.promptRenderer(), engine.tokenizer()]);
  const n = tok.encode(renderer.render({ messages: s.messages, tools: s.tools, addGenerationPrompt: true }), { addSpecialTokens: false }).length;
  const left = engine.info().contextLength - n;
  return left >= 512 ? left : 0;
}

/**
 * `count` samples spread evenly over the entries with the same parity as `parity` (the two
 * models take alternate entries), skipping those without room; with their maxTokens.
 */
async function pick(engine: Engine, count: number, parity: number): Promise<Array<[Sample, number]>> {
  const same = entries.filter((_, i) => i % 2 === parity);
  const stride = Math.max(1, Math.floor(same.length / count));
  const out: Array<[Sample, number]> = [];
  // Every stride-th entry, then the ones after them, and so on: evenly spread, never short.
  for (let off = 0; off < stride && out.length < count; off++) {
    for (let j = off; j < same.length && out.length < count; j += stride) {
      const max = await room(engine, same[j]!);
      if (max > 0) out.push([same[j]!, max]);
    }
  }
  return out;
}

async function closeBias(engine: Engine): Promise<Record<string, number>> {
  const tok = await engine.tokenizer();
  const bias: Record<string, number> = {};
  tok.allTokenBytes().forEach((b, id) => {
    // Quotes end strings, `}` and `]` end objects and arrays; tokens that also open one (`"},{"`)
    // would start more.
    const closes = b.includes(0x22) || b.includes(0x7d) || b.includes(0x5d);
    if (!tok.isSpecialToken(id) && closes && !b.includes(0x7b) && !b.includes(0x5b)) bias[String(id)] = CLOSE_BIAS;
  });
  return bias;
}

const entries = allEntries();
t.ok(entries.length >= 2 * PER_MODEL, `${entries.length} BFCL entries with tools`);

for (const [k, fixture] of ['qwen2-sampling-bf16', 'llama3-sampling-bf16'].entries()) {
  t.test(`${fixture}: ${PER_MODEL} BFCL entries at temperature 1.0, toolChoice 'required': every output parses and validates`, async (t) => {
    const engine = await Engine.load(fixturePath(fixture), { kvCacheTokens: 1 << 17, maxSequences: 32 });
    t.teardown(() => engine.close());
    const logitBias = await closeBias(engine);
    const picked = await pick(engine, PER_MODEL, k);
    t.equal(picked.length, PER_MODEL, `${PER_MODEL} entries with room for an answer`);
    const failures: string[] = [];
    let calls = 0;
    let tokens = 0;
    await pool(picked, 32, async ([s, maxTokens], i) => {
      const r = await engine.callTools(s.messages, s.tools, { toolChoice: 'required', temperature: 1, seed: 1000 * k + i, maxTokens, logitBias });
      tokens += r.usage.completionTokens;
      calls += r.calls.length;
      const bad = r.calls.filter((c) => c.error);
      if (r.finishReason !== 'stop' || r.calls.length === 0 || bad.length > 0) {
        failures.push(`${s.id}: finish ${r.finishReason}, ${r.calls.length} calls, ${bad.map((c) => c.error!.message).join('; ')} :: ${r.raw.slice(0, 300)}`);
      }
    });
    t.same(failures.slice(0, 5), [], `${PER_MODEL} entries, ${calls} calls, ${tokens} tokens: every output parses and validates`);
    t.equal(failures.length, 0, `${failures.length} failures`);
    const stats = engine.stats();
    t.ok(stats.grammarMasks >= tokens - stats.grammarForcedTokens, `${stats.grammarMasks} masks, ${stats.grammarForcedTokens} forced tokens, ${stats.grammarMaskMs.toFixed(0)} ms of masks`);
  });
}

t.test("toolChoice { name } calls that tool; maxTokens cuts are 'length' and never valid", async (t) => {
  const engine = await Engine.load(fixturePath('qwen2-sampling-bf16'), { kvCacheTokens: 1 << 16, maxSequences: 32 });
  t.teardown(() => engine.close());
  const logitBias = await closeBias(engine);
  const multi: Array<[Sample, number]> = [];
  for (const s of entries.filter((s) => s.tools.length >= 3)) {
    const max = multi.length < 60 ? await room(engine, s) : 0;
    if (max > 0) multi.push([s, max]);
  }
  const wrong: string[] = [];
  await pool(multi, 32, async ([s, maxTokens], i) => {
    const name = s.tools[i % s.tools.length]!.name;
    const r = await engine.callTools(s.messages, s.tools, { toolChoice: { name }, temperature: 1, seed: i, maxTokens, logitBias });
    if (r.finishReason !== 'stop' || r.calls.length === 0 || r.calls.some((c) => c.error || c.name !== name)) {
      wrong.push(`${s.id}: wanted ${name}, got ${r.calls.map((c) => c.name).join(', ')} (${r.finishReason})`);
    }
  });
  t.same(wrong, [], `${multi.length} entries with 3+ tools: every call names the chosen tool`);

  const cut: string[] = [];
  await pool(entries.slice(0, 40), 32, async (s, i) => {
    const r = await engine.callTools(s.messages, s.tools, { toolChoice: 'required', temperature: 1, seed: i, maxTokens: 6, logitBias });
    if (r.finishReason === 'length' && r.calls.some((c) => !c.error)) cut.push(`${s.id}: a valid call after a cut: ${r.raw}`);
    if (r.finishReason === 'stop' && r.calls.some((c) => c.error)) cut.push(`${s.id}: finished but invalid: ${r.raw}`);
  });
  t.same(cut, [], 'cut calls are never valid; finished ones always are');
});
