/**
 * What transformers 5 (`AutoTokenizer.from_pretrained`) makes of a model folder, for the
 * tokenizers xLAM models use. transformers does not always run tokenizer.json as written:
 *
 * - it picks a tokenizer class from tokenizer_config.json's `tokenizer_class` and config.json's
 *   `model_type`; `LlamaTokenizer` and `Qwen2Tokenizer` then rebuild the pipeline (normalizer,
 *   pre-tokenizer, decoder) in code and keep only the vocabulary and merges of tokenizer.json.
 *   For Llama/Mistral SentencePiece vocabularies this matters: the rebuilt Metaspace
 *   pre-tokenizer does not prepend "▁" to text that starts with a space, where tokenizer.json's
 *   Prepend normalizer does. Every other class runs tokenizer.json as is (`TokenizersBackend`).
 * - the post-processor is replaced by `[bos] $A [eos]` when tokenizer_config.json sets
 *   `add_bos_token` or `add_eos_token`;
 * - named special tokens (bos/eos/unk/pad, additional/extra special tokens) are special added
 *   tokens, added to the vocabulary when missing;
 * - `clean_up_tokenization_spaces` is ignored for BPE models.
 *
 * One deliberate difference: transformers 5 also rebuilds a *byte-level* tokenizer.json as
 * SentencePiece when its class says `LlamaTokenizerFast` (e.g. DeepSeek-Coder-based xLAM-1b/7b-fc-r),
 * which garbles all text; there the file is run as written, as transformers 4 did.
 */
import { XlamModelFormatError } from '../errors.js';

/** Added token ids may run this far past the model's vocabulary (real tokenizers use a few hundred). */
export const MAX_ADDED_ID_GAP = 65536;

type Json = Record<string, unknown>;

/** The Qwen2Tokenizer pre-tokenization regex (transformers' PRETOKENIZE_REGEX). */
const QWEN2_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** model_type -> tokenizer class registered in transformers (the ones xLAM models use). */
const REGISTERED: Record<string, string> = {
  mistral: 'TokenizersBackend',
  mixtral: 'TokenizersBackend',
  qwen2: 'Qwen2Tokenizer',
  qwen2_moe: 'Qwen2Tokenizer',
  qwen3: 'Qwen2Tokenizer',
  qwen3_moe: 'Qwen2Tokenizer',
};
/** Model types whose Hub `tokenizer_class` transformers overrides with the registered class. */
const INCORRECT_HUB_CLASS = new Set(['qwen2']);
const GENERIC = new Set(['TokenizersBackend', 'PythonBackend', 'PreTrainedTokenizer', 'MistralCommonBackend']);

/** The tokenizer class transformers 5 instantiates, reduced to the three behaviours emulated. */
export type TokenizerClass = 'TokenizersBackend' | 'LlamaTokenizer' | 'Qwen2Tokenizer';

const stripFast = (s: string) => s.replace(/Fast$/, '');

/** AutoTokenizer's choice of class (see the module comment). */
export function resolveClass(hubClass: string | undefined, modelType: string | undefined): TokenizerClass {
  const registered = modelType === undefined ? undefined : REGISTERED[modelType];
  let name: string;
  if (hubClass && registered && stripFast(registered) !== stripFast(hubClass)) {
    if (GENERIC.has(stripFast(registered))) return 'TokenizersBackend';
    name = INCORRECT_HUB_CLASS.has(modelType!) ? registered : hubClass;
  } else {
    name = hubClass ?? registered ?? 'TokenizersBackend';
  }
  name = stripFast(name);
  return name === 'LlamaTokenizer' || name === 'Qwen2Tokenizer' ? name : 'TokenizersBackend';
}

/** A token string from tokenizer_config.json: a string, an AddedToken dict, or null. */
export function tokenContent(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return null;
}

/** An added token with every flag the splitter needs. */
export interface ResolvedAddedToken {
  id: number;
  content: string;
  special: boolean;
  normalized: boolean;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
}

function addedToken(id: number, t: Json): ResolvedAddedToken {
  const special = t.special === true;
  return {
    id,
    content: String(t.content),
    special,
    normalized: typeof t.normalized === 'boolean' ? t.normalized : !special,
    singleWord: t.single_word === true,
    lstrip: t.lstrip === true,
    rstrip: t.rstrip === true,
  };
}

/** The four named special tokens. */
export interface NamedSpecials {
  bos: string | null;
  eos: string | null;
  unk: string | null;
  pad: string | null;
}

/** tokenizer.json and tokenizer_config.json as transformers 5 would run them. */
export interface ResolvedTokenizer {
  tokenizerClass: TokenizerClass;
  /** tokenizer.json with the class's pipeline, and no added tokens (they are handled apart). */
  json: Json;
  /** Added tokens of tokenizer.json and tokenizer_config.json, by id. */
  addedTokens: ResolvedAddedToken[];
  /** Named special tokens, and the extra special tokens of the config. */
  specials: NamedSpecials;
  extraSpecials: string[];
  /** When set, the post-processor is `[bos] $A [eos]` with these flags; otherwise tokenizer.json's. */
  bosEosTemplate: { addBos: boolean; addEos: boolean } | undefined;
  /** Whether decode applies clean_up_tokenization. */
  cleanUp: boolean;
}

function isSentencePieceStyle(json: Json): boolean {
  const model = json.model as Json;
  if (model.byte_fallback === true) return true;
  return JSON.stringify([json.normalizer, json.pre_tokenizer, json.decoder]).includes('\u2581');
}

/** Old Metaspace configs say add_prefix_space instead of prepend_scheme. */
function fixMetaspace(pt: unknown): unknown {
  if (!pt || typeof pt !== 'object') return pt;
  const p = pt as Json;
  if (p.type === 'Sequence' && Array.isArray(p.pretokenizers)) return { ...p, pretokenizers: p.pretokenizers.map(fixMetaspace) };
  if (p.type === 'Metaspace' && p.prepend_scheme === undefined) return { ...p, prepend_scheme: p.add_prefix_space === false ? 'never' : 'always' };
  return p;
}

/**
 * Applies transformers 5's loading rules to the parsed files. `modelType` is config.json's
 * `model_type` when the folder has one.
 */
export function resolveTokenizer(tokenizerJson: Json, config: Json, modelType: string | undefined): ResolvedTokenizer {
  const model = tokenizerJson.model as Json | undefined;
  if (!model || typeof model !== 'object') {
    throw new XlamModelFormatError('BAD_TOKENIZER', 'tokenizer.json has no model', 'tokenizer.json');
  }
  const modelKind = typeof model.type === 'string' ? model.type : 'merges' in model ? 'BPE' : 'unknown';
  const hubClass = typeof config.tokenizer_class === 'string' ? config.tokenizer_class : undefined;
  let cls = resolveClass(hubClass, modelType);
  let json: Json = { ...tokenizerJson, added_tokens: [], pre_tokenizer: fixMetaspace(tokenizerJson.pre_tokenizer) };
  let defaults: NamedSpecials = { bos: null, eos: null, unk: null, pad: null };

  if (cls === 'LlamaTokenizer' && !(modelKind === 'BPE' && isSentencePieceStyle(tokenizerJson))) cls = 'TokenizersBackend';
  if (cls === 'Qwen2Tokenizer' && modelKind !== 'BPE') cls = 'TokenizersBackend';

  if (cls === 'LlamaTokenizer') {
    const addPrefixSpace = typeof config.add_prefix_space === 'boolean' ? config.add_prefix_space : true;
    const legacy = config.legacy === true;
    json = {
      ...json,
      model: { ...model, fuse_unk: true, byte_fallback: true, unk_token: null, dropout: null, ignore_merges: false,
        continuing_subword_prefix: null, end_of_word_suffix: null },
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: addPrefixSpace ? (legacy ? 'always' : 'first') : 'never', split: false },
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
          { type: 'ByteFallback' },
          { type: 'Fuse' },
          ...(addPrefixSpace ? [{ type: 'Strip', content: ' ', start: 1, stop: 0 }] : []),
        ],
      },
    };
    defaults = { bos: '<s>', eos: '</s>', unk: '<unk>', pad: null };
  } else if (cls === 'Qwen2Tokenizer') {
    const addPrefixSpace = config.add_prefix_space === true;
    json = {
      ...json,
      model: { ...model, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false,
        byte_fallback: false, dropout: null, ignore_merges: false },
      normalizer: { type: 'NFC' },
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Split', pattern: { Regex: QWEN2_REGEX }, behavior: 'Isolated', invert: false },
          { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: false },
        ],
      },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    };
    defaults = { bos: null, eos: '<|endoftext|>', unk: '<|endoftext|>', pad: '<|endoftext|>' };
  }

  // Added tokens: tokenizer.json's, then tokenizer_config.json's added_tokens_decoder by id.
  const byId = new Map<number, ResolvedAddedToken>();
  for (const t of (tokenizerJson.added_tokens as Json[] | undefined) ?? []) {
    if (typeof t.id === 'number' && typeof t.content === 'string') byId.set(t.id, addedToken(t.id, t));
  }
  const decoderCfg = config.added_tokens_decoder as Record<string, Json> | undefined;
  if (decoderCfg && typeof decoderCfg === 'object') {
    for (const [id, t] of Object.entries(decoderCfg)) {
      if (/^\d+$/.test(id) && t && typeof t.content === 'string') byId.set(Number(id), addedToken(Number(id), t));
    }
  }
  // Every id sizes the tables built per id, so one far above the vocabulary (found by the
  // tokenizer fuzzer: id 2147483647 made loading run for minutes) is refused.
  const vocab = (tokenizerJson.model as Json | undefined)?.vocab as unknown;
  const modelSize = Array.isArray(vocab) ? vocab.length : vocab && typeof vocab === 'object' ? Object.keys(vocab).length : 0;
  const maxId = modelSize + MAX_ADDED_ID_GAP;
  // The model's own ids too: tokenizers builds an array indexed by id, and one id of 2^31-1 in a
  // 456-token vocabulary ran the process out of memory (a V8 fatal error, not an exception).
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) {
    for (const [token, id] of Object.entries(vocab as Record<string, unknown>)) {
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || id >= maxId) {
        throw new XlamModelFormatError('BAD_TOKENIZER',
          `tokenizer.json: model.vocab gives ${JSON.stringify(token.slice(0, 40))} the id ${String(id)}, not an integer from 0 below ${maxId} (the model's ${modelSize} tokens + ${MAX_ADDED_ID_GAP})`,
          'tokenizer.json');
      }
    }
  }
  for (const id of byId.keys()) {
    if (!Number.isSafeInteger(id) || id < 0 || id >= maxId) {
      const where = decoderCfg && Object.hasOwn(decoderCfg, String(id)) ? 'tokenizer_config.json' : 'tokenizer.json';
      throw new XlamModelFormatError('BAD_TOKENIZER',
        `${where}: added token id ${id} is not below ${maxId} (the model's ${modelSize} tokens + ${MAX_ADDED_ID_GAP})`, where);
    }
  }

  const pick = (key: keyof NamedSpecials): string | null =>
    `${key}_token` in config ? tokenContent(config[`${key}_token`]) : defaults[key];
  const specials: NamedSpecials = { bos: pick('bos'), eos: pick('eos'), unk: pick('unk'), pad: pick('pad') };
  const extraList = config.extra_special_tokens ?? config.additional_special_tokens;
  const extraSpecials = (Array.isArray(extraList) ? extraList : extraList && typeof extraList === 'object' ? Object.values(extraList) : [])
    .map(tokenContent)
    .filter((s): s is string => s !== null && s.length > 0);

  const explicit = 'add_bos_token' in config || 'add_eos_token' in config;
  const bosEosTemplate =
    explicit || json.post_processor === null || json.post_processor === undefined
      ? { addBos: config.add_bos_token === true && specials.bos !== null, addEos: config.add_eos_token === true && specials.eos !== null }
      : undefined;

  const cleanUp =
    config.clean_up_tokenization_spaces === true &&
    (modelKind !== 'BPE' || config.clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output === true);

  return {
    tokenizerClass: cls,
    json,
    addedTokens: [...byId.values()].sort((a, b) => a.id - b.id),
    specials,
    extraSpecials,
    bosEosTemplate,
    cleanUp,
  };
}
