#!/usr/bin/env node
// Writes a random-weight bf16 checkpoint with the xLAM-2-1b shape (Qwen2.5-1.5B: hidden 1536,
// 28 layers, 12/2 heads, intermediate 8960, vocab 151936, tied embeddings; ~3.1 GB) into the
// git-ignored bench/models/. Weights: random sign and mantissa, exponent in a small range, so
// every value is a finite bf16 of magnitude ~0.004-0.03 (norm weights ~1).
//
//   node bench/make-checkpoint.mjs [--out DIR]
import { randomFillSync } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { tokenizerDir } from '../scripts/make-fixtures.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const XLAM2_1B = {
  name: 'xlam2-1b-shape-bf16',
  config: {
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 1536, intermediate_size: 8960,
    num_hidden_layers: 28, num_attention_heads: 12, num_key_value_heads: 2, vocab_size: 151936,
    max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000.0, tie_word_embeddings: true,
    use_sliding_window: false, sliding_window: 32768, max_window_layers: 21, hidden_act: 'silu',
    bos_token_id: 151643, eos_token_id: 151645, torch_dtype: 'bfloat16',
  },
};

function specs(c) {
  const d = c.hidden_size, ff = c.intermediate_size, hd = d / c.num_attention_heads, kv = c.num_key_value_heads * hd;
  const out = [{ name: 'model.embed_tokens.weight', shape: [c.vocab_size, d] }, { name: 'model.norm.weight', shape: [d], norm: true }];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    out.push(
      { name: `${p}input_layernorm.weight`, shape: [d], norm: true },
      { name: `${p}post_attention_layernorm.weight`, shape: [d], norm: true },
      { name: `${p}self_attn.q_proj.weight`, shape: [d, d] }, { name: `${p}self_attn.q_proj.bias`, shape: [d] },
      { name: `${p}self_attn.k_proj.weight`, shape: [kv, d] }, { name: `${p}self_attn.k_proj.bias`, shape: [kv] },
      { name: `${p}self_attn.v_proj.weight`, shape: [kv, d] }, { name: `${p}self_attn.v_proj.bias`, shape: [kv] },
      { name: `${p}self_attn.o_proj.weight`, shape: [d, d] },
      { name: `${p}mlp.gate_proj.weight`, shape: [ff, d] }, { name: `${p}mlp.up_proj.weight`, shape: [ff, d] },
      { name: `${p}mlp.down_proj.weight`, shape: [d, ff] },
    );
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

function fill(n, norm) {
  const v = new Uint16Array(n);
  randomFillSync(v);
  for (let i = 0; i < n; i++) {
    const r = v[i];
    // sign | exponent 119..122 (2^-8..2^-5) | 7-bit mantissa; norms: 1.0 .. 1.99
    v[i] = norm ? 0x3f80 | (r & 0x7f) : (r & 0x8000) | ((119 + ((r >> 7) & 3)) << 7) | (r & 0x7f);
  }
  return v;
}

export function makeCheckpoint(outRoot = join(here, 'models'), spec = XLAM2_1B) {
  const dir = join(outRoot, spec.name);
  const stamp = join(dir, '.complete');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === JSON.stringify(spec.config)) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const list = specs(spec.config);
  const header = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const s of list) {
    const n = s.shape.reduce((a, b) => a * b, 1) * 2;
    header[s.name] = { dtype: 'BF16', shape: s.shape, data_offsets: [off, off + n] };
    off += n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const fd = openSync(join(tmp, 'model.safetensors'), 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeSync(fd, len);
  writeSync(fd, Buffer.from(json));
  for (const s of list) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const chunk = 1 << 24;
    for (let i = 0; i < n; i += chunk) {
      const v = fill(Math.min(chunk, n - i), s.norm);
      const b = Buffer.from(v.buffer, 0, v.byteLength);
      let done = 0;
      while (done < b.length) done += writeSync(fd, b, done, b.length - done);
    }
  }
  closeSync(fd);
  writeFileSync(join(tmp, 'config.json'), JSON.stringify(spec.config, null, 2));
  writeFileSync(join(tmp, 'generation_config.json'), JSON.stringify({ bos_token_id: 151643, eos_token_id: [151645, 151643] }, null, 2));
  const tdir = tokenizerDir('qwen3');
  copyFileSync(join(tdir, 'tokenizer.json'), join(tmp, 'tokenizer.json'));
  copyFileSync(join(tdir, 'tokenizer_config.json'), join(tmp, 'tokenizer_config.json'));
  writeFileSync(join(tmp, '.complete'), JSON.stringify(spec.config));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const t0 = Date.now();
  const dir = makeCheckpoint(i > 0 ? resolve(process.argv[i + 1]) : undefined);
  console.log(`${dir} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
