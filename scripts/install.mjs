#!/usr/bin/env node
// npm install hook: make sure a native addon for this platform exists.
//   1. `--build-from-source` (npm_config_build_from_source): node-gyp with binding.gyp;
//   2. a matching prebuild in prebuilds/<platform>-<arch>/ that loads: use it;
//   3. otherwise cmake-js with CMakeLists.txt when it and CMake are available, else node-gyp.
// In a development checkout (native/tests present) the CMake build adds the native test binary.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';

import { buildWithCmake, log, root, run } from './build-native.mjs';

const require = createRequire(import.meta.url);
const fromSource = /^(true|1|xlam-engine)$/i.test(process.env.npm_config_build_from_source ?? '');
const devCheckout = existsSync(join(root, 'native', 'tests'));

// Load in a child process first, so a broken binary cannot take this process down.
function loadsInChild() {
  const code = `require('node-gyp-build')(${JSON.stringify(root)})`;
  return spawnSync(process.execPath, ['-e', code], { cwd: root, stdio: 'pipe' }).status === 0;
}

function prebuildPath() {
  try {
    const found = require('node-gyp-build').resolve(root);
    return found.includes(`${sep}prebuilds${sep}`) ? found : undefined;
  } catch {
    return undefined;
  }
}

function nodeGyp() {
  const bundled = process.env.npm_config_node_gyp;
  if (bundled && existsSync(bundled)) return run(process.execPath, [bundled, 'rebuild']);
  try {
    return run(process.execPath, [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild']);
  } catch {
    return run('node-gyp', ['rebuild']);
  }
}

if (!fromSource) {
  const prebuild = prebuildPath();
  if (prebuild && loadsInChild()) {
    log(`using the prebuilt addon ${prebuild}`);
    process.exit(0);
  }
}
const ok = fromSource ? nodeGyp() : buildWithCmake({ tests: devCheckout }) || nodeGyp();
if (!ok) {
  log(
    'could not build the native addon. Install CMake and a C++17 compiler and run `npm rebuild xlam-engine`, ' +
      'or build with node-gyp: `npm install xlam-engine --build-from-source`.',
  );
  process.exit(1);
}
if (!loadsInChild()) {
  log('the native addon was built but does not load');
  process.exit(1);
}
