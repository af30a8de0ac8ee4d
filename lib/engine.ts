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

import { debuglog } from 'node:util';

import { fromNative, XlamAbortError, XlamEngineClosedError, XlamInvalidArgumentError, XlamOverloadedError } from './errors.js';
import { toByteGrammar, type ByteGrammar } from './grammar/bytes.js';
import { compileGrammar } from './grammar/compile.js';
import { toolCallGrammar, type ToolCallGrammarFormat } from './grammar/envelope.js';
import { native, type NativeEngine, type NativeEngineInfo, type NativeEvent, type NativeRequest, type NativeStats } from './native.js';
import { parseToolCalls } from './parse/parse.js';
import type { InvalidToolCall, ParseResult, ToolCall } from './parse/types.js';
import { ToolCallStreamParser } from './parse/stream.js';
import type { ChatMessage } from './prompt/types.js';
import { ControlTokenText } from './prompt/caller-text.js';
import { XlamTemplateError } from './prompt/errors.js';
import { PromptRenderer, type PromptFormat } from './prompt/formats/index.js';
import { resolveBudget, type TemplateBudget } from './prompt/jinja/budget.js';
import { templateData, type TemplateData } from './prompt/sandbox/job.js';
import { RenderSandbox } from './prompt/sandbox/sandbox.js';
import { ChatTemplate } from './prompt/template.js';
import { samplingDefaults, type SamplingDefaults } from './serving/generation-defaults.js';
import { checkRequestText, checkToolSchemas } from './serving/limits.js';
import { GenerateRequestSchema, type GenerateRequest, type GenerateResult, type ParsedGenerateRequest, type ToolChoice } from './serving/request.js';
import { RequestRun } from './serving/request-run.js';
import type { StreamEvent } from './serving/stream-events.js';
import { Tokenizer } from './tokenizer/tokenizer.js';
import { normalizeTools, type ToolInput } from './tools/normalize.js';
import type { ToolDefinition } from './tools/types.js';
import { parseArgument } from './validate.js';
import {
  GenerateTokensOptionsSchema, LoadOptionsSchema, parseRequest, PromptIdsSchema, upToFirstBadId,
  type GenerateTokensOptions, type LoadOptions,
} from './engine-options.js';

export { GenerateTokensOptionsSchema, LoadOptionsSchema, type GenerateTokensOptions, type LoadOptions };

/** One decoding step's most likely tokens: `[tokenId, logprob]` pairs, best first. */
export type TopLogprobs = Array<[number, number]>;

/** The result of {@link Engine.generateTokens}. */
export interface GenerateTokensResult {
  /** The generated token ids, in order. */
  tokens: number[];
  /** Per entry of `tokens`, the `topLogprobs` best `[id, logprob]` pairs; empty when `topLogprobs` is 0. */
  topLogprobs: TopLogprobs[];
  /** `'length'` when maxTokens was reached, `'stop'` when one of `stopTokenIds` was generated. */
  finishReason: 'length' | 'stop';
}

/** What {@link Engine.info} reports: the model's shape, the backend and the KV cache. */
export type EngineInfo = NativeEngineInfo;
/** What {@link Engine.stats} reports: scheduler and KV-cache counters. */
export type EngineStats = NativeStats;

/**
 * Options of {@link Engine.callTools}: the fields of {@link GenerateRequest} other than the
 * prompt ones (`prompt`, `promptTokens`, `messages`, `tools`), with the same defaults.
 * @example `await engine.callTools(messages, [weather], { maxTokens: 512, temperature: 0 })`
 */
export type CallToolsOptions = Omit<GenerateRequest, 'messages' | 'tools' | 'prompt' | 'promptTokens'>;

/**
 * The result of {@link Engine.callTools}: the parsed calls (check each call's `error`), the text
 * outside them, why generation ended and the token usage. When `finishReason` is `'length'` the
 * answer was cut at `maxTokens`, so every call carries an `INCOMPLETE_CALL` error (the calls
 * written before the cut keep their name and arguments for inspection): raise `maxTokens`.
 */
export interface CallToolsResult<T extends readonly ToolInput[]> extends ParseResult<T> {
  /** `'stop'`: the answer ended (EOS, a stop string or token); `'length'`: it was cut at `maxTokens`. */
  finishReason: GenerateResult['finishReason'];
  usage: GenerateResult['usage'];
  /** The model's whole output text, before parsing. */
  raw: string;
}

/** A request's prompt: its ids, its text (none for `promptTokens`), the tokenizer and the prompt format (with `messages`). */
interface PromptOf {
  ids: number[];
  text: string | undefined;
  tokenizer: Tokenizer | undefined;
  format: PromptFormat | undefined;
}

/** What {@link Engine.renderPrompt} returns. */
export interface RenderedPrompt {
  /** The prompt text (for `messages`: the rendered chat template; for `prompt`: the prompt itself). */
  text: string;
  /** The token ids generation would start from. */
  tokenIds: number[];
  /** The prompt format used for `messages`. */
  format?: PromptFormat;
}

/**
 * Cancels the request of a stream whose iterator was dropped unfinished and garbage-collected
 * (a paused request would otherwise keep its KV blocks for good).
 */
/** `NODE_DEBUG=xlam`: which backend each load chose, and why not CUDA when it was passed over. */
const debug = debuglog('xlam');

const abandonedStreams = new FinalizationRegistry<() => void>((cancel) => cancel());

/** Stream events buffered before the request is paused (backpressure), and resumed below. */
const HIGH_WATER = 64;
const LOW_WATER = 16;

/** A request ready to submit, with what its output needs (none of it for token-level calls). */
interface Prepared {
  request: NativeRequest;
  tokenizer?: Tokenizer;
  tools?: ToolDefinition[];
  /** The tools a call may name under the request's tool choice (all of `tools` unless it narrows them). */
  callable?: ToolDefinition[];
  format?: PromptRenderer['format'];
  stops: string[];
  signal?: AbortSignal;
}

/** The tool-call envelope of each prompt format (the prompt tells the model to answer in it). */
const GRAMMAR_FORMATS: Record<PromptFormat, ToolCallGrammarFormat> = {
  xlam2: 'xlam2',
  'xlam1-fc': 'xlam1-fc',
  'xlam1-r': 'xlam1-r',
};

/** Compiled tool-call grammars kept per engine (least recently used dropped first). */
const GRAMMAR_CACHE_SIZE = 32;

/** The tools a call may name under a tool choice. */
function callableTools(tools: ToolDefinition[], choice: ToolChoice): ToolDefinition[] {
  if (choice === 'none') return [];
  if (typeof choice === 'object') return tools.filter((t) => t.name === choice.name);
  return tools;
}

/** The message of the calls of an answer cut at maxTokens. */
const CUT_MESSAGE = 'the answer was cut at maxTokens (finishReason "length") before it was complete; raise maxTokens';

/** Every call of a cut answer, flagged `INCOMPLETE_CALL` (calls already invalid keep their error). */
function flagCut<T extends readonly ToolInput[]>(calls: ToolCall<T>[]): ToolCall<T>[] {
  return calls.map((c): ToolCall<T> => {
    if (c.error) return c;
    const cut: InvalidToolCall = { id: c.id, index: c.index, name: c.name, arguments: c.arguments, rawArguments: c.rawArguments, error: { code: 'INCOMPLETE_CALL', message: CUT_MESSAGE } };
    return cut;
  });
}

export class Engine {
  #native: NativeEngine | undefined;
  #dir: string;
  /** Requests in flight at most: maxSequences + maxQueuedRequests. */
  #capacity: number;
  #sinks = new Map<number, (e: NativeEvent) => void>();
  #tokenizer: Promise<Tokenizer> | undefined;
  #renderer: Promise<PromptRenderer> | undefined;
  #defaults: Promise<SamplingDefaults> | undefined;
  #eosIds: number[] | undefined;
  /** Byte grammars by (format, tool choice, tools), most recently used last. */
  #grammars = new Map<string, ByteGrammar>();
  /** Whether the tokenizer's token bytes were handed to the native engine (once, before the first grammar request). */
  #tokenBytesSent = false;
  /** Renders prompts in a worker thread, under #templateBudget. */
  #sandbox = new RenderSandbox();
  #templateBudget: TemplateBudget;
  #trustRequestTemplates: boolean;
  /** Finds the tokenizer's control-token text in a raw prompt (rejectSpecialTokenText). */
  #controlText: ControlTokenText | undefined;
  /** Request-supplied templates (when trusted), parsed once each, most recently used last. */
  #requestTemplates = new Map<string, TemplateData>();

  private constructor(handle: NativeEngine, dir: string, capacity: number, templates: { budget: TemplateBudget; trustRequestTemplates: boolean }) {
    this.#native = handle;
    this.#dir = dir;
    this.#capacity = capacity;
    this.#templateBudget = templates.budget;
    this.#trustRequestTemplates = templates.trustRequestTemplates;
    handle.listen((events) => {
      for (const e of events) this.#sinks.get(e.id)?.(e);
    });
  }

  /**
   * Loads a model folder (config.json, *.safetensors, tokenizer files) and starts its engine
   * thread. Weights are memory-mapped where their dtype allows. Runs off the event loop.
   * @example `const engine = await Engine.load('/models/xLAM-2-1b-fc-r', { kvCacheTokens: 16384 })`
   * @throws {XlamModelFormatError} when the folder or a file is missing or malformed.
   * @throws {XlamInvalidArgumentError} when an option is invalid.
   */
  static async load(path: string, options: LoadOptions = {}): Promise<Engine> {
    if (typeof path !== 'string' || path.length === 0)
      throw new XlamInvalidArgumentError('INVALID_ARGUMENT', 'path: expected a model folder path');
    const { maxQueuedRequests, templateBudget, trustRequestTemplates, ...opts } = parseArgument(LoadOptionsSchema, options, 'options');
    let handle: NativeEngine;
    try {
      handle = await native().loadEngine(path, opts);
    } catch (err) {
      throw fromNative(err);
    }
    const engine = new Engine(handle, path, opts.maxSequences + maxQueuedRequests, { budget: resolveBudget(templateBudget), trustRequestTemplates });
    if (debug.enabled) {
      try {
        const { backend, backendNote } = handle.info();
        debug('loaded %s on %s%s', path, backend, backendNote ? ` (${backendNote})` : '');
      } catch {
        // the log line is not worth a failed load; the next info() call reports the error
      }
    }
    // The chat template is code from the folder: parse it now, so a broken one fails the load.
    try {
      (await engine.promptRenderer()).template.compileAll();
    } catch (err) {
      if (!(err instanceof XlamTemplateError && err.code === 'NO_CHAT_TEMPLATE')) {
        await engine.close();
        throw err;
      }
    }
    return engine;
  }

  /**
   * Greedy decoding from prompt token ids (low level: no tokenizer, no template, no EOS stop
   * unless given in `stopTokenIds`). Runs on the engine thread like {@link Engine.generate}, so
   * it is batched with every other request of the engine.
   * @example `const { tokens, topLogprobs } = await engine.generateTokens([1, 2, 3], { maxTokens: 8, topLogprobs: 5 })`
   * @throws {XlamInvalidArgumentError} for bad ids or options; {@link XlamContextOverflowError}
   * when the prompt plus maxTokens − 1 exceeds the context; {@link XlamEngineClosedError} when
   * the engine is closed before the call ends.
   */
  async generateTokens(promptIds: readonly number[], options: GenerateTokensOptions = {}): Promise<GenerateTokensResult> {
    this.#handle(); // typed ENGINE_CLOSED up front
    const ids = parseArgument(PromptIdsSchema, upToFirstBadId(promptIds), 'promptIds');
    const stops = (options as { stopTokenIds?: unknown } | null)?.stopTokenIds;
    const opts = parseArgument(GenerateTokensOptionsSchema, Array.isArray(stops) ? { ...options, stopTokenIds: upToFirstBadId(stops) } : options, 'options');
    const p: Prepared = {
      request: {
        promptIds: ids,
        maxTokens: Math.max(opts.maxTokens, 1),
        temperature: 0,
        stopIds: opts.stopTokenIds,
        topLogprobs: opts.topLogprobs,
      },
      stops: [],
    };
    if (opts.maxTokens === 0) {
      // Checked like any request when submitted, then cancelled before it computes anything.
      await this.#run(p, (id) => this.#native?.cancel(id)).catch((err: unknown) => {
        if (!(err instanceof XlamAbortError)) throw err;
      });
      return { tokens: [], topLogprobs: [], finishReason: 'length' };
    }
    const r = await this.#run(p);
    return { tokens: r.tokenIds, topLogprobs: r.logprobs ?? [], finishReason: r.finishReason === 'length' ? 'length' : 'stop' };
  }

  /** The model folder's tokenizer, loaded on first use. */
  tokenizer(): Promise<Tokenizer> {
    this.#tokenizer ??= Tokenizer.fromDir(this.#dir);
    return this.#tokenizer;
  }

  /** The model folder's prompt renderer (format and chat template), loaded on first use. */
  promptRenderer(): Promise<PromptRenderer> {
    this.#renderer ??= PromptRenderer.fromDir(this.#dir);
    return this.#renderer;
  }

  /** The prompt ids of a parsed request (rendered in the sandbox, tokenized with caller text kept plain). */
  async #promptOf(r: ParsedGenerateRequest, tools: ToolDefinition[] | undefined): Promise<PromptOf> {
    let ids: number[];
    let text: string | undefined;
    let tokenizer: Tokenizer | undefined;
    let format: PromptRenderer['format'] | undefined;
    if (r.promptTokens) {
      ids = r.promptTokens;
      tokenizer = await this.tokenizer().catch(() => undefined);  // text output when the folder has one
    } else {
      tokenizer = await this.tokenizer();
      const control = tokenizer.addedTokens.filter((t) => t.special).map((t) => t.content);
      if (r.prompt !== undefined) {
        if (r.rejectSpecialTokenText) {
          this.#controlText ??= new ControlTokenText(control);
          const t = this.#controlText.firstToken(r.prompt);
          if (t !== undefined) {
            throw new XlamInvalidArgumentError('SPECIAL_TOKEN_TEXT',
              `request.prompt holds the text of the control token ${JSON.stringify(t)} (rejectSpecialTokenText is set)`, { field: 'request.prompt' });
          }
        }
        text = r.prompt;
        ids = tokenizer.encode(r.prompt, { parseSpecialTokens: r.allowSpecialTokens });
      } else {
        const renderer = await this.promptRenderer();
        format = renderer.format;
        const prompt = await this.#sandbox.render({
          template: r.chatTemplate === undefined ? templateData(renderer.template) : this.#requestTemplate(r.chatTemplate, renderer.template.specialTokens),
          format,
          messages: r.messages as ChatMessage[],
          // What the template sees of a tool (not the zod schema of a tool() tool).
          tools: tools?.map((t) => (t.description === undefined ? { name: t.name, parameters: t.parameters } : { name: t.name, description: t.description, parameters: t.parameters })) ?? null,
          addGenerationPrompt: true,
          budget: this.#templateBudget,
          controlTokens: control,
          specialTokenText: r.allowSpecialTokens ? 'parse' : r.rejectSpecialTokenText ? 'reject' : 'plain',
        });
        text = prompt.text;
        ids = tokenizer.encode(text, { addSpecialTokens: false, plainRanges: prompt.plainRanges });
      }
    }
    return { ids, text, tokenizer, format };
  }

  async #prepare(r: ParsedGenerateRequest): Promise<Prepared> {
    this.#handle(); // typed ENGINE_CLOSED up front
    this.#checkQueue();
    checkRequestText(r);
    const tools = r.tools ? (normalizeTools(r.tools as ToolInput[]) as ToolDefinition[]) : undefined;
    if (tools) checkToolSchemas(tools);
    const { ids, tokenizer, format } = await this.#promptOf(r, tools);
    if (ids.length === 0) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', 'the prompt has no tokens');
    this.#checkTokenIds(r, ids);
    const choice = r.toolChoice ?? 'auto';
    let grammar: ByteGrammar | undefined;
    if (tools && tools.length > 0 && format !== undefined && tokenizer && r.constrained !== false) {
      grammar = this.#grammar(tools, GRAMMAR_FORMATS[format], choice);
      this.#sendTokenBytes(tokenizer);
    }
    this.#defaults ??= samplingDefaults(this.#dir);
    const d = await this.#defaults;
    this.#eosIds ??= this.info().eosTokenIds; // typed ENGINE_CLOSED if closed while preparing
    const eos = new Set<number>(r.ignoreEos ? [] : this.#eosIds);
    if (!r.ignoreEos && tokenizer?.eosTokenId != null) eos.add(tokenizer.eosTokenId);
    for (const id of r.stopTokenIds ?? []) eos.add(id);
    const request: NativeRequest = {
      promptIds: ids,
      maxTokens: r.maxTokens,
      temperature: r.temperature ?? d.temperature,
      topP: r.topP ?? d.topP ?? 1,
      topK: r.topK ?? d.topK ?? 0,
      minP: r.minP ?? 0,
      repetitionPenalty: r.repetitionPenalty ?? d.repetitionPenalty ?? 1,
      presencePenalty: r.presencePenalty ?? 0,
      frequencyPenalty: r.frequencyPenalty ?? 0,
      logitBias: Object.entries(r.logitBias ?? {}).map(([k, v]) => [Number(k), v] as [number, number]),
      seed: r.seed ?? Math.floor(Math.random() * Number.MAX_SAFE_INTEGER),
      stopIds: [...eos],
      topLogprobs: r.logprobs,
    };
    if (grammar) request.grammar = grammar;
    // A stop string that is a control token's text stops on that token's id, never on ordinary
    // tokens that happen to spell it (the output text leaves special tokens out anyway).
    const stops: string[] = [];
    for (const s of r.stop === undefined ? [] : typeof r.stop === 'string' ? [r.stop] : r.stop) {
      const id = tokenizer?.tokenToId(s);
      if (id !== undefined && tokenizer!.isSpecialToken(id)) request.stopIds!.push(id);
      else stops.push(s);
    }
    const callable = tools && callableTools(tools, choice);
    return { request, tokenizer, tools, callable, format, stops, signal: r.signal };
  }

  /** Token ids of the request below the model's vocabulary size, each failure naming its field. */
  #checkTokenIds(r: ParsedGenerateRequest, promptIds: readonly number[]): void {
    const n = this.info().vocabSize;
    const check = (id: number, field: string) => {
      if (id >= n) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `${field}: token id ${id} is outside the vocabulary (${n} tokens)`, { field });
    };
    if (r.promptTokens) promptIds.forEach((id, i) => check(id, `request.promptTokens[${i}]`));
    r.stopTokenIds?.forEach((id, i) => check(id, `request.stopTokenIds[${i}]`));
    for (const k of Object.keys(r.logitBias ?? {})) check(Number(k), `request.logitBias["${k}"]`);
  }

  /**
   * A request's own chat template, when the engine trusts request templates: parsed here (a
   * syntax error is the request's), rendered in the sandbox with the model's special tokens.
   */
  #requestTemplate(source: string, specialTokens: ChatTemplate['specialTokens']): TemplateData {
    if (!this.#trustRequestTemplates) {
      throw new XlamTemplateError('TEMPLATE_UNTRUSTED',
        'request.chatTemplate: this engine does not accept request templates (a template is code); load it with trustRequestTemplates: true to allow them');
    }
    let t = this.#requestTemplates.get(source);
    if (t) this.#requestTemplates.delete(source);
    else {
      const template = new ChatTemplate(source, specialTokens);
      template.compileAll();
      t = templateData(template);
      if (this.#requestTemplates.size >= 16) this.#requestTemplates.delete(this.#requestTemplates.keys().next().value!);
    }
    this.#requestTemplates.set(source, t);
    return t;
  }

  /**
   * The byte grammar of tool calls in `format` under `choice`, compiled once per engine for each
   * (format, choice, tools): a service calling with the same tools does not recompile.
   */
  #grammar(tools: ToolDefinition[], format: ToolCallGrammarFormat, choice: ToolChoice): ByteGrammar {
    const key = JSON.stringify([format, choice, tools.map((t) => [t.name, t.parameters])]);
    let g = this.#grammars.get(key);
    if (g) {
      this.#grammars.delete(key);
    } else {
      try {
        g = toByteGrammar(compileGrammar(toolCallGrammar(tools, { format, toolChoice: choice })));
      } catch (err) {
        if (err instanceof XlamInvalidArgumentError && err.field === undefined) {
          throw new XlamInvalidArgumentError(err.code, err.message, { field: 'request.tools', cause: err });
        }
        if (!(err instanceof RangeError)) throw err;
        throw new XlamInvalidArgumentError('GRAMMAR_TOO_LARGE', `grammar: the tools' schemas are too large to compile (${err.message})`, { field: 'request.tools', cause: err });
      }
      if (this.#grammars.size >= GRAMMAR_CACHE_SIZE) this.#grammars.delete(this.#grammars.keys().next().value!);
    }
    this.#grammars.set(key, g);
    return g;
  }

  /**
   * Hands the tokenizer's token bytes to the native engine, once: what each id appends to the
   * output, and which ids a grammar may emit (not special tokens, not empty). Ids beyond the
   * model's vocabulary are left out; the engine gives the model's own extra ids no bytes.
   */
  #sendTokenBytes(tokenizer: Tokenizer): void {
    if (this.#tokenBytesSent) return;
    const { data, offsets } = tokenizer.tokenBytesTable();
    const n = Math.min(tokenizer.vocabSize, this.info().vocabSize);
    const allowed = new Uint8Array(n);
    for (let id = 0; id < n; id++) allowed[id] = offsets[id + 1]! > offsets[id]! && !tokenizer.isSpecialToken(id) ? 1 : 0;
    try {
      this.#handle().setTokenBytes(data.subarray(0, offsets[n]), offsets.subarray(0, n + 1), allowed);
    } catch (err) {
      throw fromNative(err);
    }
    this.#tokenBytesSent = true;
  }

  /** Submits a prepared request; the run's end removes its sink and abort listener. */
  /** Overload: as many requests in flight as `maxSequences` running plus `maxQueuedRequests` waiting. */
  #checkQueue(): void {
    if (this.#sinks.size >= this.#capacity)
      throw new XlamOverloadedError(
        'OVERLOADED',
        `the engine has ${this.#sinks.size} requests in flight, its limit (maxSequences + maxQueuedRequests): retry later`,
      );
  }

  #submit(p: Prepared, run: (cancel: () => void) => RequestRun): number {
    const handle = this.#handle();
    if (p.signal?.aborted) throw new XlamAbortError('ABORTED', 'the request was aborted before it started');
    this.#checkQueue(); // again: others may have been submitted while this one was prepared
    let id: number;
    try {
      id = handle.submit(p.request);
    } catch (err) {
      throw fromNative(err);
    }
    const r = run(() => this.#native?.cancel(id));
    const onAbort = () => {
      r.markAborted();
      this.#native?.cancel(id);
    };
    p.signal?.addEventListener('abort', onAbort, { once: true });
    this.#sinks.set(id, (e) => {
      if (e.finish) {
        this.#sinks.delete(id);
        p.signal?.removeEventListener('abort', onAbort);
      }
      r.onEvent(e);
    });
    return id;
  }

  /**
   * Generates from a prompt, prompt tokens or chat messages (with tools), batched with every
   * other request of the engine. Sampling defaults come from the model's generation_config.json.
   * With tools the output is constrained to the tool-call grammar as in {@link Engine.callTools}
   * (`toolChoice`, `constrained`); `text` is the raw answer (parse it with `parseToolCalls`).
   * @example `const { text } = await engine.generate({ messages: [{ role: 'user', content: 'Hi' }], maxTokens: 64 })`
   * @throws {XlamInvalidArgumentError} for an invalid request; {@link XlamContextOverflowError}
   * when it does not fit the context; {@link XlamAbortError} when its `signal` aborts it;
   * {@link XlamEngineClosedError} when the engine is closed before it ends.
   */
  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const r = parseRequest(request);
    return this.#run(await this.#prepare(r));
  }

  /** Runs a prepared request to its end: its result or its typed error. */
  #run(p: Prepared, submitted?: (id: number) => void): Promise<GenerateResult> {
    return new Promise<GenerateResult>((resolve, reject) => {
      const id = this.#submit(p, (cancel) =>
        new RequestRun(p.tokenizer?.detokenizer({ skipSpecialTokens: true }), p.stops, {
          text: () => {},
          stop: cancel,
          end: (result, error) => (error ? reject(error) : resolve(result!)),
        }),
      );
      submitted?.(id);
    });
  }

  /**
   * Streams a request: text deltas (with tools: the streaming tool-call events), then
   * `{ type: 'done', finishReason, usage }` (see {@link StreamEvent}). Leaving the loop early
   * cancels the request; a consumer that stops reading pauses it instead of buffering without
   * bound. A consumer that drops the iterator without finishing or leaving the loop (no
   * `return()`) is noticed when the iterator is garbage-collected: the request is then
   * cancelled and its KV blocks freed. Errors (as for {@link Engine.generate}) are thrown from
   * the loop.
   *
   * With tools, generation is constrained to the tool-call grammar as in {@link Engine.callTools}
   * (`toolChoice`, `constrained`). A call cut at `maxTokens` ends with an `INCOMPLETE_CALL` error
   * and `done` says `'length'`; calls that closed before the cut were already delivered as
   * valid (callTools, which sees the whole answer, flags them too).
   * @example
   * ```ts
   * for await (const ev of engine.stream({ prompt: 'Once upon a time', maxTokens: 64 }))
   *   if (ev.type === 'text') process.stdout.write(ev.delta);
   * ```
   */
  stream(request: GenerateRequest): AsyncGenerator<StreamEvent, void, undefined> {
    const run: { id?: number } = {};
    const events = this.#stream(request, run);
    abandonedStreams.register(events, () => {
      try {
        if (run.id !== undefined) this.#native?.cancel(run.id); // an id that has ended is ignored
      } catch {
        // closed meanwhile: nothing left to free
      }
    });
    return events;
  }

  async *#stream(request: GenerateRequest, run: { id?: number }): AsyncGenerator<StreamEvent, void, undefined> {
    const r = parseRequest(request);
    const p = await this.#prepare(r);
    const parser = p.callable ? new ToolCallStreamParser(p.callable, { format: p.format ?? 'auto' }) : undefined;
    const queue: StreamEvent[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    let failure: unknown;
    let paused = false;
    const push = (events: StreamEvent[]) => {
      queue.push(...events);
      if (!paused && queue.length > HIGH_WATER && !finished) {
        paused = true;
        this.#native?.pause(id);
      }
      wake?.();
    };
    const text = (delta: string) => push(parser ? (parser.push(delta) as StreamEvent[]) : [{ type: 'text', delta }]);
    const id = this.#submit(p, (cancel) =>
      new RequestRun(p.tokenizer?.detokenizer({ skipSpecialTokens: true }), p.stops, {
        text,
        stop: cancel,
        end: (result, error) => {
          finished = true;
          if (error) {
            failure = error;
            wake?.();
            return;
          }
          if (parser) push(parser.end() as StreamEvent[]);
          push([{ type: 'done', finishReason: result!.finishReason, usage: result!.usage }]);
        },
      }),
    );
    run.id = id;
    try {
      for (;;) {
        while (queue.length > 0) {
          const ev = queue.shift()!;
          if (paused && queue.length <= LOW_WATER) {
            paused = false;
            this.#native?.resume(id);
          }
          yield ev;
        }
        if (failure !== undefined) throw failure;
        if (finished) return;
        await new Promise<void>((res) => (wake = res));
        wake = undefined;
      }
    } finally {
      if (!finished) this.#native?.cancel(id);
    }
  }

  /**
   * Asks the model for tool calls: renders the messages with the tools in the model's own
   * format, generates, and parses the answer into typed calls (a call that fails validation
   * carries an `error` instead of throwing). With `tool()` tools, each valid call's
   * `arguments` is typed by its tool's zod schema.
   *
   * Generation is constrained to the format's tool-call grammar (options `toolChoice`, default
   * `'auto'`, and `constrained`, default true; see {@link GenerateRequestSchema}), so a call names
   * one of the tools — with `toolChoice: { name }` only that one — and its arguments match the
   * tool's schema. A call can still be invalid when the answer is cut at `maxTokens`
   * (finishReason `'length'`: every call is then flagged `INCOMPLETE_CALL`), when a zod refinement
   * the grammar cannot express fails, or with `constrained: false`. A call to a tool outside
   * `toolChoice` is flagged `UNKNOWN_TOOL` even unconstrained.
   * @example
   * ```ts
   * const { calls, finishReason } = await engine.callTools([{ role: 'user', content: 'Weather in Paris?' }], [weather], { toolChoice: 'required' });
   * for (const call of calls) if (!call.error) console.log(call.name, call.arguments.city);
   * ```
   * @throws as {@link Engine.generate}; also `XlamInvalidArgumentError` when `toolChoice: { name }`
   * names no tool of the list.
   */
  async callTools<const T extends readonly ToolInput[]>(
    messages: ChatMessage[],
    tools: T,
    options: CallToolsOptions = {},
  ): Promise<CallToolsResult<T>> {
    const r = parseRequest({ ...options, messages, tools: [...tools] });
    const p = await this.#prepare(r);
    const result = await this.#run(p);
    const parsed = parseToolCalls<T>(result.text, p.callable as unknown as T, { format: p.format });
    const calls = result.finishReason === 'length' ? flagCut(parsed.calls) : parsed.calls;
    return { calls, text: parsed.text, finishReason: result.finishReason, usage: result.usage, raw: result.text };
  }

  /**
   * The prompt a request would generate from, without generating: the text (the rendered chat
   * template for `messages`) and its token ids, built exactly as {@link Engine.generate} builds
   * them (same template sandbox, same handling of control-token text). For `promptTokens` the
   * text is their decoding.
   * @example `const { text, tokenIds } = await engine.renderPrompt({ messages, tools })`
   * @throws as {@link Engine.generate} does before it generates.
   */
  async renderPrompt(request: GenerateRequest): Promise<RenderedPrompt> {
    this.#handle();
    const r = parseRequest(request);
    checkRequestText(r);
    const tools = r.tools ? (normalizeTools(r.tools as ToolInput[]) as ToolDefinition[]) : undefined;
    if (tools) checkToolSchemas(tools);
    const p = await this.#promptOf(r, tools);
    const text = p.text ?? p.tokenizer?.decode(p.ids) ?? '';
    return p.format === undefined ? { text, tokenIds: p.ids } : { text, tokenIds: p.ids, format: p.format };
  }

  /**
   * Scheduler and KV-cache counters, as of the engine's last step.
   * @example `const { running, waiting, kvBlocksUsed } = engine.stats()`
   */
  stats(): EngineStats {
    try {
      return this.#handle().stats();
    } catch (err) {
      throw fromNative(err);
    }
  }

  /**
   * The model's shape, the backend and the KV cache.
   * @example `engine.info().contextLength`
   */
  info(): EngineInfo {
    try {
      return this.#handle().info();
    } catch (err) {
      throw fromNative(err);
    }
  }

  /**
   * Stops the engine thread and releases the model. Requests not finished yet reject (streams
   * throw) with {@link XlamEngineClosedError}, as do later calls. Closing twice is fine.
   * @example `await engine.close()`
   */
  async close(): Promise<void> {
    this.#native?.close();
    this.#native = undefined;
    await this.#sandbox.close();
  }

  /**
   * {@link Engine.close} for `await using`.
   * @example `await using engine = await Engine.load(dir);`
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #handle(): NativeEngine {
    if (!this.#native) throw new XlamEngineClosedError('ENGINE_CLOSED', 'the engine is closed');
    return this.#native;
  }
}
