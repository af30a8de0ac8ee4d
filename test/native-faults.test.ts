// RELIABILITY.md 7.1 row N: a C++ exception thrown on any path reachable from JS — a binding call
// on the JS thread, a load on a libuv worker thread, a step on the engine thread — becomes a
// typed error (XlamOutOfMemoryError for std::bad_alloc, XlamInternalError otherwise), the
// requests of a failed step free their KV blocks, and the engine works on. The exceptions are
// injected with XLAM_TEST_FAULT (native/src/fault-injection.h) in a child process.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import { fixturePath, golden, repoRoot } from './helpers/fixtures.js';

const NAME = 'mistral-f32';
const CHILD = fileURLToPath(new URL('./helpers/native-faults.mjs', import.meta.url));
const FAULTS = [
  'loadEngine:bad_alloc', // the first Engine.load, on the JS thread
  'load:runtime_error', // the second, on the load worker
  'stats:bad_alloc',
  'info:other',
  'submit:runtime_error',
  'forward:bad_alloc:2', // the stream's first step, then one step of the three requests
  'GrammarSession:bad_alloc',
  'stats:runtime_error', // the second stats call (GrammarSession.stats shares the site: it finds it used up)
].join(',');

t.test('C++ exceptions on the JS thread, a worker and the engine thread become typed errors', async (t) => {
  const p = golden(NAME).prompts[1]!;
  const want = p.tokens.slice(0, 8);
  const r = spawnSync(process.execPath, [CHILD, fixturePath(NAME), JSON.stringify(p.ids)], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, XLAM_TEST_FAULT: FAULTS },
  });
  t.equal(r.signal, null, 'no signal');
  t.equal(r.status, 0, `the child exited normally: ${r.stderr.slice(-2000)}`);
  const got = new Map(r.stdout.trim().split('\n').map((l) => { const o = JSON.parse(l) as { name: string; got: unknown }; return [o.name, o.got]; }));
  t.equal(got.get('Engine.load, the binding call throws'), 'XlamOutOfMemoryError:OUT_OF_MEMORY');
  t.equal(got.get('Engine.load, the load on the worker thread throws'), 'XlamInternalError:INTERNAL');
  t.equal(got.get('stats throws'), 'XlamOutOfMemoryError:OUT_OF_MEMORY');
  t.equal(got.get('stats again'), 'XlamInternalError:INTERNAL', 'the second stats site entry');
  t.equal(got.get('info throws a non-std exception'), 'XlamInternalError:INTERNAL');
  t.equal(got.get('submit throws'), 'XlamInternalError:INTERNAL');
  t.equal(got.get('a stream whose step throws'), 'XlamOutOfMemoryError:OUT_OF_MEMORY');
  t.same(got.get('stats after the failed step'), { running: 0, waiting: 0, kvBlocksUsed: 0 }, 'the failed step freed its blocks');
  const three = got.get('three concurrent requests, a step throws') as Array<string | number[]>;
  t.equal(three.length, 3);
  t.ok(three.some((x) => x === 'XlamOutOfMemoryError:OUT_OF_MEMORY'), 'the step that threw failed its requests');
  for (const x of three) t.ok(x === 'XlamOutOfMemoryError:OUT_OF_MEMORY' || JSON.stringify(x) === JSON.stringify(want), `typed error or the right tokens: ${JSON.stringify(x)}`);
  t.same(got.get('stats after them'), { running: 0, waiting: 0, kvBlocksUsed: 0 });
  t.same(got.get('the engine generates again'), want, 'golden tokens after the faults');
  t.equal(got.get('new GrammarSession throws'), 'XlamOutOfMemoryError:OUT_OF_MEMORY');
  t.equal(got.get('GrammarSession.stats throws'), 'ok', 'the stats sites were used up by the engine');
  t.equal(got.get('done'), true);
});
