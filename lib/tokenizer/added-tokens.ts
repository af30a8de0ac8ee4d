/**
 * Finding added tokens in text, as the Rust `tokenizers` AddedVocabulary does: leftmost-longest
 * matching, `single_word` (no word character on either side), `lstrip` / `rstrip` (the match
 * swallows the whitespace on that side), and special tokens ignored when special-token text is
 * not to be parsed (transformers' `split_special_tokens`).
 */

/** One added token as the splitter sees it. */
export interface SplitterToken {
  id: number;
  content: string;
  special: boolean;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
}

/** A piece of the input: ordinary text (`id` undefined) or one added token. */
export interface Segment {
  text: string;
  /** Offset of the piece in the text given to {@link AddedTokenSplitter.split}. */
  start: number;
  id?: number;
}

interface TrieNode {
  next: Map<number, TrieNode>;
  token?: SplitterToken;
}

const WORD_CHAR = /[\p{Alphabetic}\p{N}_]/u;
const WHITESPACE = /\p{White_Space}/u;

function lastChar(s: string): string | undefined {
  if (s.length === 0) return undefined;
  const c = s.charCodeAt(s.length - 1);
  return c >= 0xdc00 && c <= 0xdfff && s.length > 1 ? s.slice(-2) : s.slice(-1);
}

function firstChar(s: string): string | undefined {
  if (s.length === 0) return undefined;
  return String.fromCodePoint(s.codePointAt(0)!);
}

/** Splits text on a fixed set of added tokens. */
export class AddedTokenSplitter {
  private readonly root: TrieNode = { next: new Map() };
  private readonly size: number;

  constructor(tokens: readonly SplitterToken[]) {
    for (const t of tokens) {
      if (t.content.length === 0) continue;
      let node = this.root;
      for (let i = 0; i < t.content.length; i++) {
        const c = t.content.charCodeAt(i);
        let child = node.next.get(c);
        if (!child) node.next.set(c, (child = { next: new Map() }));
        node = child;
      }
      node.token ??= t;
    }
    this.size = tokens.length;
  }

  /** The longest token starting at `pos`, with its end. */
  private longestAt(text: string, pos: number): { token: SplitterToken; end: number } | undefined {
    let node: TrieNode | undefined = this.root;
    let best: { token: SplitterToken; end: number } | undefined;
    for (let i = pos; i < text.length; i++) {
      node = node.next.get(text.charCodeAt(i));
      if (!node) break;
      if (node.token) best = { token: node.token, end: i + 1 };
    }
    return best;
  }

  /**
   * Cuts `text` into ordinary pieces and added tokens. With `parseSpecial` false, special tokens
   * are not recognised (a match of one is dropped, as Rust does with `encode_special_tokens`);
   * a function decides per match (`start`, `end` offsets in `text`), so special-token text is
   * ordinary text in some parts of the text only.
   */
  split(text: string, parseSpecial: boolean | ((start: number, end: number) => boolean)): Segment[] {
    if (this.size === 0 || text.length === 0) return [{ text, start: 0 }];
    const out: Segment[] = [];
    let emitted = 0; // end of the last added token
    let pos = 0;
    while (pos < text.length) {
      const m = this.root.next.has(text.charCodeAt(pos)) ? this.longestAt(text, pos) : undefined;
      if (!m) {
        pos++;
        continue;
      }
      let start = pos;
      let end = m.end;
      pos = m.end; // matches never overlap, whether or not this one is kept
      const t = m.token;
      if (t.special && (typeof parseSpecial === 'function' ? !parseSpecial(start, end) : !parseSpecial)) continue;
      if (t.singleWord) {
        const before = lastChar(text.slice(0, start));
        const after = firstChar(text.slice(end));
        if ((before !== undefined && WORD_CHAR.test(before)) || (after !== undefined && WORD_CHAR.test(after))) continue;
      }
      if (t.lstrip) {
        while (start > emitted && WHITESPACE.test(text[start - 1]!)) start--;
      }
      if (t.rstrip) {
        while (end < text.length && WHITESPACE.test(text[end]!)) end++;
        pos = end;
      }
      if (emitted < start) out.push({ text: text.slice(emitted, start), start: emitted });
      out.push({ text: text.slice(start, end), start, id: t.id });
      emitted = end;
    }
    if (emitted < text.length || out.length === 0) out.push({ text: text.slice(emitted), start: emitted });
    return out;
  }
}
