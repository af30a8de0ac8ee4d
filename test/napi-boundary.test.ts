// RELIABILITY.md 7.1 row N, the native boundary: every export of the raw addon and every method
// of its NativeEngine and GrammarSession, called with wrong arity, wrong types, null, BigInt,
// symbols, huge and sparse arrays, detached buffers, throwing getters, a wrong receiver and after
// close, throws a JS error (a coded one, or V8's TypeError for a wrong receiver) and never takes
// the process down. The calls run in a child process (test/helpers/napi-matrix.mjs), so a crash
// fails this test instead of killing the runner; the engine then still gives its golden tokens.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import { fixturePath, golden, repoRoot } from './helpers/fixtures.js';

const NAME = 'mistral-f32';
const MATRIX = fileURLToPath(new URL('./helpers/napi-matrix.mjs', import.meta.url));

interface Case {
  name: string;
  want: string;
  got: string;
}

t.test('every native function survives bad arguments with a JS error', async (t) => {
  const prompt = golden(NAME).prompts[1]!;
  const r = spawnSync(process.execPath, [MATRIX, fixturePath(NAME), JSON.stringify(prompt.ids)], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 << 20,
  });
  t.equal(r.signal, null, 'the child was not killed by a signal (no abort, no segfault)');
  t.equal(r.status, 0, `the child exited normally: ${r.stderr.slice(-2000)}`);
  const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Case | { done: true; tokens: number[]; usedAfter: number });
  const cases = lines.filter((l): l is Case => 'name' in l);
  const done = lines.find((l): l is { done: true; tokens: number[]; usedAfter: number } => 'done' in l);
  t.ok(cases.length >= 250, `${cases.length} cases ran`);
  for (const c of cases) t.equal(c.got, c.want, c.name);
  const groups = new Set(cases.map((c) => c.name.replace(/[.(\s].*$/, '')));
  for (const fn of ['loadEngine', 'backendNames', 'GrammarSession', 'listen', 'submit', 'setTokenBytes', 'cancel', 'pause', 'resume', 'stats', 'info', 'close'])
    t.ok(groups.has(fn), `${fn} is in the matrix`);
  t.ok(done, 'the child reached its end');
  t.same(done?.tokens, prompt.tokens.slice(0, 8), 'the engine still gives the golden tokens after every bad call');
  t.equal(done?.usedAfter, 0, 'no KV block held after the rejected requests and the finished one');
});
