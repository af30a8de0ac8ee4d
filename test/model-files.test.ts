// Model folders beyond one safetensors file (shared/RELIABILITY.md §2.4 S31-S34), from committed
// files in test/fixtures/model-files: shard indexes whose paths leave the folder (S31) or disagree
// with the shards (S32), config.json fields out of range (S33), and tokenizer.json patterns that
// could backtrack for minutes (S34). Each gets its typed error; the valid sharded layout loads.
import { copyFileSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { Engine, Tokenizer, XlamModelFormatError } from '../dist/lib/index.js';
import { nestedQuantifierAt } from '../dist/lib/tokenizer/regex-safety.js';
import { repoRoot } from './helpers/fixtures.js';
import { baseTensors, expectLoadError, greedyTokens, modelFolders, writeRawSafetensors } from './helpers/model-folders.js';

const filesDir = join(repoRoot, 'test', 'fixtures', 'model-files');
const folders = modelFolders('xlam-model-files-');
t.teardown(folders.remove);

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
/** Which shard holds each tensor in the valid layout. */
const layout = readJson(join(filesDir, 'sharded', 'model.safetensors.index.json')).weight_map as Record<string, string>;

/** The fixture's weights in two shards as `layout` says (plus `extra` tensors per shard), and the case's index. */
function sharded(caseName: string, extra: Record<string, string[]> = {}): string {
  return folders.folder((d) => {
    rmSync(join(d, 'model.safetensors'));
    const tensors = baseTensors();
    for (const shard of new Set(Object.values(layout))) {
      const names = new Set([...Object.keys(layout).filter((n) => layout[n] === shard), ...(extra[shard] ?? [])]);
      writeRawSafetensors(join(d, shard), tensors.filter((x) => names.has(x.name)));
    }
    copyFileSync(join(filesDir, caseName, 'model.safetensors.index.json'), join(d, 'model.safetensors.index.json'));
  });
}

const greedy = (dir: string) => greedyTokens(dir, [1, 415, 2936, 9060], 6);

t.test('a valid two-shard layout loads and answers as the one-file fixture', async (t) => {
  t.same(await greedy(sharded('sharded')), await greedy(folders.base));
});

t.test('S31: shard paths that leave the folder or are not safetensors -> BAD_SHARD_PATH', async (t) => {
  for (const name of ['S31-parent-dir', 'S31-absolute-path', 'S31-not-safetensors', 'S31-subfolder']) {
    await t.test(name, (t) => expectLoadError(t, sharded(name), 'BAD_SHARD_PATH', /index\.json$/, 'lm_head.weight'));
  }
  await t.test('S31-symlink-out: a shard that is a symlink to a file outside the folder', async (t) => {
    const dir = sharded('S31-symlink-out');
    symlinkSync(join(folders.base, 'model.safetensors'), join(dir, 'link.safetensors'));
    await expectLoadError(t, dir, 'BAD_SHARD_PATH', /link\.safetensors$/);
  });
  await t.test('without an index, a model.safetensors that links outside the folder', async (t) => {
    const dir = folders.folder((d) => {
      rmSync(join(d, 'model.safetensors'));
      symlinkSync(join(folders.base, 'model.safetensors'), join(d, 'model.safetensors'));
    });
    await expectLoadError(t, dir, 'BAD_SHARD_PATH');
  });
});

t.test('S32: an index that disagrees with its shards -> BAD_INDEX', async (t) => {
  const first = 'model.embed_tokens.weight';
  await t.test('a missing shard', (t) => expectLoadError(t, sharded('S32-missing-shard'), 'BAD_INDEX'));
  await t.test('a tensor the named shard does not hold', (t) => expectLoadError(t, sharded('S32-wrong-shard'), 'BAD_INDEX', undefined, first));
  await t.test('a tensor in two shards', (t) =>
    expectLoadError(t, sharded('S32-tensor-in-two-shards', { 'model-00002-of-00002.safetensors': [first] }), 'BAD_INDEX', undefined, first),
  );
});

t.test('S33: config.json fields out of range -> BAD_CONFIG naming the field', async (t) => {
  const { cases } = readJson(join(filesDir, 'S33-config-patches.json')) as { cases: Array<{ patch: Record<string, unknown>; field: string }> };
  for (const { patch, field } of cases) {
    const dir = folders.folder((d) => {
      const config = readJson(join(d, 'config.json'));
      writeFileSync(join(d, 'config.json'), JSON.stringify({ ...config, ...patch }));
    });
    await t.test(JSON.stringify(patch), async (t) => {
      await expectLoadError(t, dir, 'BAD_CONFIG', /config\.json$/);
      const err = await Engine.load(dir).catch((e: unknown) => e);
      t.match((err as Error).message, field, 'the message names the field');
    });
  }
});

t.test('S34: which patterns nest variable quantifiers under an unbounded one', async (t) => {
  const nested = ['(a+)+', '(a+)+$', '(\\s*x)*', '(?:a|b+){2,}', '((ab)*c)+', '(a*)*b', '(a+){2,100}', '(a{1,3})+', '(ab?)+', '(?=(a+))+', '(?<x>a+)+', '(a+?)+'];
  const linear = [
    'a+b+', '(ab)+', '(a+)?', '(a+){2}', '[(a+)]+', '\\(a+\\)+', '(a{3})+', '(?:ab)+c*', '\\s?[A-Za-z\\u00b5]+', '\\s+$', '[\\r\\n]',
    // GPT-2 and Llama-3 / Qwen2 pre-tokenizer expressions
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ];
  for (const p of nested) t.ok(nestedQuantifierAt(p) >= 0, `refused: ${p}`);
  for (const p of linear) t.equal(nestedQuantifierAt(p), -1, `allowed: ${p}`);
});

t.test('S34: tokenizer.json patterns that nest unbounded quantifiers are refused at load', async (t) => {
  for (const name of ['S34-nested-quantifier', 'S34-nested-in-alternation']) {
    const err = await Tokenizer.fromDir(join(filesDir, name)).catch((e: unknown) => e);
    t.ok(err instanceof XlamModelFormatError, `${name}: an XlamModelFormatError`);
    t.equal((err as XlamModelFormatError).code, 'BAD_TOKENIZER');
    t.match((err as Error).message, /nests unbounded quantifiers/);
  }
  // The same tokenizer with a linear pattern loads and splits a long run at once.
  const tok = await Tokenizer.fromDir(join(filesDir, 'S34-safe-pattern'));
  const ids = tok.encode(`${'a'.repeat(1000)}b`, { addSpecialTokens: false });
  t.equal(ids.length, 501, 'aa x 500, then b');
});

t.test('a folder copy for the engine with the S34 tokenizer fails the same way', async (t) => {
  const dir = folders.folder((d) => {
    copyFileSync(join(filesDir, 'S34-nested-quantifier', 'tokenizer.json'), join(d, 'tokenizer.json'));
    copyFileSync(join(filesDir, 'S34-nested-quantifier', 'tokenizer_config.json'), join(d, 'tokenizer_config.json'));
  });
  const engine = await Engine.load(dir);
  const err = await engine.tokenizer().catch((e: unknown) => e);
  t.equal((err as XlamModelFormatError).code, 'BAD_TOKENIZER');
  await engine.close();
});
