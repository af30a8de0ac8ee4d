/**
 * A compiled grammar → the byte-level grammar the native matcher runs. Code-point sets become
 * byte sets: an ASCII-only set is one byte-set element; a set with multi-byte characters becomes
 * a rule whose alternatives are its UTF-8 byte-range sequences (the split of Russ Cox's
 * utf8-ranges, as RE2 and Rust's regex-syntax do), so the automaton needs no UTF-8 decoding and
 * rejects invalid UTF-8 (overlong forms, surrogates, beyond U+10FFFF) by construction: the same
 * language over bytes as the reference recognizer (match.ts).
 */
import { CHAR, END, REF, type CharSet, type CompiledGrammar } from './compile.js';

/** Element kinds of a {@link ByteGrammar}. */
export const BYTE_END = 0;
export const BYTE_SET = 1;
export const BYTE_REF = 2;

/**
 * A grammar over bytes, in flat arrays (what `NativeRequest.grammar` carries).
 *
 * Rule `r`'s alternatives are `altStart[ruleAlts[r] .. ruleAlts[r + 1])`: positions in
 * `kind`/`arg` where each alternative's elements start; every alternative ends with an END.
 */
export interface ByteGrammar {
  /** Per element: {@link BYTE_END}, {@link BYTE_SET} or {@link BYTE_REF}. */
  kind: Uint8Array;
  /** Per element: the byte set's index (BYTE_SET), the rule's index (BYTE_REF), 0 (END). */
  arg: Int32Array;
  /** 8 words per byte set: byte `b` is in set `s` when bit `b & 31` of word `8 * s + (b >> 5)` is set. */
  sets: Uint32Array;
  /** Per rule, the index of its first alternative in `altStart`; one more entry at the end. */
  ruleAlts: Int32Array;
  /** Start positions of the alternatives. */
  altStart: Int32Array;
  /** The start rule. */
  root: number;
}

const MAX_CP = 0x10ffff;

/** The code point ranges in a set, as positive ranges without surrogates. */
function positiveRanges(s: CharSet): Array<[number, number]> {
  const raw: Array<[number, number]> = [];
  for (let i = 0; i < s.ranges.length; i += 2) raw.push([s.ranges[i]!, s.ranges[i + 1]!]);
  let ranges = raw;
  if (s.negated) {
    ranges = [];
    let next = 0;
    for (const [lo, hi] of raw) {
      if (lo > next) ranges.push([next, lo - 1]);
      next = Math.max(next, hi + 1);
    }
    if (next <= MAX_CP) ranges.push([next, MAX_CP]);
  }
  const out: Array<[number, number]> = [];
  for (const [lo0, hi0] of ranges) {
    const lo = Math.max(lo0, 0);
    const hi = Math.min(hi0, MAX_CP);
    if (lo > hi) continue;
    if (hi < 0xd800 || lo > 0xdfff) out.push([lo, hi]);
    else {
      if (lo < 0xd800) out.push([lo, 0xd7ff]);
      if (hi > 0xdfff) out.push([0xe000, hi]);
    }
  }
  return out;
}

function utf8(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}

/** Splits `[lo, hi]` (no surrogates) into sequences of byte ranges, each a product of ranges. */
function utf8Sequences(lo: number, hi: number, out: Array<Array<[number, number]>>): void {
  for (const edge of [0x7f, 0x7ff, 0xffff]) {
    if (lo <= edge && hi > edge) {
      utf8Sequences(lo, edge, out);
      utf8Sequences(edge + 1, hi, out);
      return;
    }
  }
  if (hi < 0x80) {
    out.push([[lo, hi]]);
    return;
  }
  const n = utf8(lo).length;
  for (let i = 1; i < n; i++) {
    const m = (1 << (6 * i)) - 1;
    if ((lo & ~m) !== (hi & ~m)) {
      if ((lo & m) !== 0) {
        utf8Sequences(lo, lo | m, out);
        utf8Sequences((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) !== m) {
        utf8Sequences(lo, (hi & ~m) - 1, out);
        utf8Sequences(hi & ~m, hi, out);
        return;
      }
    }
  }
  const a = utf8(lo);
  const b = utf8(hi);
  out.push(a.map((x, k) => [x, b[k]!]));
}

/**
 * Lowers a compiled grammar to bytes. A character set with no valid UTF-8 character (e.g. only
 * surrogates, or nothing) becomes a rule without alternatives: it never matches.
 * @example `const bg = toByteGrammar(compileGrammar(toolCallGrammar(tools)))`
 */
export function toByteGrammar(g: CompiledGrammar): ByteGrammar {
  const kind: number[] = [];
  const arg: number[] = [];
  const sets: number[] = [];
  const setIndex = new Map<string, number>();
  const altStart: number[] = [];
  const ruleAlts: number[] = [];
  const byteSet = (ranges: ReadonlyArray<readonly [number, number]>): number => {
    const words = new Array<number>(8).fill(0);
    for (const [lo, hi] of ranges) for (let b = lo; b <= hi; b++) words[b >> 5]! |= 1 << (b & 31);
    const key = words.join(',');
    let i = setIndex.get(key);
    if (i === undefined) {
      i = setIndex.size;
      setIndex.set(key, i);
      for (const w of words) sets.push(w >>> 0);
    }
    return i;
  };
  // Rules: the compiled ones keep their indices; multi-byte sets get rules after them.
  const nRules = g.alts.length;
  const extra: Array<Array<Array<[number, number]>>> = [];
  const setRule = new Map<number, number>(); // compiled set index -> byte-set index or ~rule
  const lowerSet = (si: number): { set: number } | { rule: number } => {
    let v = setRule.get(si);
    if (v === undefined) {
      const seqs: Array<Array<[number, number]>> = [];
      for (const [lo, hi] of positiveRanges(g.sets[si]!)) utf8Sequences(lo, hi, seqs);
      // No valid character (e.g. the set of a `false` schema): a rule without alternatives.
      if (seqs.length > 0 && seqs.every((s) => s.length === 1)) v = byteSet(seqs.map((s) => s[0]!));
      else {
        extra.push(seqs);
        v = ~(nRules + extra.length - 1);
      }
      setRule.set(si, v);
    }
    return v >= 0 ? { set: v } : { rule: ~v };
  };
  for (let r = 0; r < nRules; r++) {
    ruleAlts.push(altStart.length);
    for (const start of g.alts[r]!) {
      altStart.push(kind.length);
      for (let p = start; ; p++) {
        const k = g.kind[p];
        if (k === END) break;
        if (k === REF) {
          kind.push(BYTE_REF);
          arg.push(g.arg[p]!);
        } else if (k === CHAR) {
          const l = lowerSet(g.arg[p]!);
          if ('set' in l) {
            kind.push(BYTE_SET);
            arg.push(l.set);
          } else {
            kind.push(BYTE_REF);
            arg.push(l.rule);
          }
        }
      }
      kind.push(BYTE_END);
      arg.push(0);
    }
  }
  for (const seqs of extra) {
    ruleAlts.push(altStart.length);
    // Sequences sharing a first byte range stay separate alternatives: the matcher is nondeterministic.
    for (const seq of seqs) {
      altStart.push(kind.length);
      for (const range of seq) {
        kind.push(BYTE_SET);
        arg.push(byteSet([range]));
      }
      kind.push(BYTE_END);
      arg.push(0);
    }
  }
  ruleAlts.push(altStart.length);
  return {
    kind: Uint8Array.from(kind),
    arg: Int32Array.from(arg),
    sets: Uint32Array.from(sets),
    ruleAlts: Int32Array.from(ruleAlts),
    altStart: Int32Array.from(altStart),
    root: g.root,
  };
}
