// Backend selection (issue 7): 'auto' runs on CUDA only when the CUDA library finds a usable
// device and otherwise stays on the CPU and says why; 'cuda' on a machine that cannot run it is a
// typed error with the reason; a broken or foreign library is reported, never loaded blindly.
// Library registration happens once per process, so the cases with other libraries run in a child.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { Engine, XlamBackendUnavailableError } from '../dist/lib/index.js';
import { fixturePath, repoRoot } from './helpers/fixtures.js';

const model = fixturePath('qwen2-f32');

t.test("'auto' falls back to the CPU and says why CUDA is not used", async (t) => {
  const engine = await Engine.load(model);
  try {
    const info = engine.info();
    t.equal(info.backend, 'cpu');
    t.match(info.backendNote, /^CUDA not used: .+/, info.backendNote);
  } finally {
    await engine.close();
  }
});

t.test("an explicit CPU backend carries no note", async (t) => {
  const engine = await Engine.load(model, { backend: 'cpu' });
  t.equal(engine.info().backendNote, undefined);
  await engine.close();
});

t.test("'cuda' without a usable GPU is BACKEND_UNAVAILABLE with the reason", async (t) => {
  const err = await Engine.load(model, { backend: 'cuda' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, XlamBackendUnavailableError);
  t.equal((err as XlamBackendUnavailableError).code, 'BACKEND_UNAVAILABLE');
  t.match((err as Error).message, /^backend 'cuda': .+/);
});

// Loads with XLAM_CUDA_LIBRARY pointing at `lib` in a child; returns [backend, note, error].
function childLoad(lib: string): [string, string, string] {
  const code = `
    import('${join(repoRoot, 'dist/lib/index.js')}').then(async ({ Engine }) => {
      const e = await Engine.load(${JSON.stringify(model)});
      const i = e.info();
      let err = '';
      await e.close();
      try { await Engine.load(${JSON.stringify(model)}, { backend: 'cuda' }); } catch (x) { err = x.code + ': ' + x.message; }
      process.stdout.write(JSON.stringify([i.backend, i.backendNote, err]));
    });`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, XLAM_CUDA_LIBRARY: lib },
    encoding: 'utf8',
  });
  return JSON.parse(out) as [string, string, string];
}

t.test('a library that is not a shared object, or not ours, is reported and not used', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xlam-lib-'));
  const text = join(dir, 'libxlam-cuda.so');
  writeFileSync(text, 'not an ELF file\n');
  let [backend, note, err] = childLoad(text);
  t.equal(backend, 'cpu');
  t.match(note, /^CUDA not used: cannot load the backend library: .*libxlam-cuda\.so/);
  t.match(err, /^BACKEND_UNAVAILABLE: backend 'cuda': cannot load/);

  // A real shared library without our C interface (the C library itself).
  const libc = execFileSync('sh', ['-c', 'ldd "$0" | sed -n "s/.*libc.so.6 => \\(\\S*\\).*/\\1/p"', process.execPath], {
    encoding: 'utf8',
  }).trim();
  t.ok(libc, `libc found: ${libc}`);
  [backend, note, err] = childLoad(libc);
  t.equal(backend, 'cpu');
  t.match(note, /is not an xlam backend library/);
  t.match(err, /is not an xlam backend library/);

  [backend, note] = childLoad(join(dir, 'missing.so'));
  t.equal(backend, 'cpu');
  t.match(note, /not installed \(.*missing\.so is missing\)/);
});
