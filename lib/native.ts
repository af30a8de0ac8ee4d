/**
 * The one module that loads the native addon, and the types of its raw exports. Everything else
 * goes through the typed wrappers in engine.ts.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { XlamLoadError } from './errors.js';
import type { ByteGrammar } from './grammar/bytes.js';

export interface NativeLoadOptions {
  backend?: string;
  threads?: number;
  blockSize?: number;
  kvCacheTokens?: number;
  maxBatchTokens?: number;
  maxSequences?: number;
  computePriority?: 'idle' | 'low' | 'normal';
}

/** The public `EngineInfo`: the model's shape, the backend and the KV cache. */
export interface NativeEngineInfo {
  /**
   * The backend running the model: `'cpu'`, `'cpu-reference'`, `'cuda'` or `'cuda-emulated'`
   * (the CUDA kernels run by the CPU emulator; for tests).
   */
  backend: string;
  /**
   * Why the engine runs on the CPU although `backend: 'auto'` would have preferred CUDA, e.g.
   * `'CUDA not used: no NVIDIA driver: libcuda.so.1 cannot be loaded'`. Absent when nothing was
   * passed over.
   */
  backendNote?: string;
  /**
   * The kernel set the backend runs: for `'cpu'` the instruction set of its SIMD kernels
   * (`'amx'`, `'avx512'`, `'avx2'` or `'generic'`, the best this CPU has unless the `XLAM_CPU_ISA`
   * environment variable pins one at load), for `'cpu-reference'` `'reference'`, for the CUDA
   * backends the device's architecture and kernel family (`'sm_90 mma.sync'`).
   */
  kernels: string;
  /** config.json's `model_type`: `'llama'`, `'mistral'`, `'qwen2'` or `'mixtral'`. */
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  /** Transformer layers. */
  layers: number;
  /** Attention (query) heads. */
  heads: number;
  /** Key/value heads (fewer than `heads` with grouped-query attention). */
  kvHeads: number;
  headDim: number;
  /** Experts per layer of a mixture-of-experts model; 0 for a dense one. */
  experts: number;
  /** The model's context length (config.json's `max_position_embeddings`). */
  contextLength: number;
  /** KV-cache capacity in tokens (the `kvCacheTokens` option, rounded up to whole blocks). */
  kvCacheTokens: number;
  /** Tokens per KV-cache block. */
  blockSize: number;
  /** Weight tensors loaded. */
  weightTensors: number;
  /** Of those, how many are read in place from the memory-mapped files (no copy). */
  weightTensorsMapped: number;
  /** Bytes of all weight tensors as the backend holds them. */
  weightBytes: number;
  /** Token ids that end generation: generation_config.json's `eos_token_id`, else config.json's. */
  eosTokenIds: number[];
  /** The BOS token id, -1 when the model has none. */
  bosTokenId: number;
}

/** One request as the engine takes it (ranges are checked natively). */
export interface NativeRequest {
  promptIds: number[];
  maxTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  repetitionPenalty?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  logitBias?: Array<[number, number]>;
  seed?: number;
  stopIds?: number[];
  topLogprobs?: number;
  /**
   * The output must match this grammar (lib/grammar/bytes.ts): other tokens are masked, stop
   * ids are allowed only where it is complete, the request stops with `'stop'` when nothing can
   * follow, and bytes it forces are appended without sampling. Needs `setTokenBytes` first.
   */
  grammar?: ByteGrammar;
}

export interface NativeUsage {
  promptTokens: number;
  cachedPromptTokens: number;
  completionTokens: number;
}

/** One event of one request; the last has `finish` set (and `usage`). */
export interface NativeEvent {
  id: number;
  token: number; // -1: none
  topLogprobs?: Array<[number, number]>;
  finish: '' | 'stop' | 'length' | 'abort' | 'error';
  error?: { code: string; message: string };
  usage?: NativeUsage;
}

/**
 * The public `EngineStats`: scheduler and KV-cache counters, as of the engine's last step.
 * `running`, `waiting` and the `kvBlocks*` fields are current values; the others count since
 * the engine was loaded. An idle engine has `running`, `waiting` and `kvBlocksUsed` at 0.
 */
export interface NativeStats {
  /** Requests in the running batch (holding KV blocks), paused ones included. */
  running: number;
  /** Requests queued for KV blocks or a sequence slot (paused and preempted ones included). */
  waiting: number;
  /** Blocks in the KV cache (`kvCacheTokens / blockSize`). */
  kvBlocksTotal: number;
  /** Blocks held by requests now. */
  kvBlocksUsed: number;
  /** Blocks holding a full prompt-prefix block that later requests can reuse (in use or free; free ones stay until evicted). */
  kvBlocksCached: number;
  /** Prompt tokens served from the prefix cache instead of computed. */
  prefixCacheHitTokens: number;
  /** Prompt tokens computed (prefilled). */
  promptTokensComputed: number;
  /** Tokens generated over all requests. */
  generatedTokens: number;
  /** Engine steps (forward passes). */
  steps: number;
  /** Times a request gave its KV blocks back for lack of memory, to be recomputed later. */
  preemptions: number;
  /** Milliseconds spent in forward passes. */
  forwardMs: number;
  /** Milliseconds spent after them: sampling, grammar masks and bookkeeping. */
  sampleMs: number;
  /** Token masks computed for grammar-constrained requests. */
  grammarMasks: number;
  /** Milliseconds spent computing those masks. */
  grammarMaskMs: number;
  /** Per-position mask entries built by walking the vocabulary (the rest were cached). */
  grammarEntriesBuilt: number;
  /** Per-position mask entries found in the engine-wide cache, shared with earlier grammars. */
  grammarEntriesShared: number;
  /** Tokens appended without sampling because the grammar allowed only one continuation. */
  grammarForcedTokens: number;
}

export interface NativeEngine {
  /** Once: every event of every request, in batches (one call per engine step at most). */
  listen(listener: (events: NativeEvent[]) => void): void;
  /** Queues a request; throws a coded error when it is invalid. */
  submit(request: NativeRequest): number;
  cancel(id: number): void;
  /**
   * The vocabulary for grammar requests, once per engine: token i's bytes are
   * `data[offsets[i] .. offsets[i + 1])`; `allowed[i]` is 1 when a grammar may emit it (not a
   * special token, not empty). Checked now; later calls are ignored.
   */
  setTokenBytes(data: Uint8Array, offsets: Uint32Array, allowed: Uint8Array): void;
  pause(id: number): void;
  resume(id: number): void;
  stats(): NativeStats;
  info(): NativeEngineInfo;
  close(): void;
}

/** The native grammar matcher without a model, for tests and benchmarks (runs on the calling thread). */
export interface NativeGrammarSession {
  /** Feeds bytes: how many were taken before the first refused one, and the state after them. */
  matchBytes(grammar: ByteGrammar, bytes: Uint8Array): { accepted: number; complete: boolean; canContinue: boolean };
  /** 1 per token id the grammar allows after the prefix tokens (stop tokens are the caller's). */
  mask(grammar: ByteGrammar, prefixTokens?: number[]): Uint8Array;
  /** The tokens the grammar forces after the prefix (see the engine's forced continuations). */
  forced(grammar: ByteGrammar, prefixTokens?: number[]): number[];
  /** Computes the mask before each token and takes it: nanoseconds per mask. */
  replay(grammar: ByteGrammar, tokens: number[]): Float64Array;
  stats(): { masks: number; entriesBuilt: number; entriesShared: number; uncertainChecked: number; stateMaskHits: number; cacheBytes: number };
}

export interface NativeAddon {
  loadEngine(dir: string, options?: NativeLoadOptions): Promise<NativeEngine>;
  backendNames(): string[];
  GrammarSession: new (data: Uint8Array, offsets: Uint32Array, allowed: Uint8Array) => NativeGrammarSession;
}

/** The package root (dist/lib/native.js lives two levels below it). */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let addon: NativeAddon | undefined;

/** Loads the addon once: a prebuild from prebuilds/, else the local build in build/Release. */
export function native(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  try {
    const load = require('node-gyp-build') as (dir: string) => NativeAddon;
    addon = load(packageRoot);
  } catch (err) {
    throw new XlamLoadError(
      'ADDON_LOAD_FAILED',
      `xlam-engine: the native addon could not be loaded for ${process.platform}-${process.arch} ` +
        `(node ${process.version}). No prebuilt binary matched and no local build was found. ` +
        'Rebuild it with `npm rebuild xlam-engine` (needs CMake and a C++17 compiler) or ' +
        '`npm install xlam-engine --build-from-source` (node-gyp). Cause: ' +
        (err instanceof Error ? err.message : String(err)),
      { cause: err },
    );
  }
  return addon;
}
