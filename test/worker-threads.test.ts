// The Engine inside worker_threads: a Worker's engine gives the main thread's tokens, Workers
// generate side by side, and a Worker that is terminated mid-generation, exits, or ends with its
// engine loaded neither crashes nor hangs the process; four Workers load engines at once and two
// are terminated mid-generation while the other two finish.
import { Worker } from 'node:worker_threads';
import t from 'tap';

import { Engine, type GenerateRequest } from '../dist/lib/index.js';
import { fixturePath } from './helpers/fixtures.js';

const MODEL = fixturePath('mistral-f32'); // the smallest tokenizer: each Worker loads its own
const WORKER = new URL('./helpers/engine-worker.mjs', import.meta.url);

type Task = 'generate' | 'stream' | 'exit' | 'idle';
type WorkerMessage = { type: 'loading' } | { type: 'loaded' } | { type: 'text' } | { type: 'tokens'; tokens: number[][] };

const requests: GenerateRequest[] = [
  { promptTokens: [1, 2, 3], maxTokens: 24, temperature: 0, ignoreEos: true },
  { promptTokens: Array.from({ length: 40 }, (_, i) => 1000 + i * 37), maxTokens: 16, temperature: 0, ignoreEos: true },
  { promptTokens: [7, 8], maxTokens: 20, temperature: 0.9, topP: 0.95, seed: 42, ignoreEos: true },
];
/** Long enough that the parent always stops it first (the fixture's context is 2048). */
const longRequest: GenerateRequest = { promptTokens: [5, 6, 7], maxTokens: 2000, ignoreEos: true };

/** Starts a Worker on one task; `exit` resolves with its exit code, or rejects after 60 s. */
function startWorker(task: Task, reqs: GenerateRequest[], onMessage: (m: WorkerMessage, w: Worker) => void = () => {}) {
  // execArgv: [] keeps the test runner's loaders out of the Worker (a plain .mjs needs none).
  const worker = new Worker(WORKER, { workerData: { model: MODEL, task, requests: reqs }, execArgv: [] });
  const errors: unknown[] = [];
  worker.on('message', (m: WorkerMessage) => onMessage(m, worker));
  worker.on('error', (e) => errors.push(e));
  const exit = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${task} Worker did not exit within 60 s`)), 60_000);
    worker.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  return { worker, errors, exit };
}

/**
 * Runs `generate` Workers, one per batch, to their end; resolves with each one's tokens. They
 * start generating together, once every one has loaded its engine.
 */
async function tokensInWorkers(batches: GenerateRequest[][]): Promise<number[][][]> {
  let loaded = 0;
  const tokens: Array<number[][] | undefined> = [];
  const workers = batches.map((reqs, i) =>
    startWorker('generate', reqs, (m) => {
      if (m.type === 'loaded' && ++loaded === batches.length) for (const w of workers) w.worker.postMessage('go');
      if (m.type === 'tokens') tokens[i] = m.tokens;
    }),
  );
  return Promise.all(
    workers.map(async (w, i) => {
      const code = await w.exit;
      if (code !== 0 || w.errors.length > 0 || !tokens[i]) throw new Error(`Worker ${i} failed (exit ${code}): ${String(w.errors[0])}`);
      return tokens[i]!;
    }),
  );
}

const tokensInWorker = async (reqs: GenerateRequest[]) => (await tokensInWorkers([reqs]))[0]!;

async function tokensInMain(reqs: GenerateRequest[]): Promise<number[][]> {
  const engine = await Engine.load(MODEL);
  try {
    return (await Promise.all(reqs.map((r) => engine.generate(r)))).map((r) => r.tokenIds);
  } finally {
    await engine.close();
  }
}

t.test('an engine in a Worker gives the tokens of one in the main thread', async (t) => {
  const main = await tokensInMain(requests);
  t.same(await tokensInWorker(requests), main);
});

t.test('two Workers generating at the same time both give the right tokens', async (t) => {
  const longer = requests.map((r) => ({ ...r, maxTokens: 64 }));
  const main = await tokensInMain(longer);
  const [a, b] = await tokensInWorkers([longer, [...longer].reverse()]);
  t.same(a, main, 'first Worker');
  t.same(b, [...main].reverse(), 'second Worker');
});

t.test('terminate() mid-generation neither crashes nor hangs, and the main thread still generates', async (t) => {
  // Repeated, with the termination at varying points of the engine's step, since the race it
  // guards against (a delivery to a Worker whose JS has been stopped) is timing-dependent.
  for (let i = 0; i < 8; i++) {
    let texts = 0;
    const w = startWorker('stream', [longRequest], (m, worker) => {
      if (m.type === 'text' && ++texts === 3) setTimeout(() => void worker.terminate(), i % 4);
    });
    t.equal(await w.exit, 1, `run ${i}: terminated`);
    t.same(w.errors, [], `run ${i}: no error in the Worker`);
    t.ok(texts >= 3, `run ${i}: it was generating`);
  }
  t.same(await tokensInMain(requests), await tokensInWorker(requests), 'engines still load and generate');
});

t.test('terminate() while the Worker loads its engine', async (t) => {
  for (const delay of [0, 2, 10]) {
    const w = startWorker('idle', [], (m, worker) => {
      if (m.type === 'loading') setTimeout(() => void worker.terminate(), delay);
    });
    const code = await w.exit; // 0 when the Worker was done before terminate() reached it
    t.ok(code === 1 || code === 0, `terminated ${delay} ms into Engine.load (exit ${code})`);
    t.same(w.errors, []);
  }
});

t.test('a Worker that exits or ends without close() neither crashes nor hangs', async (t) => {
  const exited = startWorker('exit', [longRequest]);
  t.equal(await exited.exit, 0, 'process.exit() mid-generation');
  t.same(exited.errors, []);
  let loaded = false;
  const idle = startWorker('idle', [], (m) => (loaded ||= m.type === 'loaded'));
  t.equal(await idle.exit, 0, 'ended with an idle engine (its event loop is not kept alive)');
  t.ok(loaded);
  t.same(await tokensInMain(requests.slice(0, 1)), await tokensInWorker(requests.slice(0, 1)), 'engines still generate');
});

t.test('four Workers load engines at once; two are terminated mid-generation, the other two give the right tokens', async (t) => {
  const main = await tokensInMain(requests);
  let loaded = 0;
  const tokens: Array<number[][] | undefined> = [];
  const texts = [0, 0];
  const onLoaded = () => {
    if (++loaded === 4) for (const s of survivors) s.worker.postMessage('go');
  };
  // All four start (and load their engines) together; the two 'stream' ones generate as soon
  // as they have loaded and are terminated after their third text event.
  const survivors = [0, 1].map((i) =>
    startWorker('generate', requests, (m) => {
      if (m.type === 'loaded') onLoaded();
      if (m.type === 'tokens') tokens[i] = m.tokens;
    }),
  );
  const doomed = [0, 1].map((i) =>
    startWorker('stream', [longRequest], (m, w) => {
      if (m.type === 'loaded') onLoaded();
      if (m.type === 'text' && ++texts[i]! === 3) void w.terminate();
    }),
  );
  for (const [i, w] of doomed.entries()) {
    t.equal(await w.exit, 1, `stream Worker ${i}: terminated`);
    t.same(w.errors, [], `stream Worker ${i}: no error`);
    t.ok(texts[i]! >= 3, `stream Worker ${i} was generating`);
  }
  for (const [i, w] of survivors.entries()) {
    t.equal(await w.exit, 0, `generate Worker ${i}: exit 0`);
    t.same(w.errors, [], `generate Worker ${i}: no error`);
    t.same(tokens[i], main, `generate Worker ${i}: the main thread's tokens`);
  }
});
