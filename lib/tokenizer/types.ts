/** Public types of the tokenizer. */

/** A token added on top of the model's vocabulary (tokenizer.json `added_tokens`). */
export interface AddedTokenInfo {
  /** Its id. */
  id: number;
  /** Its text, e.g. `"<|im_start|>"`. */
  content: string;
  /** Whether it is special: skipped by `decode(ids, { skipSpecialTokens: true })`. */
  special: boolean;
}

/** Options of {@link Tokenizer.encode}. */
export interface EncodeOptions {
  /**
   * Add the model's special tokens around the text as transformers does (`add_special_tokens`):
   * the tokenizer's post-processor or `add_bos_token` / `add_eos_token` — `<|begin_of_text|>`
   * for Llama 3, `<s>` for Llama 2, nothing for Qwen.
   * Defaults to `true`.
   */
  addSpecialTokens?: boolean;
  /**
   * Recognise special-token text in the input (`"<|im_start|>"` becomes that one token), as
   * transformers does by default. `false` is transformers' `split_special_tokens=True`: the text
   * of special tokens is tokenized as ordinary text; non-special added tokens (e.g. Qwen's
   * `<tool_call>`) are still recognised.
   * Defaults to `true`.
   */
  parseSpecialTokens?: boolean;
  /**
   * Parts of the text where special-token text is ordinary text even when `parseSpecialTokens`
   * is true: `[start, end)` offsets in UTF-16 units. A special token whose match overlaps one is
   * not recognised (as with `parseSpecialTokens: false` there). The text is still tokenized as
   * one text, so outside these parts nothing changes. The prompt builder passes the caller
   * strings that hold control-token text here.
   */
  plainRanges?: ReadonlyArray<readonly [number, number]>;
}

/** Options of {@link Tokenizer.decode} and {@link Tokenizer.detokenizer}. */
export interface DecodeOptions {
  /**
   * Leave out special tokens (transformers' `skip_special_tokens`).
   * Defaults to `false`.
   */
  skipSpecialTokens?: boolean;
}
