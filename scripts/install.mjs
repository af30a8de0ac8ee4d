#!/usr/bin/env node
// npm install hook: make sure a native addon for this platform exists.
//   1. a matching prebuild in prebuilds/ (or an existing local build) that loads: done;
//   2. `--build-from-source` (npm_config_build_from_source): node-gyp with binding.gyp;
//   3. otherwise cmake-js with CMakeLists.txt when it and CMake are available, else node-gyp.
// In a development checkout (native/tests present) the CMake build adds the native test binary.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const fromSource = /^(true|1|xlam-engine)$/i.test(process.env.npm_config_build_from_source ?? '');
const devCheckout = existsSync(join(root, 'native', 'tests'));

function log(msg) {
  process.stderr.write(`xlam-engine: ${msg}\n`);
}

function run(cmd, args) {
  log(`${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  return r.status === 0;
}

function loadsInChild() {
  // Load in a child process first, so a broken binary cannot take this process down.
  const code = `require('node-gyp-build')(${JSON.stringify(root)})`;
  const r = spawnSync(process.execPath, ['-e', code], { cwd: root, stdio: 'pipe' });
  return r.status === 0;
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

function cmakeJs() {
  let bin;
  try {
    bin = require.resolve('cmake-js/bin/cmake-js');
  } catch {
    return false;
  }
  if (spawnSync('cmake', ['--version'], { stdio: 'ignore' }).status !== 0) return false;
  const configure = [bin, 'configure', '--out', 'build', `--CDXLAM_TESTS=${devCheckout ? 'ON' : 'OFF'}`];
  return run(process.execPath, configure) && run(process.execPath, [bin, 'build', '--out', 'build']);
}

if (!fromSource && !devCheckout && loadsInChild()) {
  log('using the prebuilt native addon');
  process.exit(0);
}
const ok = fromSource ? nodeGyp() : cmakeJs() || nodeGyp();
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
