/**
 * Renders prompts in a worker thread (RELIABILITY.md §3.5): a chat template is code from a
 * model folder, so it runs off the host's event loop, under the render budget, in a V8 heap of
 * its own with a memory cap, and a render that does not end in time has its worker terminated.
 * Jobs run one at a time; the worker is started on first use and replaced after a failure.
 */
import { Worker } from 'node:worker_threads';

import { XlamEngineClosedError, XlamInvalidArgumentError, type XlamError } from '../../errors.js';
import type { GuardedPrompt } from '../caller-text.js';
import { XlamTemplateError } from '../errors.js';
import type { RenderJob } from './job.js';
import { errorFromData, type ErrorData } from './wire.js';

/** Options of a {@link RenderSandbox}. */
export interface RenderSandboxOptions {
  /** The worker's V8 old-generation cap, in MiB. Default 256. */
  memoryMb?: number;
  /** Time allowed beyond the job's `budget.maxTimeMs` before the worker is terminated. Default 1,000 ms. */
  graceMs?: number;
}

interface Pending {
  id: number;
  job: RenderJob;
  resolve: (v: GuardedPrompt) => void;
  reject: (e: XlamError) => void;
}

type Reply = { ready: true } | { id: number; ok: true; value: GuardedPrompt } | { id: number; ok: false; error: ErrorData };

export class RenderSandbox {
  #worker: Worker | undefined;
  /** Whether #worker has loaded its modules (the time limit of a job starts then). */
  #ready = false;
  #queue: Pending[] = [];
  #running: (Pending & { timer: NodeJS.Timeout }) | undefined;
  #nextId = 1;
  #closed = false;
  readonly #memoryMb: number;
  readonly #graceMs: number;

  constructor(options: RenderSandboxOptions = {}) {
    this.#memoryMb = options.memoryMb ?? 256;
    this.#graceMs = options.graceMs ?? 1_000;
  }

  /** Renders a job in the worker. Rejects with the job's typed error. */
  render(job: RenderJob): Promise<GuardedPrompt> {
    if (this.#closed) return Promise.reject(new XlamEngineClosedError('ENGINE_CLOSED', 'the prompt renderer is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, job, resolve, reject });
      this.#pump();
    });
  }

  /** Stops the worker; queued and running renders reject with `ENGINE_CLOSED`. */
  async close(): Promise<void> {
    this.#closed = true;
    const closed = new XlamEngineClosedError('ENGINE_CLOSED', 'the prompt renderer was closed');
    for (const p of this.#queue.splice(0)) p.reject(closed);
    this.#finish()?.reject(closed);
    const w = this.#worker;
    this.#worker = undefined;
    this.#ready = false;
    if (w) await w.terminate();
  }

  #start(): Worker {
    const w = new Worker(new URL('./worker.js', import.meta.url), {
      execArgv: [], // not the host's loaders or flags: the worker runs our compiled JavaScript only
      resourceLimits: { maxOldGenerationSizeMb: this.#memoryMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    });
    w.on('message', (reply: Reply) => {
      if ('ready' in reply) {
        if (this.#worker === w) (this.#ready = true), this.#pump();
        return;
      }
      if (reply.id !== this.#running?.id) return;
      const p = this.#finish()!;
      if (reply.ok) p.resolve(reply.value);
      else p.reject(errorFromData(reply.error));
      this.#pump();
    });
    w.on('error', (err: Error & { code?: string }) => this.#lose(w, err.code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? new XlamTemplateError('TEMPLATE_BUDGET', `chat template exceeded its budget: the render needed more than ${this.#memoryMb} MiB`)
      : new XlamTemplateError('TEMPLATE_RENDER', `the render worker failed: ${err.message}`)));
    w.on('exit', (code) => this.#lose(w, new XlamTemplateError('TEMPLATE_RENDER', `the render worker exited (code ${code})`)));
    return w;
  }

  /**
   * The worker `w` is gone or must go: fail the running job with `err` (or, when the worker died
   * before it was ready, the first queued job: a worker that cannot start is not retried for
   * ever), then start afresh for the rest.
   */
  #lose(w: Worker, err: XlamError): void {
    if (this.#worker !== w) return;
    const started = this.#ready;
    this.#worker = undefined;
    this.#ready = false;
    void w.terminate();
    const failed = this.#finish() ?? (started ? undefined : this.#queue.shift());
    failed?.reject(err);
    this.#pump();
  }

  #finish(): Pending | undefined {
    const p = this.#running;
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.#running = undefined;
    if (this.#queue.length === 0) this.#worker?.unref();
    return p;
  }

  #pump(): void {
    if (this.#running || this.#closed || this.#queue.length === 0) return;
    const w = (this.#worker ??= this.#start());
    w.ref();
    if (!this.#ready) return; // the 'ready' message pumps again
    const p = this.#queue.shift()!;
    const limit = p.job.budget.maxTimeMs + this.#graceMs;
    const timer = setTimeout(() => this.#lose(w, new XlamTemplateError('TEMPLATE_BUDGET',
      `chat template exceeded its budget: the render worker did not answer within ${limit} ms`)), limit);
    this.#running = { ...p, timer };
    try {
      w.postMessage({ id: p.id, job: p.job });
    } catch (err) {
      // Not structured-cloneable (a function or symbol in the data): the request is at fault.
      this.#finish()!.reject(new XlamInvalidArgumentError('INVALID_ARGUMENT',
        `messages, tools or context hold a value that is not plain data: ${(err as Error).message}`, { cause: err }));
      this.#pump();
    }
  }
}
