// A coverage-guided fuzzer for the TypeScript targets (test/fuzz/targets), with libFuzzer's
// command-line shape. Jazzer.js cannot run here (4.0.0's prebuilt addon needs glibc 2.38, Debian
// bookworm has 2.36; 2.x downloads its addon from github.com at install), so this one runs the
// target in a worker thread, mutates inputs with ./mutate.ts and keeps those that run new library
// code (./coverage.ts); the main thread watches for hangs and memory blowups.
//
//   node dist/test/fuzz/fuzzer.js TARGET [-max_total_time=S] [-runs=N] [-seed=N] [-timeout=S]
//        [-merge=1] [-seed_inputs=1] [-artifact_prefix=P] CORPUS_DIR [MORE_DIRS...]
//
// New inputs go to the first directory (libFuzzer's convention). -merge=1 writes to the first
// directory the smallest subset of the other directories' inputs (and -seed_inputs=1: the
// target's seeds from the repository's fixtures) that covers what they all cover. An input that
// throws anything but the target's typed errors, runs longer than -timeout or exhausts memory is
// written to ARTIFACT_PREFIX{crash,timeout,oom}-SHA1 and the run exits 1.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

import { Coverage } from './coverage.js';
import { createMutator, prng } from './mutate.js';
import { loadTarget } from './targets/index.js';

interface Options {
  target: string;
  dirs: string[];
  maxTotalTime: number;
  runs: number;
  seed: number;
  timeoutMs: number;
  merge: boolean;
  seedInputs: boolean;
  artifactPrefix: string;
}

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

function parseArgs(argv: string[]): Options {
  const o: Options = { target: '', dirs: [], maxTotalTime: 0, runs: -1, seed: Date.now() >>> 0, timeoutMs: 2000, merge: false,
    seedInputs: false, artifactPrefix: './' };
  for (const a of argv) {
    const m = /^-(\w+)=(.*)$/.exec(a);
    if (!m) {
      if (!o.target) o.target = a;
      else o.dirs.push(a);
      continue;
    }
    const [, k, v] = m as unknown as [string, string, string];
    if (k === 'max_total_time') o.maxTotalTime = Number(v);
    else if (k === 'runs') o.runs = Number(v);
    else if (k === 'seed') o.seed = Number(v) >>> 0;
    else if (k === 'timeout') o.timeoutMs = Number(v) * 1000;
    else if (k === 'merge') o.merge = v === '1';
    else if (k === 'seed_inputs') o.seedInputs = v === '1';
    else if (k === 'artifact_prefix') o.artifactPrefix = v;
    else throw new Error(`unknown flag -${k}`);
  }
  if (!o.target || (o.merge && o.dirs.length < 1)) throw new Error('usage: fuzzer.js TARGET [-flags] CORPUS_DIR [DIRS...]');
  return o;
}

function readDir(dir: string): Buffer[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().map((f) => join(dir, f)).filter((p) => statSync(p).isFile()).map((p) => readFileSync(p));
}

// ---- main thread: the watchdog -------------------------------------------------------------

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  if (o.dirs[0]) mkdirSync(o.dirs[0], { recursive: true });
  const shared = new SharedArrayBuffer(8 + 4 * 1024 * 1024);
  const head = new Int32Array(shared, 0, 2); // [inputs run, length of the input running now or -1]
  head[1] = -1;
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { o, shared }, resourceLimits: { maxOldGenerationSizeMb: 2048 } });
  const current = () => Buffer.from(new Uint8Array(shared, 8, Math.max(0, Math.min(Atomics.load(head, 1), shared.byteLength - 8))));
  const artifact = (kind: string, input: Buffer, why: string) => {
    const path = `${o.artifactPrefix}${kind}-${sha1(input)}`;
    writeFileSync(path, input);
    console.error(`==fuzz== ${kind} in ${o.target}: ${why}\n==fuzz== input (${input.length} bytes) written to ${path}`);
  };
  let done = false;
  let last = -1, since = Date.now();
  const timer = setInterval(() => {
    if (done) return;
    const n = Atomics.load(head, 0);
    if (n !== last || Atomics.load(head, 1) < 0) {
      last = n;
      since = Date.now();
    } else if (Date.now() - since > o.timeoutMs) {
      done = true;
      artifact('timeout', current(), `one input ran more than ${o.timeoutMs} ms`);
      void worker.terminate().then(() => process.exit(1));
    }
  }, 100);
  worker.on('message', (m: { kind: 'crash'; input: Uint8Array; error: string } | { kind: 'log'; line: string }) => {
    if (m.kind === 'log') console.log(m.line);
    else {
      done = true;
      artifact('crash', Buffer.from(m.input), m.error);
    }
  });
  worker.on('error', (err: Error & { code?: string }) => {
    done = true;
    clearInterval(timer);
    artifact(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'oom' : 'crash', current(), err.stack ?? String(err));
    process.exit(1);
  });
  worker.on('exit', (code) => {
    clearInterval(timer);
    process.exit(done || code !== 0 ? 1 : 0);
  });
}

// ---- worker: the fuzz loop -----------------------------------------------------------------

async function work(): Promise<void> {
  const { o, shared } = workerData as { o: Options; shared: SharedArrayBuffer };
  const log = (line: string) => parentPort!.postMessage({ kind: 'log', line });
  const head = new Int32Array(shared, 0, 2);
  const area = new Uint8Array(shared, 8);
  const target = await loadTarget(o.target);
  const cov = new Coverage((url) => url.includes('/dist/lib/') || url.includes('/node_modules/@huggingface/') || url.includes('/node_modules/zod/'));
  const rng = prng(o.seed);
  const mutator = createMutator(rng, target.dict, target.json);
  let runs = 0;

  /** Runs one input; false after reporting a finding. */
  async function exec(input: Buffer): Promise<boolean> {
    area.set(input.subarray(0, area.length));
    Atomics.store(head, 1, input.length);
    try {
      await target.run(input);
    } catch (err) {
      if (!target.expected(err)) {
        parentPort!.postMessage({ kind: 'crash', input, error: err instanceof Error ? err.stack ?? err.message : String(err) });
        return false;
      }
    }
    Atomics.store(head, 1, -1);
    Atomics.add(head, 0, 1);
    runs++;
    return true;
  }

  /** Runs one input alone; its coverage features, or undefined after reporting a finding. */
  async function run(input: Buffer): Promise<Set<string> | undefined> {
    cov.reset();
    return (await exec(input)) ? cov.take() : undefined;
  }

  let inputs = o.dirs.flatMap(readDir);
  if (o.seedInputs) inputs = [...target.seeds(), ...inputs];
  const start = Date.now();
  if (o.merge) {
    // The smallest first, each kept when it covers something the kept ones do not.
    const existing = new Set(readDir(o.dirs[0]!).map(sha1));
    const candidates = [...new Map(inputs.map((b) => [sha1(b), b])).values()].filter((b) => b.length <= target.maxLen)
      .sort((a, b) => a.length - b.length);
    let kept = 0, bytes = 0;
    for (const b of candidates) {
      const f = await run(b);
      if (!f) return;
      if (cov.merge(f)) {
        kept++;
        bytes += b.length;
        if (!existing.has(sha1(b))) writeFileSync(join(o.dirs[0]!, sha1(b)), b);
      }
    }
    log(`MERGE: ${candidates.length} inputs, kept ${kept} (${bytes} bytes), ${cov.seen.size} features`);
    return;
  }

  const corpus: Buffer[] = [];
  for (const b of inputs) {
    const f = await run(b);
    if (!f) return;
    if (cov.merge(f) || corpus.length === 0) corpus.push(b);
  }
  if (corpus.length === 0) corpus.push(Buffer.alloc(0));
  log(`INITED ${o.target}: ${inputs.length} inputs, corpus ${corpus.length}, ${cov.seen.size} features, seed ${o.seed}`);
  let lastLog = Date.now();
  const out = o.dirs[0];
  // Coverage is taken once per batch of inputs (taking it costs more than most inputs); a batch
  // that covers something new is run again one input at a time to find which ones do.
  const BATCH = 16;
  const keep = (input: Buffer) => {
    corpus.push(input);
    if (out) writeFileSync(join(out, sha1(input)), input);
  };
  while ((o.maxTotalTime <= 0 || Date.now() - start < o.maxTotalTime * 1000) && (o.runs < 0 || runs < o.runs)) {
    const batch: Buffer[] = [];
    cov.reset();
    for (let i = 0; i < BATCH; ++i) {
      const base = corpus[Math.floor(rng() * corpus.length)]!;
      const other = corpus[Math.floor(rng() * corpus.length)];
      const input = mutator.mutate(base, other, target.maxLen);
      if (!(await exec(input))) return;
      batch.push(input);
    }
    const union = cov.take();
    if ([...union].some((f) => !cov.seen.has(f))) {
      for (const input of batch) {
        const f = await run(input);
        if (!f) return;
        if (cov.merge(f)) keep(input);
      }
      cov.merge(union); // what only the batch as a whole covered (an input that behaves differently the second time)
    }
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      log(`#${runs} cov: ${cov.seen.size} corp: ${corpus.length} exec/s: ${Math.round(runs / ((Date.now() - start) / 1000))}`);
    }
  }
  const secs = (Date.now() - start) / 1000;
  log(`DONE ${o.target}: ${runs} runs in ${secs.toFixed(0)} s (${Math.round(runs / secs)} exec/s), ${cov.seen.size} features, corpus ${corpus.length}, no findings`);
}

if (isMainThread) main();
else await work();
