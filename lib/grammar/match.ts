/**
 * The reference recognizer: runs a GBNF grammar over UTF-8 bytes. The native matcher is checked
 * against it, so it favours plainness over speed.
 *
 * It simulates the pushdown automaton as llama.cpp does (`llama_grammar_advance_stack`): the
 * state is a set of stacks of grammar positions, each with a character set on top (an empty
 * stack means `root` is complete). A code point moves every stack whose top accepts it and
 * expands the references that follow until characters are on top again. Stacks are immutable
 * linked lists, interned, so equal stacks are one object and the set deduplicates by identity.
 *
 * The intern table belongs to a matcher and its clones and only grows: fine for checking texts,
 * not meant for a long-lived server loop (the native matcher is).
 *
 * Bytes: a multi-byte UTF-8 sequence is accepted byte by byte while some stack's top accepts a
 * code point that starts with the bytes so far (llama.cpp's partial UTF-8 matching); invalid
 * UTF-8 (overlong forms, surrogates, beyond U+10FFFF, stray continuation bytes) is rejected at
 * the first byte that makes it invalid.
 */
import { XlamInvalidArgumentError } from '../errors.js';
import { CHAR, compileGrammar, END, REF, setHas, setMeets, type CompiledGrammar } from './compile.js';
import type { GbnfGrammar } from './gbnf.js';

/** A stack of grammar positions, top first. `null` is the empty stack. */
interface Stack {
  readonly pos: number;
  readonly next: Stack | null;
  readonly id: number;
}

/** Options of {@link createMatcher}. */
export interface MatcherOptions {
  /**
   * The most stacks the simulation may hold after a step; a grammar so ambiguous that it needs
   * more throws `XlamInvalidArgumentError` from `accept`.
   * @example 10000
   * Defaults to `4096`.
   */
  maxStacks?: number;
}

/** A recognizer's state over the bytes accepted so far. */
export interface GrammarMatcher {
  /**
   * Feeds one byte (0-255). Returns false, leaving the state unchanged, when no parse can
   * continue with it.
   * @throws {XlamInvalidArgumentError} when the grammar needs more than `maxStacks` stacks.
   */
  accept(byte: number): boolean;
  /** Whether the bytes so far form a complete `root` (and end on a UTF-8 character boundary). */
  isComplete(): boolean;
  /** An independent copy of the state. */
  clone(): GrammarMatcher;
}

/** Shared by a matcher and its clones: the grammar and the stack intern table. */
class Runtime {
  private readonly table = new Map<number, Stack>();
  private nextId = 1;

  constructor(readonly g: CompiledGrammar, readonly maxStacks: number) {}

  stack(pos: number, next: Stack | null): Stack {
    const key = (next === null ? 0 : next.id) * 0x200000 + pos;
    let s = this.table.get(key);
    if (s === undefined) {
      if (pos >= 0x200000) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', 'grammar: too large for the reference recognizer (2M positions)');
      s = { pos, next, id: this.nextId++ };
      this.table.set(key, s);
    }
    return s;
  }

  /** Expands `s` until a character set is on top of every resulting stack; adds them to `out`. */
  advance(s: Stack | null, out: Set<Stack | null>, seen: Set<Stack | null>): void {
    if (seen.has(s)) return;
    seen.add(s);
    if (s === null || this.g.kind[s.pos] === CHAR) {
      // A set no code point is in (`[]`, an unsatisfiable schema part) can never move: the
      // stack is dead now, as the native matcher finds when it expands it (schema-grammar
      // fuzzer finding: the two disagreed by one byte on where such a parse died).
      if (s !== null && !setMeets(this.g.sets[this.g.arg[s.pos]!]!, 0, 0x10ffff)) return;
      out.add(s);
      if (out.size > this.maxStacks) {
        throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `grammar: more than ${this.maxStacks} parses alive at once (the grammar is too ambiguous)`);
      }
      return;
    }
    const { kind, arg, alts } = this.g;
    const rest = kind[s.pos + 1] === END ? s.next : this.stack(s.pos + 1, s.next);
    for (const start of alts[arg[s.pos]!]!) this.advance(kind[start] === END ? rest : this.stack(start, rest), out, seen);
  }

  initial(): Array<Stack | null> {
    const out = new Set<Stack | null>();
    const seen = new Set<Stack | null>();
    for (const start of this.g.alts[this.g.root]!) this.advance(this.g.kind[start] === END ? null : this.stack(start, null), out, seen);
    return [...out];
  }

  /** The stacks after code point `cp`. */
  step(stacks: ReadonlyArray<Stack | null>, cp: number): Array<Stack | null> {
    const { kind, arg, sets } = this.g;
    const out = new Set<Stack | null>();
    const seen = new Set<Stack | null>();
    for (const s of stacks) {
      if (s === null || !setHas(sets[arg[s.pos]!]!, cp)) continue;
      this.advance(kind[s.pos + 1] === END ? s.next : this.stack(s.pos + 1, s.next), out, seen);
    }
    return [...out];
  }

  /** The stacks whose top accepts some code point in one of `ranges` (`[lo, hi]` pairs). */
  filter(stacks: ReadonlyArray<Stack | null>, ranges: number[]): Array<Stack | null> {
    const { arg, sets } = this.g;
    return stacks.filter((s) => {
      if (s === null) return false;
      const set = sets[arg[s.pos]!]!;
      for (let i = 0; i < ranges.length; i += 2) if (setMeets(set, ranges[i]!, ranges[i + 1]!)) return true;
      return false;
    });
  }
}

const MIN_CODE_POINT = [0, 0, 0x80, 0x800, 0x10000];

/** The code points a UTF-8 sequence of `len` bytes can still become, as `[lo, hi]` pairs (surrogates excluded). */
function candidates(value: number, need: number, len: number): number[] {
  let lo = value * 2 ** (6 * need);
  let hi = lo + 2 ** (6 * need) - 1;
  lo = Math.max(lo, MIN_CODE_POINT[len]!);
  hi = Math.min(hi, 0x10ffff);
  if (lo > hi) return [];
  const out: number[] = [];
  if (lo < 0xd800) out.push(lo, Math.min(hi, 0xd7ff));
  if (hi > 0xdfff) out.push(Math.max(lo, 0xe000), hi);
  return out;
}

class Matcher implements GrammarMatcher {
  constructor(
    private readonly rt: Runtime,
    private stacks: ReadonlyArray<Stack | null>,
    /** The code point bits of a UTF-8 sequence in progress, the bytes it still needs and its length. */
    private value = 0,
    private need = 0,
    private len = 0,
  ) {}

  accept(byte: number): boolean {
    if (!Number.isInteger(byte) || byte < 0 || byte > 255) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `accept: expected a byte (0-255), got ${byte}`);
    let value: number;
    let need: number;
    let len: number;
    if (this.need === 0) {
      if (byte < 0x80) {
        const next = this.rt.step(this.stacks, byte);
        if (next.length === 0) return false;
        this.stacks = next;
        return true;
      }
      if (byte >= 0xc2 && byte <= 0xdf) [value, need, len] = [byte & 0x1f, 1, 2];
      else if (byte >= 0xe0 && byte <= 0xef) [value, need, len] = [byte & 0x0f, 2, 3];
      else if (byte >= 0xf0 && byte <= 0xf4) [value, need, len] = [byte & 0x07, 3, 4];
      else return false;
    } else {
      if ((byte & 0xc0) !== 0x80) return false;
      [value, need, len] = [this.value * 64 + (byte & 0x3f), this.need - 1, this.len];
    }
    const ranges = candidates(value, need, len);
    if (ranges.length === 0) return false;
    if (need === 0) {
      const next = this.rt.step(this.stacks, value);
      if (next.length === 0) return false;
      this.stacks = next;
    } else {
      const alive = this.rt.filter(this.stacks, ranges);
      if (alive.length === 0) return false;
      this.stacks = alive;
    }
    this.value = value;
    this.need = need;
    this.len = len;
    return true;
  }

  isComplete(): boolean {
    return this.need === 0 && this.stacks.includes(null);
  }

  clone(): GrammarMatcher {
    return new Matcher(this.rt, this.stacks, this.value, this.need, this.len);
  }
}

/**
 * A recognizer for a grammar (IR, or compiled with {@link compileGrammar} to share the work
 * between many matchers), at the start of the text.
 *
 * @example
 * ```ts
 * const m = createMatcher(parseGbnf('root ::= "h" [a-z]+\n'));
 * for (const b of Buffer.from('hey')) if (!m.accept(b)) break;
 * m.isComplete();  // true
 * ```
 * @throws {XlamInvalidArgumentError} `INVALID_ARGUMENT` for a grammar that does not compile
 *   (see {@link compileGrammar}: undefined rules, no root, left recursion).
 */
export function createMatcher(grammar: GbnfGrammar | CompiledGrammar, options: MatcherOptions = {}): GrammarMatcher {
  const compiled = 'rules' in grammar ? compileGrammar(grammar) : grammar;
  const rt = new Runtime(compiled, options.maxStacks ?? 4096);
  return new Matcher(rt, rt.initial());
}

/** The UTF-8 bytes of `text` (a string) or the bytes themselves. */
const bytesOf = (text: string | Uint8Array) => (typeof text === 'string' ? new TextEncoder().encode(text) : text);

/**
 * Feeds `text` (a string, as UTF-8, or bytes) to a fresh matcher, stopping at the first byte no
 * parse accepts. `accepted` is the number of bytes taken (the offset of the offending byte when
 * it is below the length) and `complete` whether they form a complete `root`.
 *
 * @example matchPrefix(g, '{"a": x')  // { accepted: 6, complete: false }
 */
export function matchPrefix(grammar: GbnfGrammar | CompiledGrammar, text: string | Uint8Array, options?: MatcherOptions): { accepted: number; complete: boolean } {
  const m = createMatcher(grammar, options);
  const bytes = bytesOf(text);
  let i = 0;
  while (i < bytes.length && m.accept(bytes[i]!)) i++;
  return { accepted: i, complete: i === bytes.length && m.isComplete() };
}

/** Whether the whole of `text` (UTF-8) is a complete `root` of the grammar. */
export function matches(grammar: GbnfGrammar | CompiledGrammar, text: string | Uint8Array, options?: MatcherOptions): boolean {
  return matchPrefix(grammar, text, options).complete;
}

/** Whether every byte of `text` (UTF-8) is accepted: `text` is a prefix of some complete `root`. */
export function acceptsPrefix(grammar: GbnfGrammar | CompiledGrammar, text: string | Uint8Array, options?: MatcherOptions): boolean {
  return matchPrefix(grammar, text, options).accepted === bytesOf(text).length;
}
