// Runs the native test binary (op tests against the reference backend, safetensors, config,
// JSON, KV cache, sampler and scheduler tests on the fixture models), built by CMake beside the addon.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { fixturesDir, repoRoot } from './helpers/fixtures.js';

const candidates = [join(repoRoot, 'build', 'Release', 'xlam-native-tests'), join(repoRoot, 'build', 'xlam-native-tests')];
const binary = candidates.find((p) => existsSync(p));

t.test('native test binary passes', async (t) => {
  if (!binary) {
    t.fail('xlam-native-tests is not built: `npm test` builds it first (scripts/build-native.mjs --tests)');
    return;
  }
  const r = spawnSync(binary!, [], {
    encoding: 'utf8',
    timeout: 300_000,
    cwd: repoRoot,
    env: { ...process.env, XLAM_FIXTURES: fixturesDir },
  });
  const out = (r.stdout ?? '') + (r.stderr ?? '');
  for (const line of out.split('\n')) {
    const m = /^(ok|FAIL) (.*)$/.exec(line);
    if (m) t.ok(m[1] === 'ok', m[2]);
  }
  t.match(out, /^\d+ passed, 0 failed$/m, out.split('\n').filter((l) => l.includes('CHECK failed')).join('\n'));
  t.equal(r.status, 0);
});
