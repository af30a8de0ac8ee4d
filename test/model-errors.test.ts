// Every bad model folder gets a typed error (XlamModelFormatError with a stable code) naming the
// file and, where there is one, the tensor; the process lives on and loads good models after.
import { readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { Engine } from '../dist/lib/index.js';
// @ts-expect-error: plain JS module without types
import { writeSafetensors } from '../scripts/make-fixtures.mjs';
import { baseTensors, expectLoadError as expectCode, modelFolders, type SafeTensor } from './helpers/model-folders.js';

const folders = modelFolders('xlam-bad-models-');
t.teardown(folders.remove);
const { base, root, folder } = folders;

/** Rewrites model.safetensors from the fixture's tensors after `edit` changes the list. */
function weights(edit: (ts: SafeTensor[]) => SafeTensor[]): (dir: string) => void {
  return (dir) => writeSafetensors(join(dir, 'model.safetensors'), edit(baseTensors()));
}

/** Writes a safetensors file with a hand-made header (to break the layout rules). */
function rawSafetensors(path: string, header: object, dataBytes: number): void {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, json, Buffer.alloc(dataBytes)]));
}

const Q = 'model.layers.0.self_attn.q_proj.weight';

t.test('missing folder', async (t) => {
  await expectCode(t, join(root, 'does-not-exist'), 'MODEL_NOT_FOUND', /does-not-exist/);
});

t.test('missing config.json', async (t) => {
  await expectCode(t, folder((d) => rmSync(join(d, 'config.json'))), 'MODEL_NOT_FOUND', /config\.json$/);
});

t.test('corrupt config.json', async (t) => {
  await expectCode(t, folder((d) => writeFileSync(join(d, 'config.json'), '{"model_type": "mistral", ')), 'BAD_CONFIG', /config\.json$/);
  const wrongType = folder((d) => {
    const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
    c.num_attention_heads = 'four';
    writeFileSync(join(d, 'config.json'), JSON.stringify(c));
  });
  await expectCode(t, wrongType, 'BAD_CONFIG', /config\.json$/);
});

t.test('unknown model_type', async (t) => {
  const dir = folder((d) => {
    const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
    c.model_type = 'gpt2';
    writeFileSync(join(d, 'config.json'), JSON.stringify(c));
  });
  await expectCode(t, dir, 'UNKNOWN_MODEL_TYPE', /config\.json$/);
});

t.test('missing weights', async (t) => {
  await expectCode(t, folder((d) => rmSync(join(d, 'model.safetensors'))), 'MODEL_NOT_FOUND');
});

t.test('truncated safetensors', async (t) => {
  const dir = folder((d) => {
    const p = join(d, 'model.safetensors');
    truncateSync(p, Math.floor(statSync(p).size / 2));
  });
  await expectCode(t, dir, 'TRUNCATED', /model\.safetensors$/);
  await expectCode(t, folder((d) => truncateSync(join(d, 'model.safetensors'), 5)), 'TRUNCATED', /model\.safetensors$/);
});

t.test('header length past the end of the file', async (t) => {
  const dir = folder((d) => {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(1000n);
    writeFileSync(join(d, 'model.safetensors'), Buffer.concat([len, Buffer.from('{}')]));
  });
  await expectCode(t, dir, 'TRUNCATED', /model\.safetensors$/);
  const huge = folder((d) => {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(2n ** 64n - 1n);
    writeFileSync(join(d, 'model.safetensors'), Buffer.concat([len, Buffer.from('{}')]));
  });
  await expectCode(t, huge, 'HEADER_TOO_LARGE', /model\.safetensors$/);
});

t.test('overlapping tensors', async (t) => {
  const dir = folder((d) =>
    rawSafetensors(
      join(d, 'model.safetensors'),
      {
        a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
        b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] },
      },
      24,
    ),
  );
  await expectCode(t, dir, 'BAD_OFFSET', /model\.safetensors$/);
});

t.test('a tensor with the wrong shape', async (t) => {
  const dir = folder(weights((ts) => ts.map((x) => (x.name === Q ? { ...x, shape: [32, 128] } : x))));
  await expectCode(t, dir, 'SHAPE_MISMATCH', /model\.safetensors$/, Q);
});

t.test('a missing tensor', async (t) => {
  const dir = folder(weights((ts) => ts.filter((x) => x.name !== Q)));
  await expectCode(t, dir, 'MISSING_TENSOR', undefined, Q);
});

t.test('an unsupported dtype', async (t) => {
  const norm = 'model.norm.weight';
  const dir = folder(
    weights((ts) =>
      ts.map((x) => (x.name === norm ? { ...x, dtype: 'F64', data: Float64Array.from(x.data as Float32Array) } : x)),
    ),
  );
  await expectCode(t, dir, 'UNSUPPORTED_DTYPE', /model\.safetensors$/, norm);
  const int8 = folder(
    weights((ts) => ts.map((x) => (x.name === norm ? { ...x, dtype: 'I8', data: new Int8Array(64) } : x))),
  );
  await expectCode(t, int8, 'UNSUPPORTED_DTYPE', /model\.safetensors$/, norm);
});

t.test('a shard index pointing outside the folder', async (t) => {
  const dir = folder((d) => {
    rmSync(join(d, 'model.safetensors'));
    writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { [Q]: '../model.safetensors' } }));
  });
  await expectCode(t, dir, 'BAD_SHARD_PATH', /index\.json$/);
});

t.test('the process lives on and loads a good model after all of the above', async (t) => {
  const engine = await Engine.load(base);
  const r = await engine.generateTokens([1, 2, 3], { maxTokens: 3 });
  t.equal(r.tokens.length, 3);
  await engine.close();
});
