// Byte-by-byte grammar checks shared by the grammar tests: a valid document is accepted byte
// after byte (so every proper prefix is accepted) and complete at the end; an invalid one is
// rejected at its first offending byte (or, when every byte is taken, is not complete).
// Every check runs both recognizers, the TypeScript reference (match.ts) and the native matcher
// (the byte-level lowering of bytes.ts on the engine's pushdown automaton), and fails when they
// disagree on a single byte.
import type { Test } from 'tap';

import { compileGrammar, createMatcher, toByteGrammar, type ByteGrammar, type CompiledGrammar, type GbnfGrammar } from '../../dist/lib/grammar/index.js';
import { native, type NativeGrammarSession } from '../../dist/lib/native.js';

let session: NativeGrammarSession | undefined;
/** A native grammar session over a vocabulary of the 256 single bytes (byte matching needs no real one). */
export function byteSession(): NativeGrammarSession {
  if (!session) {
    const data = Uint8Array.from({ length: 256 }, (_, i) => i);
    const offsets = Uint32Array.from({ length: 257 }, (_, i) => i);
    session = new (native().GrammarSession)(data, offsets, new Uint8Array(256).fill(1));
  }
  return session;
}

const lowered = new WeakMap<CompiledGrammar, ByteGrammar>();

/** Bytes taken before the first rejection, and whether all were taken and form a complete document. */
export function run(g: CompiledGrammar, text: string): { accepted: number; complete: boolean; length: number } {
  const bytes = new TextEncoder().encode(text);
  const m = createMatcher(g);
  let i = 0;
  while (i < bytes.length && m.accept(bytes[i]!)) i++;
  const ref = { accepted: i, complete: i === bytes.length && m.isComplete(), length: bytes.length };
  let bg = lowered.get(g);
  if (!bg) lowered.set(g, (bg = toByteGrammar(g)));
  const n = byteSession().matchBytes(bg, bytes);
  const nativeComplete = n.accepted === bytes.length && n.complete;
  if (n.accepted !== ref.accepted || nativeComplete !== ref.complete) {
    throw new Error(`native matcher disagrees with the reference on ${JSON.stringify(text.slice(0, 120))}: ` +
      `native took ${n.accepted} bytes (complete ${nativeComplete}), reference ${ref.accepted} (complete ${ref.complete})`);
  }
  return ref;
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
