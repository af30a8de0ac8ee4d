// The malformed-safetensors corpus (shared/RELIABILITY.md §2.4, S01-S30): one committed file per
// case in test/fixtures/safetensors, made and checked against the Python `safetensors` reader by
// scripts/make-safetensors-corpus.py (goldens in test/goldens/safetensors.json). Each file is
// loaded as a model's weights through the public loader: a typed error with the class's code, or,
// for the files the format allows, a load that gets past the file (and stops at the model's first
// missing tensor). The allowed layouts are also checked on whole models, which must answer
// exactly as the fixture does; and S28 and S30 need a real model's tensors.
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { Engine, XlamError } from '../dist/lib/index.js';
import { goldensDir, repoRoot } from './helpers/fixtures.js';
import { baseTensors, expectLoadError, greedyTokens, modelFolders, writeRawSafetensors, type SafeTensor } from './helpers/model-folders.js';

interface CorpusCase {
  file: string;
  class: string;
  why: string;
  expect: string;
  reference: string;
  stricter: string | null;
}

const corpusDir = join(repoRoot, 'test', 'fixtures', 'safetensors');
const goldens = JSON.parse(readFileSync(join(goldensDir, 'safetensors.json'), 'utf8')) as { reference: string; cases: CorpusCase[] };
const folders = modelFolders('xlam-safetensors-corpus-');
t.teardown(folders.remove);

const NORM = 'model.norm.weight';
const PROMPT = [1, 415, 2936, 9060, 285, 1142];

t.test('the corpus: one file per case, every class S01-S29', async (t) => {
  t.same(readdirSync(corpusDir).sort(), goldens.cases.map((c) => c.file).sort(), 'the committed files are the goldens\' cases');
  const classes = new Set(goldens.cases.map((c) => c.class));
  for (let i = 1; i <= 29; i++) t.ok(classes.has(`S${String(i).padStart(2, '0')}`), `S${String(i).padStart(2, '0')} has a file`);
});

t.test(`our verdicts agree with the reference reader (${goldens.reference})`, async (t) => {
  for (const c of goldens.cases) {
    const agree = (c.reference === 'ok') === (c.expect === 'ok');
    if (c.stricter) t.notOk(agree, `${c.file}: stricter than the reference (${c.stricter})`);
    else t.ok(agree, `${c.file}: ours ${c.expect}, reference ${c.reference}`);
  }
});

t.test('each corpus file, loaded as a model\'s weights, gets its typed error', async (t) => {
  for (const c of goldens.cases) {
    const dir = folders.folder((d) => copyFileSync(join(corpusDir, c.file), join(d, 'model.safetensors')));
    // A file the format allows holds none of the model's tensors: the loader gets past it.
    const code = c.expect === 'ok' ? 'MISSING_TENSOR' : c.expect;
    await t.test(`${c.file} (${c.why}) -> ${code}`, (t) => expectLoadError(t, dir, code, c.expect === 'ok' ? undefined : /model\.safetensors$/));
  }
});

const greedy = (dir: string) => greedyTokens(dir, PROMPT, 8);

t.test('the layouts the format allows load whole models that answer as the fixture does', async (t) => {
  const expected = await greedy(folders.base);
  const variants: Array<[string, (ts: SafeTensor[]) => SafeTensor[], (json: string) => string]> = [
    ['S08 blanks around the header', (ts) => ts, (j) => `  \n\t${j}\r\n `],
    ['S12 an unknown field in every entry', (ts) => ts, (j) => j.replaceAll('"data_offsets"', '"note":{"x":[1,2]},"data_offsets"')],
    [
      'S26 an empty [2, 0] and a scalar tensor beside the model\'s',
      (ts) => [{ name: 'extra.empty', dtype: 'F32', shape: [2, 0], data: new Float32Array(0) }, ...ts, { name: 'extra.scalar', dtype: 'F32', shape: [], data: Float32Array.of(2) }],
      (j) => j,
    ],
    // Odd header lengths: the data starts at an odd address; every tensor is read unaligned.
    ['S29 data at an odd address', (ts) => ts, (j) => `${j} `],
    ['S29 data at an address 3 mod 8', (ts) => ts, (j) => (j.length % 8 === 3 ? j : j + ' '.repeat((11 - (j.length % 8)) % 8))],
  ];
  for (const [name, tensors, header] of variants) {
    const dir = folders.folder((d) => writeRawSafetensors(join(d, 'model.safetensors'), tensors(baseTensors()), header));
    t.same(await greedy(dir), expected, name);
  }
});

t.test('S28: a model tensor in a valid dtype the engine cannot compute with -> UNSUPPORTED_DTYPE', async (t) => {
  const withNorm = (dtype: string, data: ArrayBufferView) =>
    folders.folder((d) => writeRawSafetensors(join(d, 'model.safetensors'), baseTensors().map((x) => (x.name === NORM ? { ...x, dtype, data } : x))));
  await expectLoadError(t, withNorm('F8_E8M0', new Uint8Array(64)), 'UNSUPPORTED_DTYPE', /model\.safetensors$/, NORM);
  await expectLoadError(t, withNorm('C64', new Float32Array(128)), 'UNSUPPORTED_DTYPE', /model\.safetensors$/, NORM);
  await expectLoadError(t, withNorm('F4', new Uint8Array(32)), 'UNSUPPORTED_DTYPE', /model\.safetensors$/, NORM);
});

t.test('S30: NaN and Inf weights load; generation ends in a typed error or tokens, never a crash', async (t) => {
  for (const [name, value] of [
    ['NaN', NaN],
    ['+Inf', Infinity],
  ] as const) {
    const dir = folders.folder((d) =>
      writeRawSafetensors(
        join(d, 'model.safetensors'),
        baseTensors().map((x) => (x.name === NORM ? { ...x, data: new Float32Array(64).fill(value) } : x)),
      ),
    );
    const engine = await Engine.load(dir);
    const r = await engine.generateTokens(PROMPT, { maxTokens: 4 }).then(
      (r) => ({ tokens: r.tokens }),
      (e: unknown) => ({ error: e }),
    );
    if ('error' in r) {
      t.ok(r.error instanceof XlamError, `${name}: a typed error (${(r.error as Error).message})`);
      t.equal((r.error as XlamError).code, 'INTERNAL');
    } else t.ok(r.tokens.length <= 4, `${name}: ${r.tokens.length} tokens`);
    // The engine still serves: a sampled request fails the same typed way, not the process.
    const sampled = await engine.generate({ promptTokens: PROMPT, maxTokens: 2, temperature: 1, seed: 1 }).then(
      () => 'ok',
      (e: unknown) => (e instanceof XlamError ? e.code : 'untyped'),
    );
    t.ok(sampled === 'ok' || sampled === 'INTERNAL', `${name}: a sampled request: ${sampled}`);
    await engine.close();
  }
});
