// The `xlam` command line: generate prints the goldens' tokens as JSON; bad input exits non-zero
// with the error code.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';

import { compareTopK, fixturePath, golden, repoRoot, tolerance } from './helpers/fixtures.js';

const cli = join(repoRoot, 'dist', 'lib', 'cli.js');
const xlam = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });

t.test('xlam generate --json prints tokens and top_logprobs', async (t) => {
  const g = golden('qwen2-bf16');
  const p = g.prompts[1]!;
  const r = xlam('generate', '--model', fixturePath('qwen2-bf16'), '--prompt-ids', p.ids.join(','), '--max-tokens', '32',
    '--top-logprobs', '5', '--json');
  t.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { tokens: number[]; top_logprobs: Array<Array<[number, number]>> };
  t.same(Object.keys(out), ['tokens', 'top_logprobs']);
  t.same(out.tokens, p.tokens);
  out.top_logprobs.forEach((step, i) => t.equal(compareTopK(step, p.top_logprobs[i]!, tolerance(g)), undefined));
});

t.test('usage errors exit 2, engine errors exit 1 with the code', async (t) => {
  const noModel = xlam('generate', '--prompt-ids', '1');
  t.equal(noModel.status, 2);
  t.match(noModel.stderr, /--model/);
  const badIds = xlam('generate', '--model', fixturePath('qwen2-f32'), '--prompt-ids', '1,x');
  t.equal(badIds.status, 2);
  const unknownFlag = xlam('generate', '--model', fixturePath('qwen2-f32'), '--prompt-ids', '1', '--bogus');
  t.equal(unknownFlag.status, 2);
  const missing = xlam('generate', '--model', join(repoRoot, 'no-such-model'), '--prompt-ids', '1');
  t.equal(missing.status, 1);
  t.match(missing.stderr, /MODEL_NOT_FOUND/);
  const outside = xlam('generate', '--model', fixturePath('qwen2-f32'), '--prompt-ids', '999999999');
  t.equal(outside.status, 1);
  t.match(outside.stderr, /INVALID_ARGUMENT/);
});
