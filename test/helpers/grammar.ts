// Byte-by-byte grammar checks shared by the grammar tests: a valid document is accepted byte
// after byte (so every proper prefix is accepted) and complete at the end; an invalid one is
// rejected at its first offending byte (or, when every byte is taken, is not complete).
import type { Test } from 'tap';

import { compileGrammar, createMatcher, type CompiledGrammar, type GbnfGrammar } from '../../dist/lib/grammar/index.js';

/** Bytes taken before the first rejection, and whether all were taken and form a complete document. */
export function run(g: CompiledGrammar, text: string): { accepted: number; complete: boolean; length: number } {
  const bytes = new TextEncoder().encode(text);
  const m = createMatcher(g);
  let i = 0;
  while (i < bytes.length && m.accept(bytes[i]!)) i++;
  return { accepted: i, complete: i === bytes.length && m.isComplete(), length: bytes.length };
}

/** A document for a test message, cut to 80 characters. */
const show = (text: string) => JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);

/** The byte offset of a character index of `text` (offsets in the cases are given on the text). */
export const byteOffset = (text: string, index: number) => new TextEncoder().encode(text.slice(0, index)).length;

/**
 * Checks `valid` documents (every byte accepted, complete at the end) and `invalid` ones, each
 * with the character index of the first byte that must be rejected (`text.length` when every
 * byte is accepted but the document is incomplete).
 */
export function checkCases(t: Test, grammar: GbnfGrammar | CompiledGrammar, valid: readonly string[], invalid: ReadonlyArray<readonly [string, number]>): void {
  const g = 'rules' in grammar ? compileGrammar(grammar) : grammar;
  for (const text of valid) {
    const r = run(g, text);
    if (r.accepted < r.length) t.fail(`${show(text)}: byte ${r.accepted} rejected (a valid document)`);
    else t.ok(r.complete, `${show(text)}: every prefix accepted, complete at the end`);
  }
  for (const [text, index] of invalid) {
    const r = run(g, text);
    const at = byteOffset(text, index);
    if (at === r.length) t.ok(r.accepted === r.length && !r.complete, `${show(text)}: incomplete (all ${r.length} bytes taken, not complete)`);
    else t.equal(r.accepted, at, `${show(text)}: first rejected byte at ${at} (${JSON.stringify(text.slice(index, index + 1))})`);
  }
}
