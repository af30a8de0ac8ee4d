/**
 * The public Engine: load a Hugging Face model folder and generate from it.
 *
 * @example
 * ```ts
 * import { Engine } from 'xlam-engine';
 * const engine = await Engine.load('./xLAM-2-1b-fc-r');
 * const { tokens } = await engine.generateTokens([151644, 872], { maxTokens: 8 });
 * await engine.close();
 * ```
 */
import { z } from 'zod';

import { fromNative, XlamEngineClosedError, XlamInvalidArgumentError } from './errors.js';
import { native, type NativeEngine, type NativeEngineInfo } from './native.js';

/** Options of {@link Engine.load}. */
export const LoadOptionsSchema = z
  .object({
    /**
     * Which compute backend runs the model: `'cpu'` (fast paths on every core) or
     * `'cpu-reference'` (plain reference loops on one thread; slow, for checking).
     * @example 'cpu'
     * Defaults to `'cpu'`.
     */
    backend: z.enum(['cpu', 'cpu-reference']).default('cpu'),
    /**
     * Worker threads for the CPU backend; 0 uses every hardware thread.
     * @example 2
     * Defaults to `0`.
     */
    threads: z.number().int().min(0).max(1024).default(0),
    /**
     * Tokens per KV-cache block.
     * @example 16
     * Defaults to `16`.
     */
    blockSize: z.number().int().min(1).max(1024).default(16),
    /**
     * KV-cache capacity in tokens; 0 means min(context length, 4096).
     * @example 8192
     * Defaults to `0`.
     */
    kvCacheTokens: z.number().int().min(0).max(2 ** 31).default(0),
    /**
     * Most tokens computed in one forward pass (the prefill chunk size).
     * @example 512
     * Defaults to `512`.
     */
    maxBatchTokens: z.number().int().min(1).max(1 << 20).default(512),
  })
  .strict();

export type LoadOptions = z.input<typeof LoadOptionsSchema>;

/** Options of {@link Engine.generateTokens}. */
export const GenerateTokensOptionsSchema = z
  .object({
    /**
     * Tokens to generate.
     * @example 32
     * Defaults to `16`.
     */
    maxTokens: z.number().int().min(0).max(1 << 24).default(16),
    /**
     * Per step, how many of the most likely tokens to report with their log-probabilities.
     * @example 5
     * Defaults to `0`.
     */
    topLogprobs: z.number().int().min(0).max(100).default(0),
    /**
     * Stop after generating one of these token ids (it is included in `tokens`). Empty: never
     * stop early.
     * @example [151645]
     * Defaults to `[]`.
     */
    stopTokenIds: z.array(z.number().int().min(0).max(2 ** 31 - 1)).default([]),
  })
  .strict();

export type GenerateTokensOptions = z.input<typeof GenerateTokensOptionsSchema>;

const PromptIdsSchema = z.array(z.number().int().min(0).max(2 ** 31 - 1)).min(1, 'the prompt is empty');

/** One decoding step's most likely tokens: `[tokenId, logprob]` pairs, best first. */
export type TopLogprobs = Array<[number, number]>;

export interface GenerateTokensResult {
  /** Generated token ids. */
  tokens: number[];
  /** Per step, the `topLogprobs` best `[id, logprob]` pairs of the log-softmax (empty when 0). */
  topLogprobs: TopLogprobs[];
  /** `'length'` when maxTokens was reached, `'stop'` when a stop token was generated. */
  finishReason: 'length' | 'stop';
}

export type EngineInfo = NativeEngineInfo;

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue && issue.path.length ? `${what}.${issue.path.join('.')}` : what;
    throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `${path}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}

export class Engine {
  #native: NativeEngine | undefined;

  private constructor(handle: NativeEngine) {
    this.#native = handle;
  }

  /**
   * Loads a model folder (config.json, *.safetensors, tokenizer files). Weights are memory-mapped
   * where their dtype allows. Runs off the event loop.
   * @throws {XlamModelFormatError} when the folder or a file is missing or malformed.
   */
  static async load(path: string, options: LoadOptions = {}): Promise<Engine> {
    if (typeof path !== 'string' || path.length === 0)
      throw new XlamInvalidArgumentError('INVALID_ARGUMENT', 'path: expected a model folder path');
    const opts = parse(LoadOptionsSchema, options, 'options');
    try {
      return new Engine(await native().loadEngine(path, opts));
    } catch (err) {
      throw fromNative(err);
    }
  }

  /**
   * Greedy decoding from prompt token ids (low level: no tokenizer, no template).
   * @example `await engine.generateTokens([1, 2, 3], { maxTokens: 8, topLogprobs: 5 })`
   */
  async generateTokens(promptIds: readonly number[], options: GenerateTokensOptions = {}): Promise<GenerateTokensResult> {
    const handle = this.#handle();
    const ids = parse(PromptIdsSchema, promptIds, 'promptIds');
    const opts = parse(GenerateTokensOptionsSchema, options, 'options');
    try {
      return await handle.generateTokens(ids, {
        maxTokens: opts.maxTokens,
        topLogprobs: opts.topLogprobs,
        stopIds: opts.stopTokenIds,
      });
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** Model shape, backend and memory facts. */
  info(): EngineInfo {
    try {
      return this.#handle().info();
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** Releases the model. Calls already running finish first; later calls throw. */
  async close(): Promise<void> {
    this.#native?.close();
    this.#native = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #handle(): NativeEngine {
    if (!this.#native) throw new XlamEngineClosedError('ENGINE_CLOSED', 'the engine is closed');
    return this.#native;
  }
}
