/**
 * The request of `engine.generate` / `engine.stream`, validated with zod.
 */
import { z } from 'zod';

import { ChatMessagesSchema } from '../prompt/messages.js';
import type { ChatMessage } from '../prompt/types.js';

const tokenId = z.number().int().min(0).max(2 ** 31 - 1);

export const GenerateRequestSchema = z
  .object({
    /**
     * Plain text prompt, tokenized with the model's tokenizer (special-token text is parsed).
     * @example 'The capital of France is'
     */
    prompt: z.string().optional(),
    /**
     * Prompt as token ids (no tokenizer needed).
     * @example [151644, 872, 198]
     */
    promptTokens: z.array(tokenId).min(1).optional(),
    /**
     * Chat messages (OpenAI shape), rendered with the model's own prompt format.
     * @example [{ role: 'user', content: 'Weather in Paris?' }]
     */
    messages: ChatMessagesSchema.optional(),
    /**
     * Tools offered to the model with `messages` (OpenAI, bare or `tool()` shapes).
     * Defaults to none.
     */
    tools: z.array(z.any()).optional(),
    /**
     * Tokens to generate at most.
     * @example 256
     * Defaults to `256`.
     */
    maxTokens: z.number().int().min(1).max(1 << 24).default(256),
    /**
     * Sampling temperature; 0 decodes greedily.
     * @example 0.7
     * Defaults to the model's generation_config.json when it samples, else `0`.
     */
    temperature: z.number().min(0).max(100).optional(),
    /**
     * Nucleus sampling: the smallest set of tokens whose probability reaches topP.
     * @example 0.9
     * Defaults to the model's generation_config.json, else `1` (off).
     */
    topP: z.number().gt(0).max(1).optional(),
    /**
     * Sample among the topK most likely tokens; 0 is off.
     * @example 20
     * Defaults to the model's generation_config.json, else `0`.
     */
    topK: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    /**
     * Drop tokens less likely than minP times the most likely one.
     * @example 0.05
     * Defaults to `0` (off).
     */
    minP: z.number().min(0).max(1).optional(),
    /**
     * transformers' repetition penalty over prompt and output tokens; 1 is off.
     * @example 1.05
     * Defaults to the model's generation_config.json, else `1`.
     */
    repetitionPenalty: z.number().gt(0).max(100).optional(),
    /**
     * OpenAI presence penalty over generated tokens.
     * @example 0.5
     * Defaults to `0`.
     */
    presencePenalty: z.number().min(-2).max(2).optional(),
    /**
     * OpenAI frequency penalty over generated tokens.
     * @example 0.5
     * Defaults to `0`.
     */
    frequencyPenalty: z.number().min(-2).max(2).optional(),
    /**
     * Added to the logits of these token ids (`-Infinity` bans a token).
     * @example { '151643': -100 }
     * Defaults to none.
     */
    logitBias: z.record(z.string().regex(/^\d+$/), z.number().refine((x) => !Number.isNaN(x) && x !== Infinity)).optional(),
    /**
     * Seed of the request's random stream: the same seed gives the same tokens, alone or batched.
     * @example 42
     * Defaults to a random seed.
     */
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    /**
     * Stop when the text contains one of these; the stop text is not returned.
     * @example ['\n\n']
     * Defaults to none.
     */
    stop: z.union([z.string(), z.array(z.string()).max(16)]).optional(),
    /**
     * Further token ids that end generation (the model's EOS ids always do, unless ignoreEos).
     * Defaults to none.
     */
    stopTokenIds: z.array(tokenId).optional(),
    /**
     * Generate past EOS.
     * Defaults to `false`.
     */
    ignoreEos: z.boolean().default(false),
    /**
     * Per generated token, this many most likely alternatives with their logprobs.
     * @example 5
     * Defaults to `0`.
     */
    logprobs: z.number().int().min(0).max(20).default(0),
    /**
     * Cancels the request.
     */
    signal: z.instanceof(AbortSignal).optional(),
  })
  .strict()
  .refine((r) => [r.prompt, r.promptTokens, r.messages].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of prompt, promptTokens or messages',
  })
  .refine((r) => r.tools === undefined || r.messages !== undefined, { message: 'tools go with messages' });

export type GenerateRequest = Omit<z.input<typeof GenerateRequestSchema>, 'messages'> & { messages?: ChatMessage[] };
export type ParsedGenerateRequest = z.output<typeof GenerateRequestSchema>;

/** Token counts of a request. */
export interface Usage {
  promptTokens: number;
  /** Prompt tokens whose KV came from the prefix cache. */
  cachedPromptTokens: number;
  completionTokens: number;
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface GenerateResult {
  text: string;
  tokenIds: number[];
  finishReason: FinishReason;
  usage: Usage;
  /** With `logprobs`: per generated token, the best alternatives `[id, logprob]`. */
  logprobs?: Array<Array<[number, number]>>;
}
