/**
 * The one module that loads the native addon, and the types of its raw exports. Everything else
 * goes through the typed wrappers in engine.ts.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { XlamLoadError } from './errors.js';

export interface NativeLoadOptions {
  backend?: string;
  threads?: number;
  blockSize?: number;
  kvCacheTokens?: number;
  maxBatchTokens?: number;
  maxSequences?: number;
  computePriority?: 'idle' | 'low' | 'normal';
}

export interface NativeEngineInfo {
  backend: string;
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  experts: number;
  contextLength: number;
  kvCacheTokens: number;
  blockSize: number;
  weightTensors: number;
  weightTensorsMapped: number;
  weightBytes: number;
  eosTokenIds: number[];
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

export interface NativeStats {
  running: number;
  waiting: number;
  kvBlocksTotal: number;
  kvBlocksUsed: number;
  kvBlocksCached: number;
  prefixCacheHitTokens: number;
  promptTokensComputed: number;
  generatedTokens: number;
  steps: number;
  preemptions: number;
}

export interface NativeEngine {
  /** Once: every event of every request, in batches (one call per engine step at most). */
  listen(listener: (events: NativeEvent[]) => void): void;
  /** Queues a request; throws a coded error when it is invalid. */
  submit(request: NativeRequest): number;
  cancel(id: number): void;
  pause(id: number): void;
  resume(id: number): void;
  stats(): NativeStats;
  info(): NativeEngineInfo;
  close(): void;
}

export interface NativeAddon {
  loadEngine(dir: string, options?: NativeLoadOptions): Promise<NativeEngine>;
  backendNames(): string[];
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
