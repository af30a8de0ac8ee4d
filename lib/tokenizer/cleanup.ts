/**
 * transformers' `clean_up_tokenization`: removes the spaces a WordPiece-era tokenizer leaves
 * before punctuation and English contractions. transformers 5 applies it only when
 * `clean_up_tokenization_spaces` is set *and* the model is not BPE (see decoder.ts).
 */

const REPLACEMENTS: ReadonlyArray<readonly [string, string]> = [
  [' .', '.'], [' ?', '?'], [' !', '!'], [' ,', ','], [" ' ", "'"],
  [" n't", "n't"], [" 'm", "'m"], [" 's", "'s"], [" 've", "'ve"], [" 're", "'re"],
];

/** The replacements of transformers' `clean_up_tokenization`, in its order. */
export function cleanUpTokenization(text: string): string {
  for (const [from, to] of REPLACEMENTS) text = text.split(from).join(to);
  return text;
}

/**
 * Characters that can stand before another character inside one of the patterns. A cut just
 * after any other character can never be spanned by a pattern occurrence — not in the text, nor
 * in any intermediate result, since the replacements only delete spaces — so
 * cleanUp(a + b) = cleanUp(a) + cleanUp(b) for such a cut.
 */
const INNER = new Set([' ', "'", 'n', 'v', 'r']);

/** {@link cleanUpTokenization} over a stream of text deltas: output equals cleaning the whole. */
export class CleanupStream {
  private pending = '';

  /** Adds text; returns the cleaned text that can no longer change. */
  push(text: string): string {
    this.pending += text;
    let cut = this.pending.length;
    while (cut > 0 && INNER.has(this.pending[cut - 1]!)) cut--;
    if (cut === 0) return '';
    const ready = this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    return cleanUpTokenization(ready);
  }

  /** Ends the stream: the cleaned rest. */
  flush(): string {
    const rest = cleanUpTokenization(this.pending);
    this.pending = '';
    return rest;
  }
}
