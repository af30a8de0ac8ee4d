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

/**
 * The CUDA backend libraries (cuda/CMakeLists.txt), next to xlam.node in build/Release:
 * libxlam-cuda-emulated.so (the kernels on the CPU emulator; needs only the CUDA headers) and,
 * with `nvcc`, libxlam-cuda.so compiled for the GPU architectures (several minutes). With
 * `tests` also the CUDA op tests and the emulator's tests. False when the build fails; when the
 * CUDA headers are missing the backend is optional and this returns true after saying so.
 */
export function buildCuda({ tests = false, nvcc = false } = {}) {
  const out = join(root, 'build', 'Release');
  const dir = join(root, 'build', 'cuda');
  const cache = join(dir, 'CMakeCache.txt');
  const want = `XLAM_CUDA_NVCC:BOOL=${nvcc ? 'ON' : 'OFF'}`;
  if (!existsSync(cache) || !readFileSync(cache, 'utf8').includes(want)) {
    const gen = spawnSync('ninja', ['--version'], { stdio: 'ignore' }).status === 0 ? ['-G', 'Ninja'] : [];
    const args = ['-S', 'cuda', '-B', dir, ...gen, '-DCMAKE_BUILD_TYPE=Release', `-DXLAM_CUDA_OUT=${out}`,
      `-DXLAM_CUDA_NVCC=${nvcc ? 'ON' : 'OFF'}`];
    log(`cmake ${args.join(' ')}`);
    const r = spawnSync('cmake', args, { cwd: root, stdio: 'pipe', encoding: 'utf8' });
    if (r.status !== 0) {
      if (/CUDAToolkit/.test(r.stderr + r.stdout) && !tests && !nvcc) {
        log('the CUDA toolkit headers are not installed: the CUDA backends are not built (the CPU backend is)');
        return true;
      }
      process.stderr.write(r.stdout + r.stderr);
      return false;
    }
  }
  const targets = ['xlam-cuda-emulated'];
  if (tests) targets.push('xlam-cuda-op-tests', 'xlam-cuda-emu-tests');
  if (nvcc) targets.push('xlam-cuda');
  return run('cmake', ['--build', dir, '--target', ...targets]);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const tests = process.argv.includes('--tests');
  const ok = buildWithCmake({ tests }) && (process.argv.includes('--no-cuda') || buildCuda({ tests, nvcc: process.argv.includes('--nvcc') }));
  process.exit(ok ? 0 : 1);
}
