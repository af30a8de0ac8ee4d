// Fuzz target: tokenizer loading. An input is {"tokenizer": tokenizer.json, "config":
// tokenizer_config.json, "model_type": ...} (or, when it is not such JSON, the raw bytes of
// tokenizer.json); Tokenizer.fromDir loads the folder and the tokenizer then encodes, decodes and
// streams a few texts. Only XlamError subclasses may come out.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { XlamError } from '../../../lib/errors.js';
import { Tokenizer } from '../../../lib/tokenizer/tokenizer.js';
import { repoPath } from './repo.js';
import type { FuzzTarget } from './target.js';

type Json = Record<string, unknown>;

const dir = mkdtempSync(join(tmpdir(), 'xlam-fuzz-tokenizer-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const TEXTS = ['Hello, world! 123 ', '<|im_start|>user\nhi<|im_end|><s></s>[INST] x', ' \t\n  é😀東京 e\u0301 \ud800', ''];

/** A real tokenizer cut to its first `keep` merges (ids renumbered densely), as a seed. */
function shrink(model: string, keep: number): Json {
  const j = JSON.parse(readFileSync(repoPath('test', 'fixtures', 'models', model, 'tokenizer.json'), 'utf8')) as Json;
  const m = j.model as { vocab: Record<string, number>; merges: Array<string | string[]> };
  const byId = Object.entries(m.vocab).sort((a, b) => a[1] - b[1]);
  const vocab = new Map<string, number>();
  for (const [tok] of byId.slice(0, 260)) vocab.set(tok, vocab.size);
  const merges: Array<string | string[]> = [];
  for (const mg of m.merges) {
    if (merges.length >= keep) break;
    const [a, b] = Array.isArray(mg) ? mg : mg.split(' ');
    if (a === undefined || b === undefined || !vocab.has(a) || !vocab.has(b) || !(a + b in m.vocab)) continue;
    if (!vocab.has(a + b)) vocab.set(a + b, vocab.size);
    merges.push(mg);
  }
  const renumber = new Map<number, number>();
  const added = ((j.added_tokens as Array<Json & { id: number }>) ?? []).slice(0, 8).map((t, i) => {
    renumber.set(t.id, vocab.size + i);
    return { ...t, id: vocab.size + i };
  });
  const text = JSON.stringify({ ...j, added_tokens: added, model: { ...m, vocab: Object.fromEntries(vocab), merges } });
  // Post-processor special-token ids follow the added tokens.
  return JSON.parse(text, (k, v) => (k === 'ids' && Array.isArray(v) ? v.map((id: number) => renumber.get(id) ?? 0) : v)) as Json;
}

export const target: FuzzTarget = {
  maxLen: 256 * 1024,
  json: true,
  dict: ['model', 'type', 'BPE', 'WordPiece', 'Unigram', 'vocab', 'merges', 'added_tokens', 'special', 'content', 'normalizer',
    'pre_tokenizer', 'post_processor', 'decoder', 'ByteLevel', 'Metaspace', 'Split', 'Sequence', 'Regex', 'String', 'pattern',
    'behavior', 'Isolated', 'Replace', 'Prepend', 'Strip', 'Fuse', 'ByteFallback', 'TemplateProcessing', 'single', 'pair',
    'special_tokens', 'ids', 'tokens', 'byte_fallback', 'unk_token', 'bos_token', 'eos_token', 'pad_token', 'add_bos_token',
    'add_eos_token', 'add_prefix_space', 'tokenizer_class', 'LlamaTokenizer', 'Qwen2Tokenizer', 'LlamaTokenizerFast',
    'PreTrainedTokenizerFast', 'legacy', 'chat_template', 'model_type', 'llama', 'qwen2', 'mistral', 'lstrip', 'rstrip',
    'normalized', 'single_word', '(a+)+', '\\p{L}+', '(?i:x)', '[^\\s]', '<s>', '</s>', '<|im_end|>', 'NFC', 'NFKC', 'Lowercase'],
  seeds() {
    const out: Json[] = [];
    for (const [model, type] of [['mistral-bf16', 'mistral'], ['llama-bf16', 'llama'], ['qwen2-bf16', 'qwen2']] as const) {
      const config = JSON.parse(readFileSync(repoPath('test', 'fixtures', 'models', model, 'tokenizer_config.json'), 'utf8')) as Json;
      delete config.chat_template;
      delete config.added_tokens_decoder; // its ids are those of the whole vocabulary
      out.push({ tokenizer: shrink(model, 200), config, model_type: type });
    }
    for (const f of ['S34-safe-pattern', 'S34-nested-quantifier', 'S34-nested-in-alternation']) {
      const p = (n: string) => JSON.parse(readFileSync(repoPath('test', 'fixtures', 'model-files', f, n), 'utf8')) as Json;
      out.push({ tokenizer: p('tokenizer.json'), config: p('tokenizer_config.json') });
    }
    return out.map((j) => Buffer.from(JSON.stringify(j)));
  },
  async run(data) {
    let doc: unknown;
    try {
      doc = JSON.parse(data.toString('utf8'));
    } catch {
      doc = undefined;
    }
    const d = doc && typeof doc === 'object' && !Array.isArray(doc) && 'tokenizer' in doc ? (doc as Json) : undefined;
    writeFileSync(join(dir, 'tokenizer.json'), d ? JSON.stringify(d.tokenizer) ?? '' : data);
    writeFileSync(join(dir, 'tokenizer_config.json'), d && d.config !== undefined ? JSON.stringify(d.config) ?? '' : '{}');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: d?.model_type }));
    const tok = await Tokenizer.fromDir(dir);
    for (const text of TEXTS) {
      const ids = tok.encode(text);
      tok.decode(ids);
      tok.decode(ids, { skipSpecialTokens: true });
      const detok = tok.detokenizer();
      for (const id of ids) detok.push(id);
      detok.flush();
    }
    const n = Math.min(tok.vocabSize, 2000);
    for (let id = 0; id < n; id += 1 + (id >> 4)) {
      tok.tokenBytes(id);
      tok.idToToken(id);
    }
    if (tok.vocabSize <= 4096) tok.tokenBytesTable();
  },
  expected: (err) => err instanceof XlamError,
};
