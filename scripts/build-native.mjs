#!/usr/bin/env node
// Builds the native addon (and, with --tests, the native test binary) with cmake-js from
// CMakeLists.txt. Incremental: a build with nothing changed takes a second. Used by the install
// script and by `npm test` (so tests always run against the current sources).
//
//   node scripts/build-native.mjs [--tests]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

export function log(msg) {
  process.stderr.write(`xlam-engine: ${msg}\n`);
}

export function run(cmd, args) {
  log(`${cmd} ${args.join(' ')}`);
  return spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' }).status === 0;
}

/** False when cmake-js or CMake is missing, or the build fails. */
export function buildWithCmake({ tests = false } = {}) {
  let bin;
  try {
    bin = require.resolve('cmake-js/bin/cmake-js');
  } catch {
    log('cmake-js is not installed');
    return false;
  }
  if (spawnSync('cmake', ['--version'], { stdio: 'ignore' }).status !== 0) {
    log('CMake is not on the PATH');
    return false;
  }
  const want = tests ? 'ON' : 'OFF';
  const cache = join(root, 'build', 'CMakeCache.txt');
  const configured = existsSync(cache) && readFileSync(cache, 'utf8').includes(`XLAM_TESTS:BOOL=${want}`);
  if (!configured && !run(process.execPath, [bin, 'configure', '--out', 'build', `--CDXLAM_TESTS=${want}`])) return false;
  return run(process.execPath, [bin, 'build', '--out', 'build']);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(buildWithCmake({ tests: process.argv.includes('--tests') }) ? 0 : 1);
}
