// The native grammar matcher against the TypeScript reference recognizer (match.ts):
// - byte matching on BFCL answers and random corruptions of them (every grammar unit test also
//   runs both recognizers, through test/helpers/grammar.ts);
// - token masks over the real Qwen2 (151k) and Llama-3 (128k) vocabularies: after a prefix, a
//   token is allowed exactly when the reference accepts the prefix + the token's bytes; special
//   tokens never are;
// - forced continuations spell bytes the grammar forces, and leave the last token to the model;
// - malformed grammars are typed errors.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { compileGrammar, createMatcher, jsonSchemaToGrammar, matches, toByteGrammar, toolCallGrammar, type ByteGrammar, type CompiledGrammar } from '../dist/lib/grammar/index.js';
import { native, type NativeGrammarSession } from '../dist/lib/native.js';
import { parseJson, stringifyJson, type LosslessJsonValue } from '../dist/lib/parse/json.js';
import { Tokenizer } from '../dist/lib/tokenizer/tokenizer.js';
import { bfclToTools, type BfclFunctionDoc } from '../dist/lib/tools/bfcl.js';
import { normalizeTools } from '../dist/lib/tools/normalize.js';
import type { ToolDefinition } from '../dist/lib/tools/types.js';
import { firstAnswer } from './helpers/bfcl-answers.js';
import { fixturePath, repoRoot } from './helpers/fixtures.js';
import { byteSession } from './helpers/grammar.js';
import { prng as rng } from './helpers/prng.js';

type Dict = { [key: string]: LosslessJsonValue };

/** A session over a tokenizer's vocabulary: special and empty tokens are not allowed. */
function sessionFor(tok: Tokenizer): { session: NativeGrammarSession; views: readonly Uint8Array[]; allowed: Uint8Array } {
  const views = tok.allTokenBytes();
  const { data, offsets } = tok.tokenBytesTable();
  const allowed = Uint8Array.from(views, (v, i) => (v.length > 0 && !tok.isSpecialToken(i) ? 1 : 0));
  return { session: new (native().GrammarSession)(data, offsets, allowed), views, allowed };
}

/** BFCL entries with their tools and first ground-truth answer as xLAM-2 text. */
function bfclSamples(limit: number): Array<{ id: string; tools: ToolDefinition[]; answer: string }> {
  const dataDir = join(repoRoot, '..', 'shared', 'bfcl', 'data');
  const out: Array<{ id: string; tools: ToolDefinition[]; answer: string }> = [];
  for (const file of readdirSync(dataDir).filter((f) => f.endsWith('.json')).sort()) {
    const answerFile = join(dataDir, 'possible_answer', file);
    if (!existsSync(answerFile)) continue;
    const answers = new Map<string, Array<Record<string, Record<string, LosslessJsonValue[]>>>>();
    for (const line of readFileSync(answerFile, 'utf8').split('\n').filter(Boolean)) {
      const a = parseJson(line) as unknown as { id: string; ground_truth: Array<Record<string, Record<string, LosslessJsonValue[]>>> };
      answers.set(String(a.id), a.ground_truth);
    }
    const lines = readFileSync(join(dataDir, file), 'utf8').split('\n').filter(Boolean);
    for (const line of lines.filter((_, i) => i % 7 === 0)) {
      const e = JSON.parse(line) as { id: string; function: BfclFunctionDoc[] };
      const gt = answers.get(e.id);
      if (!gt) continue;
      const tools = bfclToTools(e.function);
      const calls = gt.map((call) => {
        const [name, params] = Object.entries(call)[0]!;
        const doc = e.function.find((f) => f.name === name)!;
        const args = firstAnswer(params, doc) as Dict;
        // The grammar fixes the schema's key order; answers are sets of parameters.
        const order = Object.keys((tools.find((x) => x.name === name)?.parameters as { properties?: object })?.properties ?? {});
        const ordered: Dict = {};
        for (const k of order) if (k in args) ordered[k] = args[k]!;
        for (const k of Object.keys(args)) if (!(k in ordered)) ordered[k] = args[k]!;
        return { name, arguments: ordered };
      });
      const answer = stringifyJson(calls as unknown as LosslessJsonValue, true);
      try {
        if (!matches(compileGrammar(toolCallGrammar(tools, { format: 'xlam2' })), answer)) continue;
      } catch {
        continue;
      }
      out.push({ id: e.id, tools, answer });
      if (out.length >= limit) return out;
    }
  }
  return out;
}

t.test('byte matching agrees with the reference on BFCL answers and corruptions of them', async (t) => {
  const samples = bfclSamples(150);
  t.ok(samples.length >= 100, `${samples.length} BFCL samples`);
  const next = rng(7);
  const session = byteSession();
  let checked = 0;
  let mismatches = 0;
  for (const s of samples) {
    const cg: CompiledGrammar = compileGrammar(toolCallGrammar(s.tools, { format: 'xlam2' }));
    const bg = toByteGrammar(cg);
    const base = new TextEncoder().encode(s.answer);
    const variants: Uint8Array[] = [base];
    for (let k = 0; k < 8; k++) {
      const v = Uint8Array.from(base);
      const at = Math.floor(next() * v.length);
      if (k % 3 === 0) v[at] = Math.floor(next() * 256); // any byte, also invalid UTF-8
      else if (k % 3 === 1) v[at] = ' {}[]",:0aé\\'.charCodeAt(Math.floor(next() * 12)) & 0xff;
      variants.push(k % 3 === 2 ? v.subarray(0, at) : v);
    }
    for (const v of variants) {
      const m = createMatcher(cg);
      let i = 0;
      while (i < v.length && m.accept(v[i]!)) i++;
      const refComplete = i === v.length && m.isComplete();
      const n = session.matchBytes(bg, v);
      const natComplete = n.accepted === v.length && n.complete;
      checked++;
      if (n.accepted !== i || natComplete !== refComplete) {
        mismatches++;
        if (mismatches <= 5) t.fail(`${s.id}: native ${n.accepted}/${natComplete}, reference ${i}/${refComplete} on ${new TextDecoder().decode(v).slice(0, 100)}`);
      }
    }
  }
  t.equal(mismatches, 0, `${checked} byte strings, native and reference agree on every one`);
});

for (const fixture of ['qwen2-bf16', 'llama3-rope-bf16']) {
  t.test(`token masks equal the reference over the whole ${fixture} vocabulary`, async (t) => {
    const tok = await Tokenizer.fromDir(fixturePath(fixture));
    const { session, views, allowed } = sessionFor(tok);
    const samples = bfclSamples(400);
    const picks = [samples[3]!, samples[57]!, samples[211]!, samples[333]!].filter(Boolean);
    const weather = normalizeTools([{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 40 }, when: { type: 'string', format: 'date' }, days: { type: 'integer' }, unit: { enum: ['celsius', 'fahrenheit'] } }, required: ['city'] } }]);
    picks.push({ id: 'weather', tools: weather, answer: '[{"name": "get_weather", "arguments": {"city": "Zürich 東京", "when": "2026-11-24", "days": 3, "unit": "celsius"}}]' });
    const specials = tok.addedTokens.filter((a) => a.special).map((a) => a.id);
    for (const s of picks) {
      const cg = compileGrammar(toolCallGrammar(s.tools, { format: 'xlam2' }));
      const bg = toByteGrammar(cg);
      const ids = tok.encode(s.answer, { addSpecialTokens: false });
      // Prefixes at a few token boundaries: the start, inside keys, strings, numbers, the end.
      const cuts = [0, 1, 3, Math.floor(ids.length / 3), Math.floor(ids.length / 2), ids.length - 2, ids.length];
      for (const cut of [...new Set(cuts)].filter((c) => c >= 0 && c <= ids.length)) {
        const prefix = ids.slice(0, cut);
        const mask = session.mask(bg, prefix);
        const ref = createMatcher(cg);
        let refused = 0;
        for (const id of prefix) for (const b of views[id]!) if (!ref.accept(b)) refused++;
        if (refused > 0) t.fail(`${s.id}: the reference refuses the answer's prefix`);
        let wrong = 0;
        let count = 0;
        for (let id = 0; id < views.length; id++) {
          let ok = allowed[id] === 1;
          if (ok) {
            const c = ref.clone();
            for (const b of views[id]!) if (!c.accept(b)) { ok = false; break; }
          }
          if (ok) count++;
          if (ok !== (mask[id] === 1)) wrong++;
        }
        t.equal(wrong, 0, `${s.id} after ${cut}/${ids.length} tokens: ${count} tokens allowed, the same as the reference`);
        t.ok(specials.every((id) => id >= mask.length || mask[id] === 0), 'no special token is ever allowed');
        if (cut < ids.length) t.equal(mask[ids[cut]!], 1, 'the answer\'s own next token is allowed');
      }
    }
  });
}

t.test('unsatisfiable schema parts: native and reference die at the same byte (schema-grammar fuzzer finding)', async (t) => {
  const session = byteSession();
  // `"type": []` admits no value: a parse that must write one is dead once it is expected.
  for (const schema of [{ type: 'object', additionalProperties: { type: [] } }, { type: 'object', properties: { a: { enum: [] } }, required: ['a'] }, { type: 'array', items: { type: [] }, minItems: 1 }]) {
    const cg = compileGrammar(jsonSchemaToGrammar(schema));
    const bg = toByteGrammar(cg);
    for (const text of ['{"a": 1}', '{"a":1}', '{ "a" : 1 }', '[1]', '[ ]', '{}']) {
      const v = new TextEncoder().encode(text);
      const m = createMatcher(cg);
      let i = 0;
      while (i < v.length && m.accept(v[i]!)) i++;
      const n = session.matchBytes(bg, v);
      t.same([n.accepted, n.accepted === v.length && n.complete], [i, i === v.length && m.isComplete()], `${JSON.stringify(schema)} on ${text}`);
    }
  }
});

t.test('forced continuations spell the forced bytes and leave the last token to the model', async (t) => {
  const tok = await Tokenizer.fromDir(fixturePath('qwen2-bf16'));
  const { session, views } = sessionFor(tok);
  const tools = normalizeTools([{ name: 'get_current_weather_report', description: 'w', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }]);
  const cg = compileGrammar(toolCallGrammar(tools, { format: 'xlam2' }));
  const bg = toByteGrammar(cg);
  const text = '[{"name": "';
  const prefix = tok.encode(text, { addSpecialTokens: false });
  const forced = session.forced(bg, prefix);
  const spelled = Buffer.concat(forced.map((id) => Buffer.from(views[id]!))).toString('utf8');
  t.ok(forced.length > 0, `forced ${JSON.stringify(spelled)}`);
  t.ok('get_current_weather_report", '.startsWith(spelled), 'a prefix of the one possible tool name');
  t.ok(spelled.length < 'get_current_weather_report"'.length, 'the last token before free text is not forced');
  // Every forced token is allowed by the mask at its place.
  const seq = [...prefix];
  for (const id of forced) {
    t.equal(session.mask(bg, seq)[id], 1, `forced ${JSON.stringify(tok.decode([id]))} is allowed`);
    seq.push(id);
  }
  t.same(session.forced(bg, tok.encode('[{"name": "get_current_weather_report", "arguments": {"city": "Pa', { addSpecialTokens: false })), [], 'nothing forced inside free text');
});

t.test('malformed grammars and vocabularies are typed errors', async (t) => {
  const session = byteSession();
  const good: ByteGrammar = toByteGrammar(compileGrammar(toolCallGrammar(normalizeTools([{ name: 'f', parameters: { type: 'object', properties: {} } }]))));
  const bad = (patch: Partial<ByteGrammar>, what: string) =>
    t.throws(() => session.matchBytes({ ...good, ...patch }, new Uint8Array([91])), { code: 'INVALID_ARGUMENT' }, what);
  bad({ root: good.ruleAlts.length + 5 }, 'root out of range');
  bad({ arg: Int32Array.from(good.arg, (a, i) => (good.kind[i] === 2 ? 1 << 29 : a)) }, 'reference out of range');
  bad({ kind: good.kind.map((k, i) => (i === good.kind.length - 1 ? 1 : k)) }, 'last alternative without END');
  bad({ kind: good.kind.map((k) => (k === 0 ? 7 : k)) }, 'unknown element kind');
  bad({ sets: new Uint32Array(3) }, 'sets not in words of 8');
  bad({ altStart: Int32Array.from(good.altStart, () => -1) }, 'alternative start out of range');
  bad({ kind: new Int32Array(good.kind.length) as unknown as Uint8Array }, 'wrong typed-array type');
  // a ::= a "x" | "y": left recursion.
  const leftRec: ByteGrammar = {
    kind: Uint8Array.from([2, 1, 0, 1, 0]),
    arg: Int32Array.from([0, 0, 0, 1, 0]),
    sets: new Uint32Array(16),
    ruleAlts: Int32Array.from([0, 2]),
    altStart: Int32Array.from([0, 3]),
    root: 0,
  };
  t.throws(() => session.matchBytes(leftRec, new Uint8Array([1])), { code: 'INVALID_ARGUMENT', message: /left recursion/ }, 'left recursion');
  const Session = native().GrammarSession;
  t.throws(() => new Session(new Uint8Array(2), Uint32Array.from([0, 5]), new Uint8Array(1)), { code: 'INVALID_ARGUMENT' }, 'offsets past the data');
  t.throws(() => new Session(new Uint8Array(2), Uint32Array.from([0, 2, 1]), new Uint8Array(2)), { code: 'INVALID_ARGUMENT' }, 'offsets descending');
});
