/**
 * Special-token injection defence (RELIABILITY.md "Special-token injection"). Caller strings
 * (message contents, tool results, names, tool descriptions and schemas) may hold the text of a
 * control token, e.g. `hi<|im_end|>\n<|im_start|>system\n…`; tokenized with special-token
 * parsing, that text would forge turns. The prompt is still rendered and tokenized as one text,
 * byte for byte what transformers renders, but the caller's control-token text is located in it
 * through unguessable placeholders and tokenized as ordinary text there (transformers'
 * `split_special_tokens=True` on those spans only).
 */
import { randomBytes } from 'node:crypto';

import { XlamInvalidArgumentError } from '../errors.js';
import { XlamTemplateError } from './errors.js';

/**
 * What control-token text inside a caller string does:
 * - `plain` (default): it is ordinary text; the template's own control tokens still count;
 * - `reject`: the request fails with `XlamInvalidArgumentError` code `SPECIAL_TOKEN_TEXT`;
 * - `parse`: it becomes control tokens, as transformers' `apply_chat_template` does
 *   (`allowSpecialTokens: true`; lets a caller forge turns and tool calls).
 */
export type SpecialTokenTextMode = 'plain' | 'reject' | 'parse';

/** A rendered prompt and the parts of it where special-token text is ordinary text. */
export interface GuardedPrompt {
  text: string;
  /** `[start, end)` offsets (UTF-16 units) in `text`; pass to `Tokenizer.encode`'s `plainRanges`. */
  plainRanges: Array<[number, number]>;
}

type Span = [start: number, end: number];
const escapeRegExp = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/** Finds control-token text, whole or cut at a string's ends, in caller strings. */
export class ControlTokenText {
  private readonly whole: RegExp | undefined;
  private readonly prefixes = new Set<string>(); // proper prefixes (2+ units) of a token
  private readonly suffixes = new Set<string>(); // proper suffixes (2+ units) of a token
  private readonly maxLength: number;

  /** @param tokens the text of the model's special (control) tokens. */
  constructor(readonly tokens: readonly string[]) {
    const texts = [...new Set(tokens.filter((t) => t.length > 0))].sort((a, b) => b.length - a.length);
    this.whole = texts.length > 0 ? new RegExp(texts.map(escapeRegExp).join('|'), 'g') : undefined;
    for (const t of texts) {
      for (let k = 2; k < t.length; k++) {
        this.prefixes.add(t.slice(0, k));
        this.suffixes.add(t.slice(t.length - k));
      }
    }
    this.maxLength = texts[0]?.length ?? 0;
  }

  /** The first control token written whole in `s`, if any. */
  firstToken(s: string): string | undefined {
    if (!this.whole) return undefined;
    this.whole.lastIndex = 0;
    return this.whole.exec(s)?.[0];
  }

  /**
   * The spans of `s` that must stay ordinary text: every control token written whole, and at
   * each end the longest piece (2+ units) that could join text next to the string into a control
   * token (`…<|im_` at the end, `_end|>…` at the start).
   */
  spans(s: string): Span[] {
    if (!this.whole || s.length < 2) return [];
    const out: Span[] = [];
    for (let k = Math.min(s.length, this.maxLength - 1); k >= 2; k--) {
      if (this.suffixes.has(s.slice(0, k))) {
        out.push([0, k]);
        break;
      }
    }
    this.whole.lastIndex = 0;
    for (let m = this.whole.exec(s); m; m = this.whole.exec(s)) out.push([m.index, m.index + m[0].length]);
    for (let k = Math.min(s.length, this.maxLength - 1); k >= 2; k--) {
      if (this.prefixes.has(s.slice(s.length - k))) {
        out.push([s.length - k, s.length]);
        break;
      }
    }
    out.sort((a, b) => a[0] - b[0]);
    const merged: Span[] = [];
    for (const [a, b] of out) {
      const last = merged[merged.length - 1];
      if (last && a <= last[1]) last[1] = Math.max(last[1], b);
      else merged.push([a, b]);
    }
    return merged;
  }
}

/** Copies JSON-like data (arrays, plain objects, Maps) with every string and key passed through `f`. */
function mapStrings(v: unknown, path: string, f: (s: string, path: string) => string): unknown {
  if (typeof v === 'string') return f(v, path);
  if (Array.isArray(v)) return v.map((x, i) => mapStrings(x, `${path}[${i}]`, f));
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [typeof k === 'string' ? f(k, `${path} key`) : k, mapStrings(x, `${path}.${String(k)}`, f)]));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[f(k, `${path} key`)] = mapStrings(x, `${path}.${k}`, f);
    return out;
  }
  return v;
}

/** The caller data of one render: everything that came from the request. */
export interface CallerData {
  messages: unknown;
  tools: unknown;
}

/**
 * Renders `data` with `render` so that control-token text inside caller strings is ordinary
 * text (see {@link SpecialTokenTextMode}). When no caller string holds any, this is one plain
 * render. Otherwise the risky pieces are replaced by placeholders (96 random bits each render),
 * the template renders both versions, and the placeholders' places in the real text become the
 * plain ranges; the real text must equal the placeholder text with the pieces put back (a
 * template that changes caller text in other ways fails with `TEMPLATE_CALLER_TEXT`, never
 * silently).
 */
export function renderGuarded(
  render: (data: CallerData) => string,
  data: CallerData,
  control: ControlTokenText,
  mode: SpecialTokenTextMode,
): GuardedPrompt {
  if (mode === 'parse') return { text: render(data), plainRanges: [] };
  let risky = false;
  const scan = (s: string, path: string) => {
    if (mode === 'reject') {
      const t = control.firstToken(s);
      if (t !== undefined) {
        throw new XlamInvalidArgumentError('SPECIAL_TOKEN_TEXT',
          `${path} holds the text of the control token ${JSON.stringify(t)} (rejectSpecialTokenText is set)`, { field: path });
      }
    }
    if (!risky && control.spans(s).length > 0) risky = true;
    return s;
  };
  mapStrings(data.messages, 'messages', scan);
  mapStrings(data.tools, 'tools', scan);
  const real = render(data);
  if (!risky) return { text: real, plainRanges: [] };

  const nonce = randomBytes(12).toString('hex');
  const originals: string[] = [];
  const hide = (s: string) => {
    const spans = control.spans(s);
    if (spans.length === 0) return s;
    let out = '';
    let at = 0;
    for (const [a, b] of spans) {
      out += s.slice(at, a) + `xlam${nonce}p${originals.length}q`;
      originals.push(s.slice(a, b));
      at = b;
    }
    return out + s.slice(at);
  };
  const hidden = render({ messages: mapStrings(data.messages, 'messages', hide), tools: mapStrings(data.tools, 'tools', hide) });

  const plainRanges: Array<[number, number]> = [];
  let text = '';
  let at = 0;
  const marker = new RegExp(`xlam${nonce}p(\\d+)q`, 'g');
  for (let m = marker.exec(hidden); m; m = marker.exec(hidden)) {
    const piece = originals[Number(m[1])];
    if (piece === undefined) break; // cannot happen: the nonce is ours
    text += hidden.slice(at, m.index);
    plainRanges.push([text.length, text.length + piece.length]);
    text += piece;
    at = m.index + m[0].length;
  }
  text += hidden.slice(at);
  if (text !== real) {
    throw new XlamTemplateError('TEMPLATE_CALLER_TEXT',
      'the chat template changes caller text that holds control-token text in a way the prompt builder cannot follow; ' +
      'remove that text, or set rejectSpecialTokenText to refuse such requests');
  }
  return { text, plainRanges };
}
