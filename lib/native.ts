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
}

export interface NativeGenerateOptions {
  maxTokens?: number;
  topLogprobs?: number;
  stopIds?: number[];
}

export interface NativeGenerateResult {
  tokens: number[];
  topLogprobs: Array<Array<[number, number]>>;
  finishReason: 'length' | 'stop';
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

export interface NativeEngine {
  generateTokens(promptIds: number[] | Int32Array, options?: NativeGenerateOptions): Promise<NativeGenerateResult>;
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
