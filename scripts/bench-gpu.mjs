#!/usr/bin/env node
// `npm run bench:gpu`, on a machine with an NVIDIA GPU: builds xlam-cuda-bench with nvcc, runs it
// and writes each kernel's achieved bandwidth or FLOP rate, as a fraction of the device's peak and
// beside its goal, into bench/README.md between the GPU markers.
//   node scripts/bench-gpu.mjs [--peak-gbs N] [--peak-tflops N]   on a GPU
//   node scripts/bench-gpu.mjs --emulated                          the bench's smoke run under
//       the CPU emulator (checks it runs; its times mean nothing and nothing is written)
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { log, root, run } from './build-native.mjs';

const emulated = process.argv.includes('--emulated');
const passArgs = process.argv.slice(2).filter((a) => a !== '--emulated');
const dir = join(root, emulated ? join('build', 'cuda') : 'build-cuda-gpu');
const target = emulated ? 'xlam-cuda-bench-emulated' : 'xlam-cuda-bench';
const configure = emulated
  ? ['-S', 'cuda', '-B', dir, '-DCMAKE_BUILD_TYPE=Release']
  : ['-S', 'cuda', '-B', dir, '-DCMAKE_BUILD_TYPE=Release', '-DXLAM_CUDA_NVCC=ON', '-DXLAM_CUDA_EMU=OFF', `-DXLAM_CUDA_OUT=${dir}`];
if (!run('cmake', configure) || !run('cmake', ['--build', dir, '--target', target])) process.exit(1);

const r = spawnSync(join(dir, target), emulated ? ['--smoke'] : passArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (r.status !== 0) {
  log(`${target} failed${emulated ? '' : ' (is there a CUDA device? `nvidia-smi` tells)'}`);
  process.exit(1);
}
const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
const [dev, ...ops] = lines;
const pct = (x) => `${(100 * x).toFixed(0)} %`;
const table = [
  `Device: ${dev.device} (sm_${dev.cc}, ${dev.sms} SMs); peaks ${dev.peak_gbs} GB/s memory, ${dev.peak_tflops || '?'} TFLOP/s bf16 dense.`,
  '',
  '| op | shape | time | achieved | of peak | goal |',
  '| --- | --- | --- | --- | --- | --- |',
  ...ops.map(
    (o) =>
      `| ${o.op} | ${o.shape} | ${o.ms.toFixed(3)} ms | ${o.bound === 'memory' ? `${o.gbs.toFixed(0)} GB/s` : `${o.tflops.toFixed(1)} TFLOP/s`} | ${pct(o.peak_fraction)} | ${o.goal ? `≥ ${pct(o.goal)}` : ''} |`,
  ),
].join('\n');
process.stdout.write(table + '\n');
if (emulated) process.exit(0);

const readme = join(root, 'bench', 'README.md');
const text = readFileSync(readme, 'utf8');
const begin = '<!-- BEGIN GPU -->', end = '<!-- END GPU -->';
const section = `${begin}\nRun ${new Date().toISOString().slice(0, 10)} with \`npm run bench:gpu\`.\n\n${table}\n${end}`;
writeFileSync(readme, text.replace(new RegExp(`${begin}[\\s\\S]*?${end}`), section));
const missed = ops.filter((o) => o.goal && o.peak_fraction < o.goal);
for (const o of missed) log(`below goal: ${o.op}: ${pct(o.peak_fraction)} of peak, goal ${pct(o.goal)}`);
