// The build files and the dependency direction: lib -> binding -> engine -> backend interface
// <- cpu, cuda. One source list (sources.json) feeds CMakeLists.txt and binding.gyp.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';

import { repoRoot } from './helpers/fixtures.js';

const read = (p: string) => readFileSync(join(repoRoot, p), 'utf8');
const sources = JSON.parse(read('sources.json')) as Record<string, string[] | string>;
const list = (k: string) => sources[k] as string[];

function files(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p, re));
    else if (re.test(e.name)) out.push(p);
  }
  return out.sort();
}

t.test('sources.json lists every C++ source exactly once', async (t) => {
  const listed = [...list('engine'), ...list('cpu'), ...list('binding'), ...list('tests'), ...list('fuzz')];
  t.equal(new Set(listed).size, listed.length, 'no duplicates');
  t.same([...listed].sort(), files('native', /\.cc$/), 'every native/**/*.cc, nothing else');
  t.ok(list('engine').every((f) => f.startsWith('native/src/')));
  t.ok(list('cpu').every((f) => f.startsWith('native/cpu/')));
  t.ok(list('binding').every((f) => f.startsWith('native/binding/')));
  t.ok(list('fuzz').every((f) => /^native\/fuzz\/fuzz-[a-z-]+\.cc$/.test(f)), 'libFuzzer targets are native/fuzz/fuzz-NAME.cc');
  for (const f of list('fuzz')) {
    const name = /fuzz-([a-z-]+)\.cc$/.exec(f)![1]!;
    t.ok(files('test/fuzz/corpus', /.*/).some((p) => p.startsWith(`test/fuzz/corpus/${name}/`)), `${name} has a committed corpus`);
  }
});

t.test('sources.json lists every CUDA source exactly once', async (t) => {
  const groups = ['cuda-kernels', 'cuda-host', 'cuda-emu', 'cuda-emu-tests', 'cuda-tests', 'cuda-bench'];
  const listed = groups.flatMap((g) => list(g) ?? []).filter((f) => f.startsWith('cuda/'));
  t.equal(new Set(listed).size, listed.length, 'no duplicates');
  t.same([...listed].sort(), files('cuda', /\.(cc|cu)$/), 'every cuda/**/*.{cc,cu}, nothing else');
  t.ok(list('cuda-kernels').every((f) => /^cuda\/[a-z0-9-]+\.cu$/.test(f)), 'kernels are cuda/NAME.cu');
  t.ok(list('cuda-host').every((f) => /^cuda\/[a-z0-9-]+\.cc$/.test(f)), 'host code is cuda/NAME.cc');
  t.ok(list('cuda-emu').every((f) => f.startsWith('cuda/emu/')), 'the emulator lives in cuda/emu/');
  // One op per file, named as the CPU backend's (cpu/X.cc <-> cuda/X.cu, or cuda/X-PART.cu).
  for (const f of list('cuda-kernels')) {
    const stem = /^cuda\/([a-z0-9-]+)\.cu$/.exec(f)![1]!;
    const cpu = list('cpu').map((c) => /native\/cpu\/([a-z0-9-]+)\.cc$/.exec(c)![1]!);
    t.ok(cpu.some((c) => stem === c || stem.startsWith(`${c}-`)), `${f} is named after a CPU op file`);
  }
});

t.test('CUDA kernels follow the emulation rules (shared/CUDA-EMULATION.md 9.3)', async (t) => {
  const kernelFiles = files('cuda', /\.(cu|cuh|h)$/).filter((f) => !f.startsWith('cuda/emu/') && !f.startsWith('cuda/tests/'));
  for (const f of kernelFiles) {
    const code = read(f).replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    if (f !== 'cuda/common/gpu-compat.h') {
      t.notMatch(code, /<<</, `${f}: launches only through gpu::launch`);
      t.notMatch(code, /extern\s+__shared__/, `${f}: dynamic shared memory only through CUDA_DYNAMIC_SHARED`);
    }
    if (f !== 'cuda/common/ptx.cuh') t.notMatch(code, /\basm\b|__asm__/, `${f}: no inline PTX outside the one-instruction wrappers of ptx.cuh`);
  }
  // Every PTX wrapper has an emulated twin.
  const ptx = read('cuda/common/ptx.cuh');
  const emu = files('cuda/emu', /\.(h|cc)$/).filter((f) => !f.startsWith('cuda/emu/tests/')).map(read).join('\n');
  const twins = [...ptx.matchAll(/cuda_emu::ptx::(\w+)/g)].map((m) => m[1]!);
  t.ok(twins.length > 0, 'ptx.cuh names its twins');
  for (const name of twins) t.match(emu, new RegExp(`namespace (?:cuda_emu::)?ptx\\b[\\s\\S]*\\b${name}\\s*\\(`), `cuda/emu defines the twin of ${name}`);
});

t.test('CMakeLists.txt and binding.gyp take their sources from sources.json', async (t) => {
  const cmake = read('CMakeLists.txt');
  const gyp = read('binding.gyp');
  t.match(cmake, /sources\.json/);
  t.notMatch(cmake, /\.cc\b/, 'no inline source list in CMakeLists.txt');
  t.notMatch(gyp.replace(/^#.*$/gm, ''), /\.cc\b/, 'no inline source list in binding.gyp');
  // The gyp expansion yields the addon sources, as CMake's engine + cpu + binding groups.
  const cmd = /<!@\(node -p \\"(.*)\\"\)/.exec(gyp)?.[1];
  t.ok(cmd, 'binding.gyp expands the list with node');
  const expanded = execFileSync(process.execPath, ['-p', cmd!.replace(/\\'/g, "'")], { cwd: repoRoot, encoding: 'utf8' })
    .trim()
    .split(/\s+/);
  t.same(expanded, [...list('engine'), ...list('cpu'), ...list('binding')]);
  for (const group of ['engine', 'cpu', 'binding', 'tests', 'fuzz']) t.match(cmake, new RegExp(`xlam_sources\\(${group} `));
});

function includes(file: string): string[] {
  return [...read(file).matchAll(/^\s*#\s*include\s*[<"]([^>"]+)[>"]/gm)].map((m) => m[1]!);
}

t.test('native dependencies point one way', async (t) => {
  const cxx = /\.(cc|h|cu|cuh)$/;
  for (const f of files('native/src', cxx)) {
    for (const inc of includes(f)) {
      t.notMatch(inc, /napi|node_api|\.\.\/(cpu|binding)\/|cuda/, `${f} includes ${inc}: the engine knows no Node, CPU backend or CUDA`);
    }
  }
  for (const f of files('native/cpu', cxx)) {
    for (const inc of includes(f)) t.notMatch(inc, /napi|node_api|binding\/|cuda/, `${f} includes ${inc}`);
  }
  // The CUDA backend sees the engine's backend interface only; its tests also use the CPU oracle.
  for (const f of files('cuda', cxx).filter((f) => !f.startsWith('cuda/tests/') && !f.startsWith('cuda/emu/'))) {
    for (const inc of includes(f)) t.notMatch(inc, /napi|node_api|binding\/|native\/cpu\//, `${f} includes ${inc}`);
  }
  for (const f of files('cuda/emu', cxx).filter((f) => !f.startsWith('cuda/emu/tests/'))) {
    for (const inc of includes(f)) t.notMatch(inc, /native\//, `${f} includes ${inc}: the emulator knows nothing of the engine`);
  }
  const napiUsers = files('native', cxx).filter((f) => includes(f).some((i) => /^napi\.h$|node_api/.test(i)));
  t.ok(napiUsers.length > 0 && napiUsers.every((f) => relative('native', f).startsWith('binding/')), 'only native/binding includes napi.h');
});

t.test('only lib/native.ts loads the addon', async (t) => {
  for (const f of files('lib', /\.ts$/)) {
    const text = read(f);
    const loads = /node-gyp-build|\.node['"]|process\.dlopen/.test(text);
    t.equal(loads, f === 'lib/native.ts', f);
  }
});

t.test('nothing reachable from file or request data can abort the host process', async (t) => {
  // shared/RELIABILITY.md §7.5 rule 2: the engine reports failures as statuses and typed errors.
  // No abort / assert / exit / terminate / trap in the addon's sources (the native tests' own
  // harness may do as it likes), and no process.exit or process.abort in the library (the CLI
  // sets process.exitCode).
  const native = [...list('engine'), ...list('cpu'), ...list('binding'), ...list('cuda-kernels'), ...list('cuda-host'), ...files('native', /\.h$/).filter((f) => !f.startsWith('native/tests/'))];
  const forbidden = /\b(?:std::)?(?:abort|assert|exit|_Exit|quick_exit|terminate)\s*\(|__builtin_trap|\bNAPI_FATAL|Napi::Error::Fatal|napi_fatal_error/;
  for (const f of native) {
    const code = read(f).replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    t.notMatch(code, forbidden, `${f}: no abort, assert, exit, terminate or trap`);
  }
  for (const f of files('lib', /\.ts$/)) {
    const code = read(f).replace(/\/\/.*$/gm, '');
    t.notMatch(code, /\bprocess\.(?:exit|abort|reallyExit)\s*\(/, `${f}: no process.exit or process.abort`);
  }
});
