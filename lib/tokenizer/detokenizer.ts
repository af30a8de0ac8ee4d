/**
 * Streaming detokenization: ids in one at a time, text deltas out. The deltas never end in a
 * broken UTF-8 sequence and always concatenate to exactly `tokenizer.decode(allIds)`.
 */
import { XlamInvalidArgumentError } from '../errors.js';
import { byteLevelBytes } from './byte-level.js';
import { CleanupStream } from './cleanup.js';
import { applySteps, byteRunText, fallbackByte, type DecodeTables } from './decoder.js';

const utf8 = new TextEncoder();

/**
 * Turns a stream of token ids into text deltas. Made by {@link Tokenizer.detokenizer}.
 *
 * Text is held back only while it could still change: an incomplete UTF-8 sequence (an emoji
 * split over byte-level or `<0xAB>` byte-fallback tokens — a byte-fallback run is held until it
 * ends, since one invalid byte turns the whole run into U+FFFD), and, where transformers cleans up
 * spaces, a tail that could still match. SentencePiece's leading space is stripped once, as the
 * full decode does. {@link flush} ends the stream and returns the rest.
 *
 * @example
 * ```ts
 * const d = tokenizer.detokenizer();
 * let text = '';
 * for (const id of ids) text += d.push(id);
 * text += d.flush(); // === tokenizer.decode(ids)
 * ```
 */
export class IncrementalDetokenizer {
  private readonly tables: DecodeTables;
  private readonly skipSpecial: boolean;
  private readonly bytes: TextDecoder | undefined;
  private readonly cleanup: CleanupStream | undefined;
  private run: number[] = [];
  private index = 0; // tokens seen by the decoder so far
  private stripLeft: number;
  private flushed = false;
  private emitted = '';

  /** @internal Use {@link Tokenizer.detokenizer}. */
  constructor(tables: DecodeTables, skipSpecialTokens: boolean) {
    this.tables = tables;
    this.skipSpecial = skipSpecialTokens;
    this.bytes = tables.plan.kind === 'byte-level' ? new TextDecoder('utf-8', { ignoreBOM: true }) : undefined;
    this.cleanup = tables.cleanUp ? new CleanupStream() : undefined;
    this.stripLeft = tables.plan.kind === 'pieces' ? tables.plan.stripStart : 0;
  }

  /** All text returned so far. */
  get text(): string {
    return this.emitted;
  }

  /** Feeds one id; returns the text it makes certain (often '', never a broken character). */
  push(id: number): string {
    if (this.flushed) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', 'detokenizer: push() after flush()');
    if (!Number.isInteger(id) || id < 0) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `detokenizer: ${id} is not a token id`);
    const t = this.tables;
    const token = t.tokens[id];
    if (token === undefined || (this.skipSpecial && t.special[id] === 1)) return '';
    const plan = t.plan;
    let text: string;
    if (plan.kind === 'byte-level') {
      text = this.bytes!.decode(byteLevelBytes(token, utf8), { stream: true });
    } else if (plan.kind === 'pieces') {
      const piece = applySteps(plan.steps, token, this.index);
      const b = plan.byteFallback ? fallbackByte(piece) : -1;
      if (b >= 0) {
        this.run.push(b);
        text = '';
      } else {
        text = this.endRun() + piece;
      }
    } else {
      text = this.index === 0 ? token : ' ' + token;
    }
    this.index++;
    return this.emit(text);
  }

  /** Feeds several ids; returns the concatenated deltas. */
  pushAll(ids: Iterable<number>): string {
    let out = '';
    for (const id of ids) out += this.push(id);
    return out;
  }

  /**
   * Ends the stream: returns what was held back (an incomplete UTF-8 sequence becomes U+FFFD,
   * as in the full decode). Afterwards {@link push} throws; {@link flush} returns ''.
   */
  flush(): string {
    if (this.flushed) return '';
    let text = this.bytes ? this.bytes.decode() : this.endRun();
    text = this.strip(text);
    if (this.cleanup) text = this.cleanup.push(text) + this.cleanup.flush();
    this.flushed = true;
    this.emitted += text;
    return text;
  }

  private endRun(): string {
    if (this.run.length === 0) return '';
    const text = byteRunText(this.run);
    this.run = [];
    return text;
  }

  private strip(text: string): string {
    if (this.stripLeft === 0 || text.length === 0) return text;
    const content = (this.tables.plan as { stripContent: string }).stripContent;
    let k = 0;
    while (this.stripLeft > 0 && text.startsWith(content, k)) {
      k += content.length;
      this.stripLeft--;
    }
    if (k < text.length) this.stripLeft = 0; // a character other than `content` ends stripping
    return text.slice(k);
  }

  private emit(text: string): string {
    text = this.strip(text);
    if (this.cleanup) text = this.cleanup.push(text);
    this.emitted += text;
    return text;
  }
}
