#!/usr/bin/env node
// `npm run test:gpu`, on a machine with an NVIDIA GPU (compute capability 7.5+), nvcc and a
// driver: builds libxlam-cuda.so and the op tests with nvcc, runs every CUDA op against the CPU
// reference op on the device, then the end-to-end parity of test/cuda-emulated.test.ts with
// backend 'cuda'. Exits non-zero on any failure, or at once when no device can run it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

import { buildWithCmake, log, root, run } from './build-native.mjs';

const dir = join(root, 'build-cuda-gpu');
const ok =
  buildWithCmake({ tests: true }) &&
  run('cmake', ['-S', 'cuda', '-B', dir, '-DCMAKE_BUILD_TYPE=Release', '-DXLAM_CUDA_NVCC=ON', '-DXLAM_CUDA_EMU=OFF', `-DXLAM_CUDA_OUT=${dir}`]) &&
  run('cmake', ['--build', dir, '--target', 'xlam-cuda', 'xlam-cuda-op-tests-gpu']);
if (!ok) process.exit(1);
const lib = join(dir, 'libxlam-cuda.so');
if (!existsSync(lib)) {
  log(`${lib} was not built`);
  process.exit(1);
}
copyFileSync(lib, join(root, 'build', 'Release', 'libxlam-cuda.so'));
// Stop at once, with the library's own reason, when this machine cannot run it.
const probe = spawnSync(process.execPath, ['--input-type=module', '-e', `
  const { Engine } = await import(${JSON.stringify(join(root, 'dist', 'lib', 'index.js'))});
  const e = await Engine.load(${JSON.stringify(join(root, 'test', 'fixtures', 'models', 'qwen2-f32'))}, { backend: 'cuda' });
  console.log(e.info().backend, e.info().kernels);
  await e.close();`], { encoding: 'utf8' });
if (probe.status !== 0) {
  log(`no GPU to test on: ${(probe.stderr.match(/backend 'cuda': .*/) ?? [probe.stderr.trim()])[0]}`);
  process.exit(1);
}
log(`testing on ${probe.stdout.trim()}`);
process.env.XLAM_FIXTURES = join(root, 'test', 'fixtures', 'models');
if (!run(join(dir, 'xlam-cuda-op-tests-gpu'), [])) process.exit(1);
process.env.XLAM_TEST_CUDA_BACKEND = 'cuda';
process.exit(run(process.execPath, [join(root, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs'), 'test/cuda-emulated.test.ts']) ? 0 : 1);
