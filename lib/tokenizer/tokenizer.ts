/**
 * The Tokenizer: a Hugging Face model folder's tokenizer.json and tokenizer_config.json, giving
 * the same ids and text as transformers 5's `AutoTokenizer.from_pretrained(folder)`.
 *
 * @example
 * ```ts
 * import { Tokenizer } from 'xlam-engine';
 * const tokenizer = await Tokenizer.fromDir('/models/xLAM-2-1b-fc-r');
 * const ids = tokenizer.encode('<|im_start|>user\nHi<|im_end|>\n');
 * tokenizer.decode(ids); // '<|im_start|>user\nHi<|im_end|>\n'
 * ```
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';

import { XlamError, XlamInvalidArgumentError, XlamModelFormatError } from '../errors.js';
import { AddedTokenSplitter } from './added-tokens.js';
import { decodeAll, decoderPlan, type DecodeTables } from './decoder.js';
import { IncrementalDetokenizer } from './detokenizer.js';
import { templateFromPostProcessor, type SpecialTokenTemplate } from './post-processor.js';
import { nestedQuantifierAt, tokenizerRegexes } from './regex-safety.js';
import { buildTokenBytes, type TokenBytesTable } from './token-bytes.js';
import { resolveTokenizer, type ResolvedAddedToken, type TokenizerClass } from './transformers-compat.js';
import type { AddedTokenInfo, DecodeOptions, EncodeOptions } from './types.js';

type Json = Record<string, unknown>;

const SPACE_MARK = '\u2581';
const NON_MARK_THEN_MARK = /[^\u2581]\u2581/;
const BEFORE_SPACE_MARK = /(?<=[^\u2581])(?=\u2581)/;
/** Text run through every tokenizer component at load: letters, digits, punctuation, spaces, newlines, accents, emoji, CJK. */
const PROBE_TEXT = "Hello, world! It's 2026:\n\t  caf\u00e9 e\u0301 \uD83D\uDE00 \u6771\u4eac 123 ";
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

async function readJson(dir: string, name: string, required: boolean): Promise<Json | undefined> {
  const path = join(dir, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return undefined;
    if (code === 'ENOENT') throw new XlamModelFormatError('TOKENIZER_NOT_FOUND', `${path}: no such file`, name);
    throw new XlamModelFormatError('IO', `${path}: ${(err as Error).message}`, name);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Json;
  } catch (err) {
    throw new XlamModelFormatError('BAD_TOKENIZER', `${path}: ${(err as Error).message}`, name);
  }
}

/** Ids must be non-negative integers; ids outside the vocabulary are dropped, as transformers does. */
/**
 * A test "does [start, end) overlap a plain range?" over sorted, merged ranges (binary search),
 * or undefined when there are none. Throws INVALID_ARGUMENT for ranges that are not integer
 * pairs with 0 <= start <= end.
 */
function plainRangeTest(ranges: EncodeOptions['plainRanges']): ((start: number, end: number) => boolean) | undefined {
  if (ranges === undefined || ranges.length === 0) return undefined;
  const sorted = [...ranges].map((r, i) => {
    const [a, b] = Array.isArray(r) ? r : [];
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a! < 0 || b! < a!) {
      throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `encode: plainRanges[${i}] must be [start, end] with 0 <= start <= end`, { field: `plainRanges[${i}]` });
    }
    return [a!, b!] as const;
  }).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const starts: number[] = [];
  const ends: number[] = [];
  for (const [a, b] of sorted) {
    if (ends.length > 0 && a <= ends[ends.length - 1]!) ends[ends.length - 1] = Math.max(ends[ends.length - 1]!, b);
    else (starts.push(a), ends.push(b));
  }
  return (start, end) => {
    // the last range starting before `end`
    let lo = 0;
    let hi = starts.length - 1;
    let k = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! < end) (k = mid), (lo = mid + 1);
      else hi = mid - 1;
    }
    return k >= 0 && ends[k]! > start;
  };
}

function checkIds(ids: readonly number[], what: string): void {
  if (!Array.isArray(ids)) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `${what}: ids must be an array of token ids`);
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `${what}: ${String(id)} is not a token id`);
  }
}

/**
 * A model's tokenizer. Load it with {@link Tokenizer.fromDir}; no weights are read.
 *
 * `encode` and `decode` give exactly what transformers 5 gives for the folder (the tokenizer
 * class's pipeline, `add_bos_token` / `add_eos_token`, the tokenizer.json post-processor, special
 * tokens recognised in the text). `tokenBytes` gives each id's raw bytes for constrained
 * decoding, and {@link detokenizer} streams text.
 */
export class Tokenizer {
  /** The transformers class whose behaviour is reproduced: `LlamaTokenizer`, `Qwen2Tokenizer` or `TokenizersBackend`. */
  readonly tokenizerClass: TokenizerClass;
  /** tokenizer_config.json as read (`{}` when the folder has none). */
  readonly config: Readonly<Json>;
  /** Number of ids: one more than the largest id of the vocabulary and added tokens (transformers' `len(tokenizer)`). */
  readonly vocabSize: number;
  /** The added tokens (special or not), by id. */
  readonly addedTokens: readonly AddedTokenInfo[];
  /** Beginning-of-sequence token and its id (null when the model has none). */
  readonly bosToken: string | null;
  readonly bosTokenId: number | null;
  /** End-of-sequence token and its id. */
  readonly eosToken: string | null;
  readonly eosTokenId: number | null;
  /** Padding token and its id. */
  readonly padToken: string | null;
  readonly padTokenId: number | null;
  /** Unknown token and its id. */
  readonly unkToken: string | null;
  readonly unkTokenId: number | null;

  private readonly hf: HfTokenizer;
  private readonly tokens: Array<string | undefined>;
  private readonly ids: Map<string, number>;
  private readonly addedIds: Map<string, number>;
  private readonly rawSplitter: AddedTokenSplitter;
  private readonly normalizedSplitter: AddedTokenSplitter;
  private readonly template: SpecialTokenTemplate;
  private readonly splitWordsAtSpaces: boolean;
  private readonly tables: DecodeTables;
  private readonly added: Uint8Array;
  private bytesTable: TokenBytesTable | undefined;
  private bytesViews: Uint8Array[] | undefined;

  private constructor(tokenizerJson: Json, config: Json, modelType: string | undefined) {
    for (const { path, pattern } of tokenizerRegexes(tokenizerJson)) {
      const at = nestedQuantifierAt(pattern);
      if (at >= 0)
        throw new XlamModelFormatError(
          'BAD_TOKENIZER',
          `tokenizer.json: the pattern at ${path.slice(1)} nests unbounded quantifiers (offset ${at} of ${JSON.stringify(pattern.slice(0, 80))}), ` +
            'which can backtrack for minutes on a crafted input',
          'tokenizer.json',
        );
    }
    const r = resolveTokenizer(tokenizerJson, config, modelType);
    this.tokenizerClass = r.tokenizerClass;
    this.config = config;
    try {
      this.hf = new HfTokenizer(r.json, config);
    } catch (err) {
      throw new XlamModelFormatError('UNSUPPORTED_TOKENIZER', `tokenizer.json: ${(err as Error).message}`, 'tokenizer.json');
    }
    const model = this.hf.model;
    if (!model) throw new XlamModelFormatError('BAD_TOKENIZER', 'tokenizer.json has no model', 'tokenizer.json');
    const plan = decoderPlan(r.json.decoder);

    // Named special tokens are special added tokens; missing ones get new ids (as transformers adds them).
    const added = new Map<string, ResolvedAddedToken>();
    for (const t of r.addedTokens) added.set(t.content, t);
    let nextId = r.addedTokens.reduce((n, t) => Math.max(n, t.id + 1), model.vocab.length);
    const named = [r.specials.bos, r.specials.eos, r.specials.unk, r.specials.pad, ...r.extraSpecials];
    for (const content of named) {
      if (content === null) continue;
      const existing = added.get(content);
      if (existing) {
        existing.special = true;
        continue;
      }
      const id = model.tokens_to_ids.get(content) ?? nextId++;
      const t = { id, content, special: true, normalized: false, singleWord: false, lstrip: false, rstrip: false };
      added.set(content, t);
      r.addedTokens.push(t);
    }
    const addedList = [...added.values()].sort((a, b) => a.id - b.id);

    this.vocabSize = addedList.reduce((n, t) => Math.max(n, t.id + 1), Math.max(model.vocab.length, nextId));
    this.tokens = new Array<string | undefined>(this.vocabSize);
    for (let i = 0; i < model.vocab.length; i++) this.tokens[i] = model.vocab[i];
    this.ids = model.tokens_to_ids;
    const special = new Uint8Array(this.vocabSize);
    this.added = new Uint8Array(this.vocabSize);
    for (const t of addedList) {
      this.tokens[t.id] = t.content;
      this.added[t.id] = 1;
      if (t.special) special[t.id] = 1;
    }
    this.addedIds = new Map(addedList.map((t) => [t.content, t.id]));
    this.addedTokens = Object.freeze(addedList.map((t) => Object.freeze({ id: t.id, content: t.content, special: t.special })));
    this.tables = { plan, tokens: this.tokens, special, cleanUp: r.cleanUp };

    // Added tokens are looked for in the raw text (normalized: false) or in each normalized piece.
    const normalize = (s: string) => (this.hf.normalizer ? this.hf.normalizer._call(s) : s);
    const splitterToken = (t: ResolvedAddedToken, content = t.content) => ({
      id: t.id, content, special: t.special, singleWord: t.singleWord, lstrip: t.lstrip, rstrip: t.rstrip,
    });
    this.rawSplitter = new AddedTokenSplitter(addedList.filter((t) => !t.normalized).map((t) => splitterToken(t)));
    this.normalizedSplitter = new AddedTokenSplitter(addedList.filter((t) => t.normalized).map((t) => splitterToken(t, normalize(t.content))));

    const idOf = (s: string | null) => (s === null ? null : (this.tokenToId(s) ?? null));
    this.bosToken = r.specials.bos;
    this.bosTokenId = idOf(r.specials.bos);
    this.eosToken = r.specials.eos;
    this.eosTokenId = idOf(r.specials.eos);
    this.padToken = r.specials.pad;
    this.padTokenId = idOf(r.specials.pad);
    this.unkToken = r.specials.unk;
    this.unkTokenId = idOf(r.specials.unk);

    // SentencePiece BPE without pre-tokenizer splits sees a whole text as one word, which JS BPE
    // handles slowly. When no merge can join a character to a following "▁", cutting words before
    // each such "▁" gives the same tokens, much faster.
    const merges = (model as unknown as { merges?: unknown }).merges;
    this.splitWordsAtSpaces =
      this.ids.has(SPACE_MARK) &&
      Array.isArray(merges) &&
      merges.every((m) => Array.isArray(m) && !NON_MARK_THEN_MARK.test(String(m[0]) + String(m[1])));

    if (r.bosEosTemplate) {
      const { addBos, addEos } = r.bosEosTemplate;
      this.template = {
        prefix: addBos && this.bosTokenId !== null ? [this.bosTokenId] : [],
        suffix: addEos && this.eosTokenId !== null ? [this.eosTokenId] : [],
      };
    } else {
      this.template = templateFromPostProcessor(r.json.post_processor);
    }
    // The library reads some settings only when it first runs a component (a `behavior` that is
    // not a string failed inside encode, found by the tokenizer fuzzer): run each one once now.
    this.decode(this.encode(PROBE_TEXT));
  }

  /**
   * Loads the tokenizer of a Hugging Face model folder: tokenizer.json (required),
   * tokenizer_config.json and config.json (for `model_type`, which steers transformers' choice
   * of tokenizer class) when present.
   *
   * @throws XlamModelFormatError `MODEL_NOT_FOUND` (no folder), `TOKENIZER_NOT_FOUND` (no
   *   tokenizer.json), `BAD_TOKENIZER` (malformed JSON), `UNSUPPORTED_TOKENIZER` (a pipeline
   *   component this library does not implement).
   */
  static async fromDir(dir: string): Promise<Tokenizer> {
    const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
    if (!isDir) throw new XlamModelFormatError('MODEL_NOT_FOUND', `${dir}: no such model folder`);
    const [tokenizerJson, config, modelConfig] = await Promise.all([
      readJson(dir, 'tokenizer.json', true),
      readJson(dir, 'tokenizer_config.json', false),
      readJson(dir, 'config.json', false).catch(() => undefined),
    ]);
    const modelType = typeof modelConfig?.model_type === 'string' ? modelConfig.model_type : undefined;
    try {
      return new Tokenizer(tokenizerJson!, config ?? {}, modelType);
    } catch (err) {
      // Any other failure is a shape the files should not have (found by the tokenizer fuzzer:
      // `added_tokens` as an object threw a TypeError).
      if (err instanceof XlamError) throw err;
      throw new XlamModelFormatError('BAD_TOKENIZER', `tokenizer.json or tokenizer_config.json: ${(err as Error).message}`, 'tokenizer.json');
    }
  }

  /**
   * Text to ids, as transformers' `tokenizer.encode(text, add_special_tokens=...)`. Lone UTF-16
   * surrogates (not representable in UTF-8) are read as U+FFFD.
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new XlamInvalidArgumentError('INVALID_ARGUMENT', 'encode: text must be a string');
    try {
      return this.encodeText(text, options);
    } catch (err) {
      // The files passed the load-time probe but a component fails on this text: the tokenizer's fault, typed.
      if (err instanceof XlamError) throw err;
      throw new XlamModelFormatError('BAD_TOKENIZER', `tokenizer.json: encoding failed: ${(err as Error).message}`, 'tokenizer.json');
    }
  }

  private encodeText(text: string, options: EncodeOptions): number[] {
    const { addSpecialTokens = true, parseSpecialTokens = true } = options;
    text = text.replace(LONE_SURROGATE, '\uFFFD'); // one unit for one: offsets hold
    const plain = parseSpecialTokens ? plainRangeTest(options.plainRanges) : undefined;
    const out: number[] = addSpecialTokens ? [...this.template.prefix] : [];
    const hf = this.hf;
    for (const seg of this.rawSplitter.split(text, plain ? (s, e) => !plain(s, e) : parseSpecialTokens)) {
      if (seg.id !== undefined) {
        out.push(seg.id);
        continue;
      }
      if (seg.text.length === 0) continue;
      const normalized = hf.normalizer ? hf.normalizer._call(seg.text) : seg.text;
      if (normalized.length === 0) continue;
      // Offsets of normalized text are not those of `text`: a segment that touches a plain range
      // does not parse normalized special tokens at all.
      const parseNormalized = parseSpecialTokens && !plain?.(seg.start, seg.start + seg.text.length);
      for (const sub of this.normalizedSplitter.split(normalized, parseNormalized)) {
        if (sub.id !== undefined) {
          out.push(sub.id);
          continue;
        }
        if (sub.text.length === 0) continue;
        // Metaspace's prepend_scheme "first" prepends only to the piece at offset 0 of the text.
        const sectionIndex = seg.start === 0 && sub.start === 0 ? 0 : 1;
        let words: string[] = hf.pre_tokenizer ? hf.pre_tokenizer.pre_tokenize(sub.text, { section_index: sectionIndex }) : [sub.text];
        if (this.splitWordsAtSpaces) words = words.flatMap((w) => w.split(BEFORE_SPACE_MARK));
        this.modelTokens(words, out);
      }
    }
    if (addSpecialTokens) out.push(...this.template.suffix);
    return out;
  }

  private modelTokens(words: string[], out: number[]): void {
    const model = this.hf.model!;
    for (const token of model._call(words)) {
      const id = this.ids.get(token) ?? model.unk_token_id;
      if (id !== undefined) out.push(id);
    }
  }

  /**
   * Ids to text, as transformers' `tokenizer.decode(ids, skip_special_tokens=...)`: the
   * tokenizer's decoder (byte-level or SentencePiece), invalid UTF-8 as U+FFFD, ids outside the
   * vocabulary ignored.
   */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    checkIds(ids, 'decode');
    return decodeAll(this.tables, ids, options.skipSpecialTokens ?? false);
  }

  /** A streaming decoder whose deltas concatenate to `decode(ids, options)`. */
  detokenizer(options: DecodeOptions = {}): IncrementalDetokenizer {
    return new IncrementalDetokenizer(this.tables, options.skipSpecialTokens ?? false);
  }

  /** The vocabulary string of an id (byte-level or "▁" form), or undefined. */
  idToToken(id: number): string | undefined {
    return Number.isInteger(id) && id >= 0 ? this.tokens[id] : undefined;
  }

  /** The id of a vocabulary string or added token, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.addedIds.get(token) ?? this.ids.get(token);
  }

  /** Whether an id is a special added token (left out by `skipSpecialTokens`). */
  isSpecialToken(id: number): boolean {
    return this.tables.special[id] === 1;
  }

  private table(): TokenBytesTable {
    this.bytesTable ??= buildTokenBytes(this.tables.plan, this.tokens, this.added);
    return this.bytesTable;
  }

  /**
   * The raw bytes an id stands for: byte-level BPE tokens mapped back through the GPT-2 byte
   * alphabet; SentencePiece "▁" as a space and `<0xAB>` tokens as that byte; added and special
   * tokens as the UTF-8 of their text; an id with no token, no bytes. Returns a fresh copy.
   *
   * @throws XlamInvalidArgumentError for an id outside 0..vocabSize-1.
   */
  tokenBytes(id: number): Uint8Array {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `tokenBytes: ${id} is not an id of this vocabulary (0..${this.vocabSize - 1})`);
    }
    const t = this.table();
    return t.data.slice(t.offsets[id], t.offsets[id + 1]);
  }

  /**
   * {@link tokenBytes} of every id 0..vocabSize-1 packed in one buffer, as constrained decoding
   * hands it to the native engine: id i's bytes are `data[offsets[i] .. offsets[i + 1])`
   * (`offsets` has vocabSize + 1 entries). Computed once and shared: not to be modified.
   * @example
   * ```ts
   * const { data, offsets } = tokenizer.tokenBytesTable();
   * const bytesOf42 = data.subarray(offsets[42], offsets[43]);
   * ```
   */
  tokenBytesTable(): Readonly<TokenBytesTable> {
    return this.table();
  }

  /**
   * {@link tokenBytes} of every id 0..vocabSize-1, computed once: views into one shared buffer,
   * not to be modified.
   */
  allTokenBytes(): readonly Uint8Array[] {
    if (!this.bytesViews) {
      const t = this.table();
      this.bytesViews = new Array<Uint8Array>(this.vocabSize);
      for (let id = 0; id < this.vocabSize; id++) this.bytesViews[id] = t.data.subarray(t.offsets[id], t.offsets[id + 1]);
    }
    return this.bytesViews;
  }
}
