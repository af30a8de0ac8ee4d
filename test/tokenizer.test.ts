// The Tokenizer against the transformers goldens (scripts/make-tokenizer-goldens.py) of the
// qwen3, llama3_1 and llama2 tokenizer packages: identical ids on the whole corpus (with and
// without special tokens, and with special-token text not parsed), identical decodes, round
// trips where transformers has them, token bytes, and the incremental detokenizer.
import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { CleanupStream, cleanUpTokenization } from '../dist/lib/tokenizer/cleanup.js';
import { Tokenizer } from '../dist/lib/tokenizer/tokenizer.js';
import { resolveClass } from '../dist/lib/tokenizer/transformers-compat.js';
import { goldensDir, repoRoot } from './helpers/fixtures.js';
import { prng as rng } from './helpers/prng.js';

interface Case {
  ids: number[];
  ids_plain: number[];
  ids_plain_split_special?: number[];
  decoded: string;
  decoded_skip: string;
  round_trip: boolean;
}

interface TokenizerGolden {
  tokenizer: string;
  folder: string;
  corpus_sha256: string;
  class: string;
  len: number;
  special: Record<'bos' | 'eos' | 'pad' | 'unk', [string, number] | null>;
  added_tokens: Array<[number, string, boolean]>;
  cases: Case[];
  decode_cases: Array<{ ids: number[]; decoded: string; decoded_skip: string }>;
  token_bytes: Record<string, string>;
  model_types: Array<{ model_type: string; class: string; strings: string[]; ids: number[][]; decoded: string[] }>;
}

const NAMES = ['qwen3', 'llama3_1', 'llama2'];
const corpusRaw = readFileSync(join(goldensDir, 'tokenizer-corpus.json'));
const corpus = JSON.parse(corpusRaw.toString('utf8')) as string[];
const goldens = new Map(NAMES.map((n) => [n, JSON.parse(readFileSync(join(goldensDir, `tokenizer-${n}.json`), 'utf8')) as TokenizerGolden]));
const tokenizers = new Map<string, Tokenizer>();
const load = async (name: string) => {
  if (!tokenizers.has(name)) tokenizers.set(name, await Tokenizer.fromDir(join(repoRoot, goldens.get(name)!.folder)));
  return tokenizers.get(name)!;
};

/** A string for a test message (TAP lines must not hold C1 controls or line/paragraph separators). */
const show = (text: string) =>
  JSON.stringify(text).replace(/[\u0080-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const label = (i: number, text: string) => `#${i} ${show(text.slice(0, 40))}`;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

t.test('the corpus and the goldens belong together', async (t) => {
  t.ok(corpus.length >= 60, `${corpus.length} strings`);
  t.ok(corpus.includes(''), 'the empty string');
  const sha = createHash('sha256').update(corpusRaw).digest('hex');
  for (const g of goldens.values()) {
    t.equal(g.corpus_sha256, sha, `${g.tokenizer}: made from this corpus`);
    t.equal(g.cases.length, corpus.length);
  }
});

for (const name of NAMES) {
  const g = goldens.get(name)!;

  t.test(`${name}: class, vocabulary size, special and added tokens as transformers`, async (t) => {
    const tk = await load(name);
    t.equal(tk.tokenizerClass, g.class);
    t.equal(tk.vocabSize, g.len);
    const pair = (s: string | null, id: number | null) => (s === null ? null : [s, id]);
    t.same(pair(tk.bosToken, tk.bosTokenId), g.special.bos, 'bos');
    t.same(pair(tk.eosToken, tk.eosTokenId), g.special.eos, 'eos');
    t.same(pair(tk.padToken, tk.padTokenId), g.special.pad, 'pad');
    t.same(pair(tk.unkToken, tk.unkTokenId), g.special.unk, 'unk');
    t.same(tk.addedTokens.map((a) => [a.id, a.content, a.special]), g.added_tokens);
    for (const [id, content, special] of g.added_tokens) {
      t.equal(tk.tokenToId(content), id);
      t.equal(tk.idToToken(id), content);
      t.equal(tk.isSpecialToken(id), special);
    }
  });

  t.test(`${name}: identical ids on the whole corpus`, async (t) => {
    const tk = await load(name);
    corpus.forEach((text, i) => {
      const c = g.cases[i]!;
      const l = label(i, text);
      t.same(tk.encode(text), c.ids, `${l} with special tokens`);
      t.same(tk.encode(text, { addSpecialTokens: false }), c.ids_plain, `${l} without`);
      t.same(tk.encode(text, { addSpecialTokens: false, parseSpecialTokens: false }), c.ids_plain_split_special ?? c.ids_plain,
        `${l} special-token text not parsed`);
    });
  });

  t.test(`${name}: identical decodes, round trips where transformers has them`, async (t) => {
    const tk = await load(name);
    corpus.forEach((text, i) => {
      const c = g.cases[i]!;
      const l = label(i, text);
      t.equal(tk.decode(c.ids), c.decoded, `${l} decode`);
      t.equal(tk.decode(c.ids, { skipSpecialTokens: true }), c.decoded_skip, `${l} decode skipping special tokens`);
      t.equal(tk.decode(tk.encode(text, { addSpecialTokens: false })) === text, c.round_trip, `${l} round trip: ${c.round_trip}`);
    });
    for (const c of g.decode_cases) {
      t.equal(tk.decode(c.ids), c.decoded, `random ids ${JSON.stringify(c.ids)}`);
      t.equal(tk.decode(c.ids, { skipSpecialTokens: true }), c.decoded_skip, `random ids, skipping special tokens`);
    }
    t.equal(tk.decode([tk.vocabSize, tk.vocabSize + 1000]), '', 'ids outside the vocabulary are dropped, as transformers does');
    t.throws(() => tk.decode([-1]), { code: 'INVALID_ARGUMENT' });
    t.throws(() => tk.decode([1.5]), { code: 'INVALID_ARGUMENT' });
  });

  t.test(`${name}: token bytes`, async (t) => {
    const tk = await load(name);
    const start = performance.now();
    const all = tk.allTokenBytes();
    const ms = performance.now() - start;
    t.ok(ms < 1500, `allTokenBytes for ${tk.vocabSize} ids in ${ms.toFixed(0)} ms`);
    t.equal(all.length, tk.vocabSize);
    t.equal(tk.allTokenBytes(), all, 'computed once');
    for (const [id, want] of Object.entries(g.token_bytes)) {
      t.equal(hex(all[Number(id)]!), want, `id ${id}`);
      t.equal(hex(tk.tokenBytes(Number(id))), want);
    }
    t.throws(() => tk.tokenBytes(tk.vocabSize), { code: 'INVALID_ARGUMENT' });
    t.throws(() => tk.tokenBytes(-1), { code: 'INVALID_ARGUMENT' });
    // Each of the 256 bytes is exactly one token's bytes (GPT-2 alphabet or <0xAB> tokens).
    const single = new Set(all.filter((b) => b.length === 1).map((b) => b[0]));
    t.equal(single.size, 256, 'every byte has a single-byte token');
    // For ordinary text, the token bytes of its ids are its UTF-8 (SentencePiece: with the "▁" prefix).
    const sentencePiece = g.class === 'LlamaTokenizer';
    const added = tk.addedTokens.map((a) => a.content);
    let checked = 0;
    corpus.forEach((text, i) => {
      const c = g.cases[i]!;
      if (!c.round_trip || text === '' || added.some((a) => text.includes(a))) return;
      const want = Buffer.from(sentencePiece && !text.startsWith(' ') ? ' ' + text : text, 'utf8');
      t.equal(Buffer.concat(c.ids_plain.map((id) => all[id]!)).toString('hex'), want.toString('hex'), label(i, text));
      checked++;
    });
    t.ok(checked >= 50, `${checked} strings`);
  });

  t.test(`${name}: the detokenizer's deltas concatenate to decode, never break a character`, async (t) => {
    const tk = await load(name);
    const check = (ids: number[], skipSpecialTokens: boolean, label: string): boolean => {
      const d = tk.detokenizer({ skipSpecialTokens });
      const want = tk.decode(ids, { skipSpecialTokens });
      let text = '';
      for (let k = 0; k < ids.length; k++) {
        const delta = d.push(ids[k]!);
        if (LONE_SURROGATE.test(delta)) return t.fail(`${label}: delta ${show(delta)} splits a surrogate pair`);
        text += delta;
        // What is out is final: a prefix of the decode of the ids so far (checked on the first
        // 100 ids, to stay fast) and of the whole.
        const sofar = k < 100 ? tk.decode(ids.slice(0, k + 1), { skipSpecialTokens }) : want;
        if (!sofar.startsWith(text) || !want.startsWith(text)) {
          return t.fail(`${label}: after ${k + 1} ids ${show(text)} is not a prefix of ${show(sofar)}`);
        }
      }
      text += d.flush();
      if (text !== d.text) return t.fail(`${label}: text property`);
      if (text !== want) return t.fail(`${label}: ${show(text)} !== ${show(want)}`);
      return true;
    };
    // Random id sequences: byte tokens (emoji and CJK split over bytes), any id, added tokens,
    // space-like tokens, ids outside the vocabulary.
    const byteIds = tk.allTokenBytes().flatMap((b, id) => (b.length === 1 && !tk.isSpecialToken(id) ? [id] : []));
    const spaceIds = [' ', '  ', '\n', ' a'].flatMap((s) => tk.encode(s, { addSpecialTokens: false }));
    const addedIds = tk.addedTokens.map((a) => a.id);
    const emojiIds = ['🦜', '👩‍👩‍👧', '🇯🇵', '中文', '𝕏'].flatMap((s) => tk.encode(s, { addSpecialTokens: false }));
    const random = rng(7 + name.length);
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
    let passed = 0;
    const runs = 150;
    for (let n = 0; n < runs; n++) {
      const ids: number[] = [];
      const len = Math.floor(random() * 40);
      for (let k = 0; k < len; k++) {
        const r = random();
        ids.push(r < 0.35 ? pick(byteIds) : r < 0.55 ? pick(emojiIds) : r < 0.7 ? Math.floor(random() * tk.vocabSize)
          : r < 0.85 ? pick(spaceIds) : r < 0.97 ? pick(addedIds) : tk.vocabSize + Math.floor(random() * 100));
      }
      if (check(ids, false, `random #${n}`) && check(ids, true, `random #${n} skipping special tokens`)) passed++;
    }
    t.equal(passed, runs, `${runs} random sequences, with and without skipSpecialTokens`);
    passed = 0;
    corpus.forEach((text, i) => {
      const c = g.cases[i]!;
      if (check(c.ids, false, `corpus #${i}`) && check(c.ids, true, `corpus #${i} skipping special tokens`)) passed++;
    });
    t.equal(passed, corpus.length, 'the encodings of the corpus');
  });
}

t.test('an emoji split over tokens appears whole, once complete', async (t) => {
  const qwen = await load('qwen3');
  const parrot = qwen.encode('🦜', { addSpecialTokens: false });
  t.equal(parrot.length, 2, 'two byte-level tokens');
  const d = qwen.detokenizer();
  t.equal(d.push(parrot[0]!), '', 'nothing while incomplete');
  t.equal(d.push(parrot[1]!), '🦜');
  t.equal(d.flush(), '');
  t.throws(() => d.push(parrot[0]!), { code: 'INVALID_ARGUMENT' }, 'push after flush');
  const cut = qwen.detokenizer();
  cut.push(parrot[0]!);
  t.equal(cut.flush(), '\uFFFD', 'an incomplete character at the end is U+FFFD, as in decode');

  const llama2 = await load('llama2');
  const ids = llama2.encode('I love 🦜 birds', { addSpecialTokens: false });
  const d2 = llama2.detokenizer();
  const deltas = ids.map((id) => d2.push(id));
  t.equal(deltas[0], 'I', 'the leading SentencePiece space is stripped, as decode does');
  t.ok(deltas.every((x) => !x.includes('\uFFFD')), 'no replacement character on the way');
  t.equal(deltas.join('') + d2.flush(), 'I love 🦜 birds');
  t.ok(ids.filter((id) => llama2.idToToken(id)!.startsWith('<0x')).length === 4, 'the emoji is four byte-fallback tokens');
});

t.test('clean_up_tokenization_spaces: streamed equals whole', async (t) => {
  const random = rng(99);
  const alphabet = [' ', ' ', ' ', "'", 'n', 't', 's', 'm', 'v', 'e', 'r', '.', ',', '?', '!', 'x', 'é'];
  for (let n = 0; n < 500; n++) {
    let s = '';
    const len = Math.floor(random() * 30);
    for (let k = 0; k < len; k++) s += alphabet[Math.floor(random() * alphabet.length)];
    const stream = new CleanupStream();
    let out = '';
    for (let k = 0; k < s.length;) {
      const step = 1 + Math.floor(random() * 4);
      out += stream.push(s.slice(k, k + step));
      k += step;
    }
    out += stream.flush();
    if (out !== cleanUpTokenization(s)) return t.fail(`${JSON.stringify(s)}: ${JSON.stringify(out)}`);
  }
  t.equal(cleanUpTokenization("a . b , c ! d ? e ' f n't 'm 's 've 're"), "a. b, c! d? e'fn't'm's've're");

  // A tokenizer where transformers applies it (a BPE model must force it): decode and detokenizer.
  const dir = t.testdir({});
  const src = join(repoRoot, goldens.get('llama2')!.folder);
  copyFileSync(join(src, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  const config = JSON.parse(readFileSync(join(src, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config, clean_up_tokenization_spaces: true,
    clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output: true }));
  const tk = await Tokenizer.fromDir(dir);
  const plain = await load('llama2');
  const text = "Hello , world ! I 'm sure it 's fine . It is n't , is it ?";
  const ids = tk.encode(text);
  t.equal(tk.decode(ids), cleanUpTokenization(plain.decode(ids)));
  t.equal(tk.decode(ids, { skipSpecialTokens: true }), "Hello, world! I'm sure it's fine. It isn't, is it?");
  const d = tk.detokenizer({ skipSpecialTokens: true });
  t.equal(d.pushAll(ids) + d.flush(), tk.decode(ids, { skipSpecialTokens: true }));
});

t.test('config.json model_type steers the class as in transformers', async (t) => {
  for (const g of goldens.values()) {
    for (const v of g.model_types) {
      const config = JSON.parse(readFileSync(join(repoRoot, g.folder, 'tokenizer_config.json'), 'utf8')) as { tokenizer_class?: string };
      t.equal(resolveClass(config.tokenizer_class, v.model_type), v.class, `${g.tokenizer} as ${v.model_type}`);
      // Loading is slow for the big vocabularies; their class does not change with the model type.
      if (v.class === g.class && g.tokenizer !== 'llama2') continue;
      const dir = t.testdir({ 'config.json': JSON.stringify({ model_type: v.model_type }) });
      for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(repoRoot, g.folder, f), join(dir, f));
      const tk = await Tokenizer.fromDir(dir);
      t.equal(tk.tokenizerClass, v.class, `${g.tokenizer} as ${v.model_type}: loaded`);
      t.same(v.strings.map((s) => tk.encode(s)), v.ids, `${g.tokenizer} as ${v.model_type}: ids`);
      t.same(v.ids.map((ids) => tk.decode(ids)), v.decoded, `${g.tokenizer} as ${v.model_type}: decode`);
    }
  }
  t.equal(resolveClass('LlamaTokenizerFast', undefined), 'LlamaTokenizer');
  t.equal(resolveClass('PreTrainedTokenizerFast', 'llama'), 'TokenizersBackend');
  t.equal(resolveClass('LlamaTokenizer', 'mistral'), 'TokenizersBackend');
  t.equal(resolveClass('Qwen2TokenizerFast', 'qwen2'), 'Qwen2Tokenizer');
  t.equal(resolveClass(undefined, 'qwen3'), 'Qwen2Tokenizer');
});

t.test('bad folders reject with typed errors', async (t) => {
  await t.rejects(Tokenizer.fromDir(join(repoRoot, 'no-such-model')), { code: 'MODEL_NOT_FOUND' });
  await t.rejects(Tokenizer.fromDir(t.testdir({ 'config.json': '{}' })), { code: 'TOKENIZER_NOT_FOUND' });
  await t.rejects(Tokenizer.fromDir(t.testdir({ 'tokenizer.json': '{"model": ' })), { code: 'BAD_TOKENIZER', file: 'tokenizer.json' });
  await t.rejects(Tokenizer.fromDir(t.testdir({ 'tokenizer.json': '{}' })), { code: 'BAD_TOKENIZER' });
  const json = readFileSync(join(repoRoot, goldens.get('llama2')!.folder, 'tokenizer.json'), 'utf8');
  const weird = JSON.parse(json) as Record<string, unknown>;
  weird.decoder = { type: 'CTC' };
  await t.rejects(Tokenizer.fromDir(t.testdir({ 'tokenizer.json': JSON.stringify(weird) })), { code: 'UNSUPPORTED_TOKENIZER' });
});

// Found by the tokenizer fuzzer (test/fuzz/targets/tokenizer.ts): an added token id of 2^31-1 in
// tokenizer_config.json sized the per-id tables and made loading run for minutes.
t.test('an added token id far above the vocabulary is BAD_TOKENIZER, at once', async (t) => {
  const tokenizerJson = readFileSync(join(repoRoot, 'test', 'fixtures', 'model-files', 'S34-safe-pattern', 'tokenizer.json'), 'utf8');
  const special = { content: '<x>', lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  for (const id of [2147483647, 3 + 65536]) {
    const started = Date.now();
    const config = JSON.stringify({ added_tokens_decoder: { [id]: special } });
    await t.rejects(Tokenizer.fromDir(t.testdir({ 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': config })),
      { code: 'BAD_TOKENIZER', file: 'tokenizer_config.json' });
    t.ok(Date.now() - started < 2000, `id ${id} refused quickly`);
  }
  const inJson = JSON.parse(tokenizerJson) as { added_tokens: unknown[] };
  inJson.added_tokens = [{ id: 1e9, ...special }];
  await t.rejects(Tokenizer.fromDir(t.testdir({ 'tokenizer.json': JSON.stringify(inJson) })), { code: 'BAD_TOKENIZER', file: 'tokenizer.json' });
  // The last id allowed (3 model tokens + 65,536 - 1) still loads.
  const ok = await Tokenizer.fromDir(t.testdir({ 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': JSON.stringify({ added_tokens_decoder: { [3 + 65535]: special } }) }));
  t.equal(ok.vocabSize, 3 + 65536);
});

t.test('a model vocabulary id far above its size is BAD_TOKENIZER, not an out-of-memory crash', async (t) => {
  const tokenizerJson = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'model-files', 'S34-safe-pattern', 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
  const [first] = Object.keys(tokenizerJson.model.vocab);
  for (const id of [2147483647, -1, 1.5]) {
    tokenizerJson.model.vocab[first!] = id;
    await t.rejects(Tokenizer.fromDir(t.testdir({ 'tokenizer.json': JSON.stringify(tokenizerJson) })), { code: 'BAD_TOKENIZER', file: 'tokenizer.json' }, `id ${id}`);
  }
  // The tokenizer fuzzer's findings (test/fuzz/findings/tokenizer-*): a 456-token vocabulary with
  // one id of 2^31-1 (the process died of V8's heap limit); a Split `behavior` that is not a
  // string (a TypeError inside encode). Each is now BAD_TOKENIZER at load.
  const findingsDir = join(repoRoot, 'test', 'fuzz', 'findings');
  const findings = readdirSync(findingsDir).filter((f) => f.startsWith('tokenizer-'));
  t.ok(findings.length >= 2, 'the committed findings');
  for (const name of findings) {
    const finding = JSON.parse(readFileSync(join(findingsDir, name), 'utf8')) as Record<string, unknown>;
    const files: Record<string, string> = { 'tokenizer.json': JSON.stringify(finding.tokenizer) };
    if (finding.config) files['tokenizer_config.json'] = JSON.stringify(finding.config);
    if (finding.model_type) files['config.json'] = JSON.stringify({ model_type: finding.model_type });
    await t.rejects(Tokenizer.fromDir(t.testdir(files)), { name: 'XlamModelFormatError', code: 'BAD_TOKENIZER' }, name);
  }
  // Another finding: `added_tokens` as an object, not a list, escaped as a TypeError.
  const shaped = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'model-files', 'S34-safe-pattern', 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  shaped.added_tokens = { x: [] };
  await t.rejects(Tokenizer.fromDir(t.testdir({ 'tokenizer.json': JSON.stringify(shaped) })), { name: 'XlamModelFormatError', code: 'BAD_TOKENIZER' });
});

t.test('the package exports the tokenizer', async (t) => {
  const api = await import('../dist/lib/index.js');
  t.equal(api.Tokenizer, Tokenizer);
  t.type(api.IncrementalDetokenizer, 'function');
});
