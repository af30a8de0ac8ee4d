#!/usr/bin/env node
// `npm run prebuild`: the binaries `npm install xlam-engine` uses without a compiler, in
// prebuilds/<platform>-<arch>/ (found at run time by node-gyp-build):
//   - the addon (prebuildify --napi, node-gyp with binding.gyp: one binary for every Node >= 20);
//   - on linux-x64, libxlam-cuda.so beside it: the CUDA backend compiled by nvcc for every listed
//     architecture with cudart linked statically, loaded only when a backend is chosen. Needs
//     nvcc; XLAM_PREBUILD_CUDA=0 leaves it out.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { log, root, run } from './build-native.mjs';

const require = createRequire(import.meta.url);
const withCuda = process.platform === 'linux' && process.arch === 'x64' && process.env.XLAM_PREBUILD_CUDA !== '0';
// Node-API: one binary for every Node >= 20. Build it against this Node's own headers (the ones
// npm builds addons with here) rather than downloading the newest release's.
const args = ['--napi', '--strip', '--target', process.versions.node];
const nodeDir = dirname(dirname(process.execPath));
if (!process.env.npm_config_nodedir && existsSync(join(nodeDir, 'include', 'node', 'node_api.h'))) {
  process.env.npm_config_nodedir = nodeDir;
}

if (withCuda) {
  const dir = join(root, 'build-cuda-release');
  const artifacts = join(dir, 'artifacts');
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const gen = spawnSync('ninja', ['--version'], { stdio: 'ignore' }).status === 0 ? ['-G', 'Ninja'] : [];
  const ok =
    run('cmake', ['-S', 'cuda', '-B', dir, ...gen, '-DCMAKE_BUILD_TYPE=Release', '-DXLAM_CUDA_NVCC=ON', '-DXLAM_CUDA_EMU=OFF', `-DXLAM_CUDA_OUT=${artifacts}`]) &&
    run('cmake', ['--build', dir, '--target', 'xlam-cuda']) &&
    run('strip', ['--strip-unneeded', join(artifacts, 'libxlam-cuda.so')]);
  if (!ok) {
    log('building libxlam-cuda.so failed (set XLAM_PREBUILD_CUDA=0 to prebuild without the CUDA backend)');
    process.exit(1);
  }
  args.push('--artifacts', artifacts);
}
process.exit(run(process.execPath, [require.resolve('prebuildify/bin.js'), ...args]) ? 0 : 1);
