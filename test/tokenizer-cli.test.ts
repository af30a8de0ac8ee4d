// `xlam tokenize`: the ids of a text file under a model folder's tokenizer, as the goldens say.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { goldensDir, repoRoot } from './helpers/fixtures.js';

const cli = join(repoRoot, 'dist', 'lib', 'cli.js');
const xlam = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
const golden = JSON.parse(readFileSync(join(goldensDir, 'tokenizer-llama2.json'), 'utf8')) as {
  folder: string;
  cases: Array<{ ids: number[]; ids_plain: number[] }>;
};
const corpus = JSON.parse(readFileSync(join(goldensDir, 'tokenizer-corpus.json'), 'utf8')) as string[];
const model = join(repoRoot, golden.folder);
const index = corpus.indexOf('<s>[INST] Hello [/INST] Hi</s>');

t.test('xlam tokenize --json prints {"ids": [...]}', async (t) => {
  const dir = t.testdir({ 'prompt.txt': corpus[index]! });
  const r = xlam('tokenize', '--model', model, '--text-file', join(dir, 'prompt.txt'), '--json');
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { ids: golden.cases[index]!.ids });
  const plain = xlam('tokenize', '--model', model, '--text-file', join(dir, 'prompt.txt'), '--no-special-tokens', '--json');
  t.equal(plain.status, 0, plain.stderr);
  t.same(JSON.parse(plain.stdout), { ids: golden.cases[index]!.ids_plain });
});

t.test('without --json the ids are space-separated; the file is read as UTF-8 as is', async (t) => {
  const i = corpus.indexOf('I love 🦜 and 🐍!');
  const dir = t.testdir({});
  writeFileSync(join(dir, 'emoji.txt'), corpus[i]!);
  const r = xlam('tokenize', '--model', model, '--text-file', join(dir, 'emoji.txt'));
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, golden.cases[i]!.ids.join(' ') + '\n');
});

t.test('usage errors exit 2, bad folders and files exit 1 with the code', async (t) => {
  const dir = t.testdir({ 'x.txt': 'hi' });
  const noModel = xlam('tokenize', '--text-file', join(dir, 'x.txt'));
  t.equal(noModel.status, 2);
  t.match(noModel.stderr, /--model/);
  const noFile = xlam('tokenize', '--model', model);
  t.equal(noFile.status, 2);
  t.match(noFile.stderr, /--text-file/);
  t.equal(xlam('tokenize', '--model', model, '--text-file', join(dir, 'x.txt'), '--bogus').status, 2);
  const missing = xlam('tokenize', '--model', join(repoRoot, 'no-such-model'), '--text-file', join(dir, 'x.txt'));
  t.equal(missing.status, 1);
  t.match(missing.stderr, /MODEL_NOT_FOUND/);
  const unreadable = xlam('tokenize', '--model', model, '--text-file', join(dir, 'nope.txt'));
  t.equal(unreadable.status, 1);
  t.match(unreadable.stderr, /INVALID_ARGUMENT/);
  t.match(xlam('--help').stdout, /xlam tokenize --model DIR --text-file F/);
});
