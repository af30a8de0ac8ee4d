/**
 * The options of the Engine's calls and how their arguments are parsed: `Engine.load`'s
 * {@link LoadOptionsSchema}, `generateTokens`' {@link GenerateTokensOptionsSchema} and prompt ids,
 * and the request of `generate` / `stream` / `callTools` / `renderPrompt` (id lists cut at their
 * first bad entry before zod sees them).
 */
import { z } from 'zod';

import { GenerateRequestSchema, type ParsedGenerateRequest } from './serving/request.js';
import { parseArgument } from './validate.js';

/** Options of {@link Engine.load}. */
export const LoadOptionsSchema = z
  .object({
    /**
     * Which compute backend runs the model:
     * - `'auto'`: CUDA when the CUDA library finds an NVIDIA GPU of compute capability 7.5 or
     *   newer and a driver, else the CPU; `engine.info().backendNote` then says why not CUDA.
     * - `'cpu'`: fast paths on every core.
     * - `'cpu-reference'`: plain reference loops on one thread; slow, for checking results.
     * - `'cuda'`: the GPU, or {@link XlamBackendUnavailableError} saying why not.
     * - `'cuda-emulated'`: the CUDA kernels run by a CPU emulator of the GPU; very slow, for
     *   testing the kernels on machines without a GPU (built with the tests).
     * @example `{ backend: 'cpu-reference' }`
     * @defaultValue `'auto'`
     */
    backend: z.enum(['auto', 'cpu', 'cpu-reference', 'cuda', 'cuda-emulated']).default('auto'),
    /**
     * Threads that compute each forward pass on the CPU backend; 0 uses one per hardware
     * thread.
     * @example `{ threads: 4 }`
     * @defaultValue `0` (all hardware threads)
     */
    threads: z.number().int().min(0).max(1024).default(0),
    /**
     * Tokens per KV-cache block. Requests take cache memory in whole blocks, and the prefix
     * cache shares only full blocks between requests whose prompts start the same.
     * @example `{ blockSize: 32 }`
     * @defaultValue `16`
     */
    blockSize: z.number().int().min(1).max(1024).default(16),
    /**
     * KV-cache capacity in tokens, shared by all requests (rounded up to whole blocks); it
     * bounds one request's prompt + maxTokens and how many requests run at once. Memory:
     * 2 × layers × kvHeads × headDim × 4 bytes per token (f32 K and V). 0 picks
     * min(context length, 4096).
     * @example `{ kvCacheTokens: 32768 }`
     * @defaultValue `0` (min(context length, 4096))
     */
    kvCacheTokens: z.number().int().min(0).max(2 ** 31).default(0),
    /**
     * The most tokens one forward pass computes over all requests: each step shares this
     * budget between the running requests' next tokens and chunks of new prompts, so a long
     * prompt is prefilled in chunks of at most this size.
     * @example `{ maxBatchTokens: 1024 }`
     * @defaultValue `512`
     */
    maxBatchTokens: z.number().int().min(1).max(1 << 20).default(512),
    /**
     * The most requests generating at once (continuous batching); more wait in a queue.
     * @example `{ maxSequences: 16 }`
     * @defaultValue `64`
     */
    maxSequences: z.number().int().min(1).max(4096).default(64),
    /**
     * The most requests waiting on top of the `maxSequences` running ones (a request counts from
     * its submission to the engine until it ends). A request beyond that rejects at once with
     * `XlamOverloadedError` (code `OVERLOADED`) instead of queueing without bound.
     * @example `{ maxQueuedRequests: 256 }`
     * @defaultValue `1024`
     */
    maxQueuedRequests: z.number().int().min(0).max(1_000_000).default(1024),
    /**
     * Scheduling priority of the engine's compute threads (Linux; elsewhere ignored). `'idle'`
     * (SCHED_IDLE) runs compute only when no other thread wants the CPU, so the host's event
     * loop stays responsive while every core computes; on a machine kept busy by other work it
     * can starve generation — choose `'low'` (nice +5) or `'normal'` there.
     * @example `{ computePriority: 'normal' }`
     * @defaultValue `'idle'`
     */
    computePriority: z.enum(['idle', 'low', 'normal']).default('idle'),
    /**
     * Limits of each chat-template render (a template is code from the model folder; it renders
     * in a worker thread, off the event loop): evaluation steps, `range` length, macro call
     * depth, output characters and wall time. A render over a limit fails the request with
     * `XlamTemplateError` code `TEMPLATE_BUDGET`.
     * @example `{ templateBudget: { maxTimeMs: 2000 } }`
     * @defaultValue `{ maxSteps: 100000, maxRange: 100000, maxCallDepth: 256, maxOutputChars: 4194304, maxTimeMs: 1000 }`
     */
    templateBudget: z.strictObject({
      maxSteps: z.number().int().min(1).max(1e9).optional(),
      maxRange: z.number().int().min(1).max(1e9).optional(),
      maxCallDepth: z.number().int().min(1).max(10_000).optional(),
      maxOutputChars: z.number().int().min(1).max(2 ** 29).optional(),
      maxTimeMs: z.number().gt(0).max(3_600_000).optional(),
    }).optional(),
    /**
     * Accept a request's own `chatTemplate`. A template is code: leave this off unless the
     * callers are trusted (vLLM's `trust_request_chat_template`).
     * @example `{ trustRequestTemplates: true }`
     * @defaultValue `false`
     */
    trustRequestTemplates: z.boolean().default(false),
  })
  .strict();

export type LoadOptions = z.input<typeof LoadOptionsSchema>;

/** Options of {@link Engine.generateTokens}. */
export const GenerateTokensOptionsSchema = z
  .object({
    /**
     * Tokens to generate (greedy). 0 only checks the request (token ids, context) and returns no
     * tokens. The prompt plus maxTokens − 1 must fit the context, else `XlamContextOverflowError`.
     * @example `{ maxTokens: 32 }`
     * @defaultValue `16`
     */
    maxTokens: z.number().int().min(0).max(1 << 24).default(16),
    /**
     * For each generated token, report this many most likely tokens with their
     * log-probabilities (the model's log-softmax) in `topLogprobs`.
     * @example `{ topLogprobs: 5 }`
     * @defaultValue `0` (none reported)
     */
    topLogprobs: z.number().int().min(0).max(100).default(0),
    /**
     * Stop after generating one of these token ids (it is included in `tokens`). The model's EOS
     * ids do not stop generateTokens unless listed here.
     * @example `{ stopTokenIds: [151645] }`
     * @defaultValue `[]` (never stop before maxTokens)
     */
    stopTokenIds: z.array(z.number().int().min(0).max(2 ** 31 - 1)).max(1 << 24).default([]),
  })
  .strict();

export type GenerateTokensOptions = z.input<typeof GenerateTokensOptionsSchema>;

/**
 * The most ids an id list may hold (as the native binding): checked before the elements, so a
 * sparse `new Array(2 ** 32 - 1)` is refused at once instead of exhausting the heap.
 */
export const MAX_IDS = 1 << 24;

export const PromptIdsSchema = z.array(z.number().int().min(0).max(2 ** 31 - 1)).min(1, 'the prompt is empty').max(MAX_IDS);

/**
 * An id list cut after its first entry that is not a token id, so the schema reports that one
 * without collecting an issue for every other (a million holes took zod ~2 s and ~470 MiB).
 */
export function upToFirstBadId(v: unknown): unknown {
  if (!Array.isArray(v) || v.length > MAX_IDS) return v;
  const i = v.findIndex((x) => !(Number.isInteger(x) && x >= 0 && x <= 2 ** 31 - 1));
  return i < 0 ? v : v.slice(0, i + 1);
}

/** A request parsed by its schema, its id lists cut after their first bad entry first (see {@link upToFirstBadId}). */
export function parseRequest(request: unknown): ParsedGenerateRequest {
  let r = request;
  if (r && typeof r === 'object') {
    const o = r as object;
    const { promptTokens, stopTokenIds } = r as { promptTokens?: unknown; stopTokenIds?: unknown };
    if (Array.isArray(promptTokens) || Array.isArray(stopTokenIds)) {
      r = {
        ...o,
        ...(Array.isArray(promptTokens) ? { promptTokens: upToFirstBadId(promptTokens) } : {}),
        ...(Array.isArray(stopTokenIds) ? { stopTokenIds: upToFirstBadId(stopTokenIds) } : {}),
      };
    }
  }
  return parseArgument(GenerateRequestSchema, r, 'request');
}
