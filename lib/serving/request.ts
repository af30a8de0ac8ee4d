/**
 * The request of `engine.generate` / `engine.stream`, validated with zod.
 */
import { z } from 'zod';

import { ChatMessagesSchema } from '../prompt/messages.js';
import type { ChatMessage } from '../prompt/types.js';
import { REQUEST_LIMITS, utf8Bytes } from './limits.js';

const tokenId = z.number().int().min(0).max(2 ** 31 - 1);
/** The most ids `promptTokens` or `stopTokenIds` may hold (the native binding's limit too). */
const MAX_ID_LIST = 1 << 24;
const stopString = z
  .string()
  .min(1, 'a stop string may not be empty')
  .refine((x) => utf8Bytes(x) <= REQUEST_LIMITS.maxStopStringBytes, `a stop string may have at most ${REQUEST_LIMITS.maxStopStringBytes} bytes of UTF-8`);

/** The name of a tool in any shape `normalizeTools` accepts (OpenAI `{ function: { name } }`, bare or `tool()`), if it has one. */
function toolNameOf(t: unknown): string | undefined {
  if (typeof t !== 'object' || t === null) return undefined;
  const fn = (t as { function?: unknown }).function;
  const name = typeof fn === 'object' && fn !== null ? (fn as { name?: unknown }).name : (t as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * A request of {@link Engine.generate}, {@link Engine.stream} and (without the prompt fields)
 * {@link Engine.callTools}. Give exactly one of `prompt`, `promptTokens` or `messages`.
 */
export const GenerateRequestSchema = z
  .object({
    /**
     * The prompt as plain text, tokenized as transformers' `tokenizer.encode(prompt,
     * split_special_tokens=True)` does: the tokenizer's special tokens (such as BOS) are added,
     * and special-token text such as `<|im_start|>` is ordinary text unless `allowSpecialTokens`
     * is set. No chat template is applied.
     * @example `{ prompt: 'The capital of France is' }`
     * @defaultValue none: give exactly one of `prompt`, `promptTokens` or `messages`
     */
    prompt: z.string().optional(),
    /**
     * The prompt as token ids, used as given (no tokenizer, no template). The output `text` is
     * still decoded when the model folder has a tokenizer.
     * @example `{ promptTokens: [151644, 872, 198] }`
     * @defaultValue none: give exactly one of `prompt`, `promptTokens` or `messages`
     */
    promptTokens: z.array(tokenId).min(1).max(MAX_ID_LIST).optional(),
    /**
     * Chat messages in the OpenAI shape (system, user, assistant with optional `tool_calls`,
     * tool), rendered with the model's own prompt format (its chat template, or the xLAM v1
     * prompt) with the generation prompt appended. At most 512 messages.
     * @example `{ messages: [{ role: 'user', content: 'Weather in Paris?' }] }`
     * @defaultValue none: give exactly one of `prompt`, `promptTokens` or `messages`
     */
    messages: ChatMessagesSchema.max(REQUEST_LIMITS.maxMessages, `at most ${REQUEST_LIMITS.maxMessages} messages`).optional(),
    /**
     * Tools offered to the model, rendered into the prompt with `messages` (only with
     * `messages`): OpenAI `{ type: 'function', function }` objects, bare
     * `{ name, description, parameters }` objects, or `tool()` tools with zod parameters. With
     * tools, {@link Engine.stream} also emits tool-call events.
     * @example `{ messages, tools: [tool({ name: 'get_weather', parameters: z.object({ city: z.string() }) })] }`
     * @defaultValue none (no tools in the prompt)
     */
    tools: z.array(z.any()).max(REQUEST_LIMITS.maxTools).optional(),
    /**
     * Which answers the model may give when `tools` are given: `'auto'` (the model decides: it
     * may call tools or answer without a call), `'required'` (one or more calls, to any of the
     * tools), `'none'` (no call) or `{ name }` (one or more calls, all to that tool; it must be
     * one of `tools`). Enforced by the output grammar while `constrained` is on: an xLAM-2 model
     * that does not call writes plain text (text that cannot be taken for a call), an xLAM v1
     * model writes its JSON object with `"tool_calls": []`. With `constrained: false` it is not
     * enforced (the model sees the same prompt either way). Only with `tools`.
     * @example `{ messages, tools: [weather], toolChoice: { name: 'get_weather' } }`
     * @defaultValue `'auto'`
     */
    toolChoice: z
      .union([z.enum(['auto', 'required', 'none']), z.strictObject({ name: z.string().min(1) })], {
        error: 'expected "auto", "required", "none" or { name: string }',
      })
      .optional(),
    /**
     * With `tools`: constrain the output to the grammar of the model's tool-call format (a
     * grammar over the tokens' bytes, applied at every step), so a call always names a given tool
     * and its arguments match that tool's JSON Schema, and the output ends only where the
     * grammar is complete; see `toolChoice` for what it allows. `false` samples freely, as the
     * model would (calls may then be malformed or invalid; the parser reports them). Only with
     * `tools`.
     * @example `{ messages, tools: [weather], constrained: false }`
     * @defaultValue `true`
     */
    constrained: z.boolean().optional(),
    /**
     * The most tokens to generate; reaching it ends the request with finishReason `'length'`.
     * The prompt plus maxTokens − 1 must fit the context (the smaller of the model's context
     * length and the engine's `kvCacheTokens`), else the call rejects with
     * `XlamContextOverflowError`.
     * @example `{ maxTokens: 64 }`
     * @defaultValue `256`
     */
    maxTokens: z.number().int().min(1).max(1 << 24).default(256),
    /**
     * Sampling temperature: the logits are divided by it before the softmax; higher values give
     * more varied output. 0 decodes greedily (the most likely token, the lowest id on ties) and
     * turns off topK, topP and minP.
     * @example `{ temperature: 0.7, seed: 42 }`
     * @defaultValue the `temperature` of the model's generation_config.json when it sets
     * `do_sample: true` (`1` if it has none); otherwise `0` (greedy)
     */
    temperature: z.number().min(0).max(100).optional(),
    /**
     * Nucleus sampling: sample only among the most likely tokens whose probabilities add up to
     * topP. `1` is off. Only when sampling (temperature > 0).
     * @example `{ temperature: 0.7, topP: 0.9 }`
     * @defaultValue the `top_p` of the model's generation_config.json when it sets
     * `do_sample: true`; otherwise `1` (off)
     */
    topP: z.number().gt(0).max(1).optional(),
    /**
     * Sample only among the topK most likely tokens. `0` is off. Only when sampling
     * (temperature > 0).
     * @example `{ temperature: 0.7, topK: 20 }`
     * @defaultValue the `top_k` of the model's generation_config.json when it sets
     * `do_sample: true`; otherwise `0` (off)
     */
    topK: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    /**
     * Drop tokens whose probability is below minP times that of the most likely token. `0` is
     * off. Only when sampling (temperature > 0).
     * @example `{ temperature: 0.7, minP: 0.05 }`
     * @defaultValue `0` (off)
     */
    minP: z.number().min(0).max(1).optional(),
    /**
     * transformers' repetition penalty: the logit of every token already in the prompt or the
     * output is divided by it when positive and multiplied by it when negative, so values above
     * 1 discourage repeats. `1` is off. Applies to greedy decoding too.
     * @example `{ repetitionPenalty: 1.05 }`
     * @defaultValue the `repetition_penalty` of the model's generation_config.json; otherwise
     * `1` (off)
     */
    repetitionPenalty: z.number().gt(0).max(100).optional(),
    /**
     * OpenAI's presence penalty: subtracted once from the logit of every token generated so far
     * (the prompt does not count); positive values push toward new tokens. Range −2..2.
     * Applies to greedy decoding too.
     * @example `{ presencePenalty: 0.5 }`
     * @defaultValue `0` (off)
     */
    presencePenalty: z.number().min(-2).max(2).optional(),
    /**
     * OpenAI's frequency penalty: subtracted from the logit of every generated token once per
     * time it was generated (the prompt does not count). Range −2..2. Applies to greedy
     * decoding too.
     * @example `{ frequencyPenalty: 0.5 }`
     * @defaultValue `0` (off)
     */
    frequencyPenalty: z.number().min(-2).max(2).optional(),
    /**
     * Added to the logits of the given token ids (keys: token ids as strings, below the
     * vocabulary size) before anything else: values from -100 to 100 (OpenAI's range; 100 all
     * but forces a token), or `-Infinity` to ban a token. Applies to greedy decoding too.
     * @example `{ logitBias: { '151643': -Infinity, '13': 2.5 } }`
     * @defaultValue none
     */
    logitBias: z
      .record(z.string().regex(/^\d+$/, 'a token id'), z.union([z.number().min(-100).max(100), z.custom<number>((x) => x === -Infinity)], {
        error: 'expected a number from -100 to 100, or -Infinity',
      }))
      .optional(),
    /**
     * Seed of the request's own random stream: the same request with the same seed gives the
     * same tokens, alone or batched with any other requests. Ignored when decoding greedily.
     * @example `{ temperature: 0.7, seed: 42 }`
     * @defaultValue a random seed per request
     */
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    /**
     * Stop as soon as the output text contains one of these strings (at most 16, each 1 to 256
     * bytes of UTF-8); the stop string and anything after it are not returned, and finishReason
     * is `'stop'`. A stop string that is exactly the text of a control token (a special token
     * such as `<|im_end|>`) stops when that token id is generated, not when ordinary tokens spell
     * its text. Needs the model's tokenizer (always there unless `promptTokens` is used on a
     * folder without one).
     * @example `{ stop: ['\n\n', 'Observation:'] }`
     * @defaultValue none
     */
    stop: z.union([stopString, z.array(stopString).max(REQUEST_LIMITS.maxStopStrings)]).optional(),
    /**
     * More token ids that end the request with finishReason `'stop'` when generated (the token
     * is kept in `tokenIds`). The model's EOS ids (generation_config.json's `eos_token_id`, else
     * config.json's, and the tokenizer's EOS token) always stop it unless `ignoreEos` is set.
     * @example `{ stopTokenIds: [151645] }`
     * @defaultValue none (only the EOS ids)
     */
    stopTokenIds: z.array(tokenId).max(MAX_ID_LIST).optional(),
    /**
     * Keep generating past the model's EOS tokens, up to `maxTokens` (or a `stop` /
     * `stopTokenIds` match). For benchmarks and tests.
     * @example `{ ignoreEos: true, maxTokens: 128 }`
     * @defaultValue `false`
     */
    ignoreEos: z.boolean().default(false),
    /**
     * For each generated token, report this many most likely tokens with their log-probabilities
     * (of the model's own distribution, before logit bias, penalties, temperature and filters) in
     * `GenerateResult.logprobs`. A count (0..20), not a boolean as in OpenAI's API. Tokens a
     * tool-call grammar forced (appended without sampling, see `constrained`) have an empty list.
     * @example `{ logprobs: 5 }`
     * @defaultValue `0` (none reported)
     */
    logprobs: z.number().int().min(0).max(20).default(0),
    /**
     * Let the text of control tokens (the tokenizer's special tokens, such as `<|im_end|>`) in
     * caller text become those tokens: in `prompt` (transformers' `tokenizer.encode(prompt)`),
     * and in the strings of `messages` and `tools` (transformers' `apply_chat_template`). Whoever
     * writes that text can then forge turns, system prompts and tool calls: set it only for text
     * you wrote yourself.
     * @example `{ prompt: '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n', allowSpecialTokens: true }`
     * @defaultValue `false`: such text is tokenized as ordinary text, and only the chat
     * template's own control tokens count
     */
    allowSpecialTokens: z.boolean().default(false),
    /**
     * Refuse the request when `prompt`, a string of `messages` or of `tools` holds the text of a
     * control token: `XlamInvalidArgumentError` with code `SPECIAL_TOKEN_TEXT` and `field`
     * naming the string. Not with `allowSpecialTokens`.
     * @example `{ messages, rejectSpecialTokenText: true }`
     * @defaultValue `false`: such text is kept, as ordinary text
     */
    rejectSpecialTokenText: z.boolean().default(false),
    /**
     * A chat template (Jinja source) to render `messages` with instead of the model's own. A
     * template is code: it is refused (`XlamTemplateError` code `TEMPLATE_UNTRUSTED`) unless the
     * engine was loaded with `trustRequestTemplates: true`; it then renders in the same sandbox
     * and budget as the model's. Only with `messages`.
     * @example `{ messages, chatTemplate: '{% for m in messages %}{{ m.content }}\n{% endfor %}' }`
     * @defaultValue none: the model's template
     */
    chatTemplate: z.string().optional(),
    /**
     * An AbortSignal that cancels the request: its KV blocks are freed at the engine's next
     * step and the call rejects (the stream throws) with `XlamAbortError`.
     * @example `{ signal: AbortSignal.timeout(10_000) }`
     * @defaultValue none
     */
    signal: z.instanceof(AbortSignal).optional(),
  })
  .strict()
  .refine((r) => [r.prompt, r.promptTokens, r.messages].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of prompt, promptTokens or messages',
  })
  .refine((r) => r.tools === undefined || r.messages !== undefined, { message: 'tools go with messages' })
  .superRefine((r, ctx) => {
    if (r.allowSpecialTokens && r.rejectSpecialTokenText) {
      ctx.addIssue({ code: 'custom', path: ['rejectSpecialTokenText'], message: 'not with allowSpecialTokens' });
    }
    if (r.chatTemplate !== undefined && r.messages === undefined) ctx.addIssue({ code: 'custom', path: ['chatTemplate'], message: 'only with messages' });
    for (const field of ['toolChoice', 'constrained'] as const) {
      if (r[field] !== undefined && r.tools === undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'only with tools' });
    }
    const choice = r.toolChoice;
    if (r.tools === undefined || choice === undefined) return;
    if (choice === 'required' && r.tools.length === 0) ctx.addIssue({ code: 'custom', path: ['toolChoice'], message: '"required" needs at least one tool' });
    if (typeof choice === 'object') {
      const names = r.tools.map(toolNameOf);
      if (!names.includes(choice.name)) {
        const list = names.filter((n) => n !== undefined).map((n) => JSON.stringify(n)).join(', ') || '(none)';
        ctx.addIssue({ code: 'custom', path: ['toolChoice', 'name'], message: `no tool named ${JSON.stringify(choice.name)}; the tools are: ${list}` });
      }
    }
  });

/** Which answers a request with tools allows: see `toolChoice` of {@link GenerateRequestSchema}. */
export type ToolChoice = 'auto' | 'required' | 'none' | { name: string };

/** The input of {@link Engine.generate} and {@link Engine.stream}: see {@link GenerateRequestSchema} for every field. */
export type GenerateRequest = Omit<z.input<typeof GenerateRequestSchema>, 'messages'> & { messages?: ChatMessage[] };
export type ParsedGenerateRequest = z.output<typeof GenerateRequestSchema>;

/** Token counts of one request. */
export interface Usage {
  /** Tokens in the prompt (after tokenizing or rendering `messages`). */
  promptTokens: number;
  /** Prompt tokens whose KV came from the prefix cache instead of being computed. */
  cachedPromptTokens: number;
  /**
   * Tokens the engine generated. After a `stop` string this can exceed `tokenIds.length` by
   * the few tokens generated before the cancel took effect.
   */
  completionTokens: number;
}

/**
 * Why a request ended: `'stop'` at an EOS or `stopTokenIds` token or a `stop` string,
 * `'length'` at `maxTokens` or the end of the context. An aborted or failed request rejects
 * instead.
 */
export type FinishReason = 'stop' | 'length';

/** The result of {@link Engine.generate}. */
export interface GenerateResult {
  /** The generated text (special tokens skipped, cut before a `stop` string); `''` without a tokenizer. */
  text: string;
  /** The generated token ids, in order (after a `stop` string: up to the token that completed it). */
  tokenIds: number[];
  finishReason: FinishReason;
  usage: Usage;
  /** With `logprobs` > 0: per entry of `tokenIds`, the best `[tokenId, logprob]` pairs, best first. */
  logprobs?: Array<Array<[number, number]>>;
}
