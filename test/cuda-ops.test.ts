// Runs the CUDA backend's emulated test binaries, built by `npm test`'s pretest into build/cuda:
// xlam-cuda-op-tests (every CUDA op against the CPU reference op under the emulator, in three
// schedules, on small shapes; the full matrix runs in scripts/cuda-ci.sh) and
// xlam-cuda-emu-tests (the emulator itself, including its deliberately broken kernels).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { fixturesDir, repoRoot } from './helpers/fixtures.js';

for (const name of ['xlam-cuda-op-tests', 'xlam-cuda-emu-tests']) {
  t.test(`${name} passes`, async (t) => {
    const binary = join(repoRoot, 'build', 'cuda', name);
    if (!existsSync(binary)) {
      t.fail(`${name} is not built: \`npm test\` builds it first (scripts/build-native.mjs --tests)`);
      return;
    }
    const r = spawnSync(binary, [], {
      encoding: 'utf8',
      timeout: 300_000,
      cwd: repoRoot,
      env: { ...process.env, XLAM_FIXTURES: fixturesDir },
    });
    const out = (r.stdout ?? '') + (r.stderr ?? '');
    let cases = 0;
    for (const line of out.split('\n')) {
      const m = /^(ok|FAIL) (.*)$/.exec(line);
      if (m) {
        cases++;
        t.ok(m[1] === 'ok', m[2]);
      }
    }
    t.ok(cases > 0, 'at least one case ran');
    t.match(out, /^\d+ passed, 0 failed$/m, out.split('\n').filter((l) => l.includes('CHECK failed')).slice(0, 40).join('\n'));
    t.equal(r.status, 0);
  });
}
