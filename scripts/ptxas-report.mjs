#!/usr/bin/env node
// Summarises ptxas -v output (the nvcc build log of libxlam-cuda.so): one line per kernel and
// architecture with registers, shared memory, stack and spills. Kernels that spill are listed
// again at the end (a performance matter, not a failure). Exits non-zero when the log holds no
// kernel at all (the report would be empty because the flags were lost).
//
//   node scripts/ptxas-report.mjs build-cuda-ci-nvcc/ptxas.log
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const log = readFileSync(process.argv[2], 'utf8').split('\n');
const rows = new Map(); // `${name}@${arch}` -> row
let current;
for (const line of log) {
  let m = /Compiling entry function '([^']+)' for '(sm_\d+a?)'/.exec(line);
  if (m) {
    current = { name: m[1], arch: m[2], regs: 0, smem: 0, stack: 0, spillStores: 0, spillLoads: 0 };
    rows.set(`${m[1]}@${m[2]}`, current);
    continue;
  }
  if (!current) continue;
  m = /(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/.exec(line);
  if (m) {
    current.stack = +m[1];
    current.spillStores = +m[2];
    current.spillLoads = +m[3];
    continue;
  }
  m = /Used (\d+) registers(?:.*?, (\d+) bytes smem)?/.exec(line);
  if (m) {
    current.regs = +m[1];
    current.smem = m[2] ? +m[2] : 0;
  }
}
if (rows.size === 0) {
  console.error('ptxas-report: no kernel in the log (was -Xptxas -v passed?)');
  process.exit(1);
}
const mangled = [...new Set([...rows.values()].map((r) => r.name))];
const filt = spawnSync('c++filt', { input: mangled.join('\n'), encoding: 'utf8' });
const pretty = new Map(mangled.map((n, i) => [n, filt.status === 0 ? filt.stdout.split('\n')[i] ?? n : n]));
const short = (n) => {
  const p = pretty.get(n) ?? n;
  return p.length > 110 ? p.slice(0, 107) + '...' : p;
};
const sorted = [...rows.values()].sort((a, b) => short(a.name).localeCompare(short(b.name)) || a.arch.localeCompare(b.arch));
console.log('ptxas: kernel | arch | registers | smem bytes | stack bytes | spill stores/loads');
for (const r of sorted) console.log(`  ${short(r.name)} | ${r.arch} | ${r.regs} | ${r.smem} | ${r.stack} | ${r.spillStores}/${r.spillLoads}`);
const spills = sorted.filter((r) => r.spillStores > 0 || r.spillLoads > 0);
const kernels = new Set(sorted.map((r) => r.name)).size;
const archs = [...new Set(sorted.map((r) => r.arch))].sort();
console.log(`ptxas: ${kernels} kernels x ${archs.join(', ')}; ${spills.length} kernel/arch pairs spill`);
for (const r of spills) console.log(`  spills: ${short(r.name)} on ${r.arch}: ${r.spillStores} B stored, ${r.spillLoads} B loaded`);
