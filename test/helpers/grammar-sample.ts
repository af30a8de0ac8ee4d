// Random documents of a grammar: a random top-down derivation of the compiled grammar (every
// alternative equally likely, each character drawn from its set with a bias towards characters
// that matter to JSON, formats and the validator: digits, quotes, backslashes, non-ASCII, beyond
// U+FFFF). Past a length budget every choice takes the alternative that completes soonest, so
// every walk ends. The documents are in the grammar by construction.
import { compileGrammar, type CompiledGrammar, type GbnfGrammar } from '../../dist/lib/grammar/index.js';
import { CHAR, END, REF, setHas, type CharSet } from '../../dist/lib/grammar/compile.js';
import { prng } from './prng.js';


const PALETTE = [
  ...'0123456789', ...'09', '-', '+', '.', ':', 'e', 'E', 'T', 't', 'Z', 'z', 'a', 'f', 'F', 'A', 'x', ' ', '_', '/', '\\', '"', 'u', 'n',
  '{', '}', '[', ']', ',', '@', '\t', '\n', '\r', '\0', '\x1f', '\x7f', 'é', 'ж', '東', '\u00a0', '\u2028', '\ufeff', '😀', '𝄞',
].map((c) => c.codePointAt(0)!);

/** The minimal number of characters each rule derives (Infinity: none). */
function minLengths(g: CompiledGrammar): Float64Array {
  const min = new Float64Array(g.alts.length).fill(Infinity);
  const altLen = (start: number): number => {
    let n = 0;
    for (let p = start; g.kind[p] !== END; p++) n += g.kind[p] === CHAR ? 1 : min[g.arg[p]!]!;
    return n;
  };
  for (let changed = true; changed; ) {
    changed = false;
    g.alts.forEach((alts, r) => {
      for (const a of alts) {
        const n = altLen(a);
        if (n < min[r]!) {
          min[r] = n;
          changed = true;
        }
      }
    });
  }
  return min;
}

function randomInRanges(s: CharSet, rnd: () => number): number | undefined {
  const r = s.ranges;
  if (s.negated) {
    // A random character up to U+FFFF or beyond, not in the excluded ranges.
    for (let i = 0; i < 20; i++) {
      const cp = rnd() < 0.8 ? Math.floor(rnd() * 0x10000) : 0x10000 + Math.floor(rnd() * 0x100000);
      if ((cp < 0xd800 || cp > 0xdfff) && setHas(s, cp)) return cp;
    }
    return undefined;
  }
  if (r.length === 0) return undefined;
  for (let i = 0; i < 20; i++) {
    const k = Math.floor(rnd() * (r.length / 2));
    const cp = r[2 * k]! + Math.floor(rnd() * (r[2 * k + 1]! - r[2 * k]! + 1));
    if (cp < 0xd800 || cp > 0xdfff) return cp;
  }
  return undefined;
}

function pickChar(s: CharSet, rnd: () => number): number | undefined {
  if (rnd() < 0.6) {
    const fits = PALETTE.filter((cp) => setHas(s, cp));
    if (fits.length > 0) return fits[Math.floor(rnd() * fits.length)]!;
  }
  return randomInRanges(s, rnd) ?? PALETTE.find((cp) => setHas(s, cp));
}

/** A sampler of random documents of one grammar. */
export class GrammarSampler {
  readonly g: CompiledGrammar;
  private readonly min: Float64Array;

  constructor(grammar: GbnfGrammar | CompiledGrammar) {
    this.g = 'rules' in grammar ? compileGrammar(grammar) : grammar;
    this.min = minLengths(this.g);
  }

  private altMin(start: number): number {
    let n = 0;
    for (let p = start; this.g.kind[p] !== END; p++) n += this.g.kind[p] === CHAR ? 1 : this.min[this.g.arg[p]!]!;
    return n;
  }

  /**
   * A random document, or undefined when a character set had no character to give (or the
   * grammar derives nothing). `budget`: the length past which the walk heads for the end.
   */
  sample(rnd: () => number, budget = 300): string | undefined {
    const { g } = this;
    if (this.min[g.root] === Infinity) return undefined;
    const out: number[] = [];
    const stack: number[] = [];
    const enter = (rule: number) => {
      const alts = g.alts[rule]!.filter((a) => this.altMin(a) < Infinity);
      let a: number;
      if (out.length < budget) a = alts[Math.floor(rnd() * alts.length)]!;
      else a = alts.reduce((best, x) => (this.altMin(x) < this.altMin(best) ? x : best));
      stack.push(a);
    };
    enter(g.root);
    while (stack.length > 0) {
      const p = stack.pop()!;
      const k = g.kind[p];
      if (k === END) continue;
      stack.push(p + 1);
      if (k === REF) enter(g.arg[p]!);
      else {
        const cp = pickChar(g.sets[g.arg[p]!]!, rnd);
        if (cp === undefined) return undefined;
        out.push(cp);
      }
      if (out.length > 20 * budget) return undefined;
    }
    return String.fromCodePoint(...out);
  }
}
