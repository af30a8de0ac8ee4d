/**
 * One request's events turned into output: tokens, detokenized text with stop strings applied,
 * logprobs, and the end (result, abort or typed error). Used by generate and stream alike.
 */
import { fromNative, XlamAbortError } from '../errors.js';
import type { NativeEvent } from '../native.js';
import type { IncrementalDetokenizer } from '../tokenizer/detokenizer.js';
import type { FinishReason, GenerateResult, Usage } from './request.js';
import { StopStringMatcher } from './stop-strings.js';

export interface RunCallbacks {
  /** Certain text, as soon as it is. */
  text(delta: string): void;
  /** The request ended; exactly one of result or error. */
  end(result: GenerateResult | undefined, error: unknown): void;
  /** A stop string was found: the engine should cancel the request. */
  stop(): void;
}

export class RequestRun {
  readonly tokens: number[] = [];
  readonly logprobs: Array<Array<[number, number]>> = [];
  #text = '';
  #stopper: StopStringMatcher;
  #detok: IncrementalDetokenizer | undefined;
  #aborted = false;

  constructor(detok: IncrementalDetokenizer | undefined, stops: readonly string[], private cb: RunCallbacks) {
    this.#detok = detok;
    this.#stopper = new StopStringMatcher(stops);
  }

  /** The AbortSignal fired: the abort event that follows ends the run with XlamAbortError. */
  markAborted(): void {
    this.#aborted = true;
  }

  #emit(delta: string): void {
    if (!delta) return;
    this.#text += delta;
    this.cb.text(delta);
  }

  onEvent(e: NativeEvent): void {
    if (e.token >= 0 && !this.#stopper.stopped) {
      this.tokens.push(e.token);
      if (e.topLogprobs) this.logprobs.push(e.topLogprobs);
      if (this.#detok) {
        this.#emit(this.#stopper.push(this.#detok.push(e.token)));
        if (this.#stopper.stopped) this.cb.stop();
      }
    }
    if (!e.finish) return;
    if (e.finish === 'error') {
      const err = new Error(e.error?.message ?? 'the request failed') as Error & { code?: string };
      err.code = e.error?.code ?? 'INTERNAL';
      this.cb.end(undefined, fromNative(err));
      return;
    }
    if (e.finish === 'abort' && !this.#stopper.stopped) {
      this.cb.end(undefined, new XlamAbortError('ABORTED', this.#aborted ? 'the request was aborted' : 'the request was cancelled'));
      return;
    }
    if (this.#detok && !this.#stopper.stopped) {
      this.#emit(this.#stopper.push(this.#detok.flush()));
      this.#emit(this.#stopper.flush());
    }
    const finishReason: FinishReason = this.#stopper.stopped ? 'stop' : e.finish === 'abort' ? 'stop' : e.finish;
    const usage: Usage = e.usage ?? { promptTokens: 0, cachedPromptTokens: 0, completionTokens: this.tokens.length };
    const result: GenerateResult = { text: this.#text, tokenIds: this.tokens, finishReason, usage };
    if (this.logprobs.length) result.logprobs = this.logprobs;
    this.cb.end(result, undefined);
  }
}
