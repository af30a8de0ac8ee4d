/**
 * The grammar of plain text: output that the tool-call parser (`ToolCallStreamParser`, with a
 * given format's rules) reads as text only, never opening a tool-call block. Used for the
 * `'none'` and `'auto'` tool choices of the xLAM-2 envelope, where a model that does not call
 * answers in text: that text may not start a call, not even a malformed one.
 *
 * The parser's text mode is a finite automaton once each run of JSON whitespace it holds back is
 * seen as one character (the opener matcher skips whole runs): its state is whether bare JSON may
 * open a block (`bare`: at the start, whitespace aside, or after `</think>`), how much of
 * `</think>` was just read, and the text held back as a possible opener. This module runs the
 * parser's own opener matcher (`matchOpener`, `mayOpen` of parse/openers.ts) over those states —
 * mirroring `drain` and `textChar` of parse/stream.ts, which test/grammar-envelope.test.ts checks
 * against the real parser on random texts — minimises the automaton and writes one rule per state.
 *
 * On top of the parser's rule, a `[` where bare JSON may open a block ends plain text even when the
 * parser would read what follows as text (`[1] ...`): at the start of the output `[` is a call list.
 */
import { CALL_KEYS, FORMAT_RULES, mayOpen, matchOpener, V1_KEYS, type FormatRules, type ToolCallFormat } from '../parse/openers.js';
import { alt, charClass, empty, ref, seq, type GbnfExpr, type GbnfRef } from './gbnf.js';
import type { RuleSet } from './rules.js';

const THINK_END = '</think>';

/** The JSON whitespace the opener matcher skips. */
const JSON_WS = [0x20, 0x0a, 0x0d, 0x09];

/** As parse/stream.ts `isSpace`: the characters `String.prototype.trim` removes. */
function isSpace(c: string): boolean {
  return c <= ' ' ? c === ' ' || (c >= '\t' && c <= '\r') : c > '\x7f' && /\s/.test(c);
}

/** The other characters `trim` removes: they keep `bare` but are not JSON whitespace. */
const TRIM_ONLY: number[] = [];
for (let cp = 0; cp <= 0xffff; cp++) {
  if ((cp < 0xd800 || cp > 0xdfff) && isSpace(String.fromCharCode(cp)) && !JSON_WS.includes(cp)) TRIM_ONLY.push(cp);
}

/** One symbol of the automaton's alphabet: a representative character and the code points it stands for (`null`: all others). */
interface SymbolClass {
  rep: string;
  points: number[] | null;
}

function alphabet(rules: FormatRules): SymbolClass[] {
  const chars = new Set<string>('[]{}"');
  const words = [THINK_END, ...CALL_KEYS, ...V1_KEYS, ...rules.objectKeys, ...rules.wrappers.flatMap((w) => [w.prefix, w.optional ?? '', w.closer ?? ''])];
  for (const w of words) for (const c of w) chars.add(c);
  const symbols: SymbolClass[] = [...chars].sort().map((c) => ({ rep: c, points: [c.codePointAt(0)!] }));
  symbols.push({ rep: ' ', points: JSON_WS }, { rep: '\v', points: TRIM_ONLY });
  const taken = new Set(symbols.flatMap((s) => s.points!));
  const other = [...'xyzXYZ~#%'].find((c) => !taken.has(c.codePointAt(0)!))!;
  symbols.push({ rep: other, points: null });
  return symbols;
}

/** The parser's text-mode state; `pending` with each JSON-whitespace run as one space. */
interface TextState {
  bare: boolean;
  think: number;
  pending: string;
}

const keyOf = (s: TextState) => `${s.bare ? 1 : 0}|${s.think}|${s.pending}`;

/**
 * Feeds one character (or, with `c` undefined, the end of the output) to `state`, as
 * `ToolCallStreamParser.step` / `end` do in text mode (`drain`, with `textChar` for each
 * character that turns out to be text). Returns the new state, or undefined when a block opens
 * (or `[` comes where bare JSON may).
 *
 * While text is held back, how much of `</think>` came before it does not matter: the held text
 * starts with `` ` ``, `[`, `{` or `<`, and once that character is text the count is 0 or 1
 * whatever it was. So it is kept at 0 then, which keeps the automaton small.
 */
function feed(rules: FormatRules, state: TextState, c: string | undefined): TextState | undefined {
  let { bare, think, pending } = state;
  const final = c === undefined;
  if (c !== undefined) pending = c === ' ' && pending.endsWith(' ') ? pending : pending + c;
  while (pending.length > 0) {
    const c0 = pending[0]!;
    if (bare && c0 === '[') return undefined;
    if (mayOpen(c0, rules, bare)) {
      const m = matchOpener(pending, rules, bare);
      if (m.status === 'commit') return undefined;
      if (m.status === 'partial' && !final) return { bare, think: 0, pending };
    }
    pending = pending.slice(1);
    think = c0 === THINK_END[think] ? think + 1 : c0 === '<' ? 1 : 0;
    if (!isSpace(c0)) bare = false;
    if (think === THINK_END.length) {
      think = 0;
      bare = true;
    }
  }
  return { bare, think, pending };
}

/** A minimal deterministic automaton of plain text: `next[state][symbol]` (-1: not plain text), state 0 first. */
interface TextAutomaton {
  symbols: SymbolClass[];
  next: number[][];
  accepting: boolean[];
}

function build(format: ToolCallFormat): TextAutomaton {
  const rules = FORMAT_RULES[format];
  const symbols = alphabet(rules);
  // Explore the reachable states.
  const states: TextState[] = [{ bare: true, think: 0, pending: '' }];
  const index = new Map<string, number>([[keyOf(states[0]!), 0]]);
  const next: number[][] = [];
  for (let i = 0; i < states.length; i++) {
    next.push(
      symbols.map((sym) => {
        const s = feed(rules, states[i]!, sym.rep);
        if (!s) return -1;
        const k = keyOf(s);
        let j = index.get(k);
        if (j === undefined) {
          j = states.push(s) - 1;
          index.set(k, j);
        }
        return j;
      }),
    );
  }
  const accepting = states.map((s) => feed(rules, s, undefined) !== undefined);
  // Moore's partition refinement; the dead state is class -1.
  let cls: number[] = accepting.map((a) => (a ? 1 : 0));
  for (;;) {
    const sig = new Map<string, number>();
    const refined = states.map((_, i) => {
      const k = `${cls[i]}:${next[i]!.map((j) => (j < 0 ? -1 : cls[j])).join(',')}`;
      let c = sig.get(k);
      if (c === undefined) sig.set(k, (c = sig.size));
      return c;
    });
    const before = new Set(cls).size;
    cls = refined;
    if (sig.size === before) break;
  }
  // Renumber so that the start state is 0, in order of first appearance.
  const order = new Map<number, number>();
  cls.forEach((c) => order.has(c) || order.set(c, order.size));
  const n = order.size;
  const minNext: number[][] = Array.from({ length: n }, () => []);
  const minAccepting: boolean[] = new Array<boolean>(n).fill(false);
  states.forEach((_, i) => {
    const c = order.get(cls[i]!)!;
    minNext[c] = next[i]!.map((j) => (j < 0 ? -1 : order.get(cls[j]!)!));
    minAccepting[c] = accepting[i]!;
  });
  return { symbols, next: minNext, accepting: minAccepting };
}

const cache = new Map<ToolCallFormat, TextAutomaton>();

/** The code point ranges of a set of points, merged. */
function ranges(points: number[]): Array<[number, number]> {
  const sorted = [...new Set(points)].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && p === last[1] + 1) last[1] = p;
    else out.push([p, p]);
  }
  return out;
}

/**
 * Adds the plain-text rules to `rules` and returns the start rule: any text (the empty one
 * included) that the parser, with `format`'s rules, reads without opening a tool-call block, and
 * with no `[` where bare JSON may open one (the start of the output, whitespace aside, or after
 * `</think>`).
 *
 * @example
 * ```ts
 * const rules = new RuleSet();
 * const g = rules.grammar(plainTextRule(rules, 'xlam2'));
 * matches(g, 'It is sunny.');                         // true
 * matches(g, '```json\n[{"name": "f"}]\n```');        // false: a fenced call list
 * ```
 */
export function plainTextRule(rules: RuleSet, format: ToolCallFormat): GbnfRef {
  let a = cache.get(format);
  if (!a) cache.set(format, (a = build(format)));
  const refs = a.next.map(() => rules.reserve('text'));
  const points = a.symbols.filter((s) => s.points !== null).flatMap((s) => s.points!);
  a.next.forEach((row, state) => {
    const byTarget = new Map<number, SymbolClass[]>();
    row.forEach((target, k) => {
      if (target >= 0) byTarget.set(target, [...(byTarget.get(target) ?? []), a.symbols[k]!]);
    });
    const options: GbnfExpr[] = [];
    for (const [target, syms] of byTarget) {
      const cls = syms.some((s) => s.points === null)
        ? charClass(ranges(points.filter((p) => !syms.some((s) => s.points?.includes(p)))), true)
        : charClass(ranges(syms.flatMap((s) => s.points!)));
      options.push(seq(cls, ref(refs[target]!.name)));
    }
    if (a.accepting[state]) options.push(empty());
    rules.define(refs[state]!, options.length === 0 ? charClass([], false) : alt(...options));
  });
  return refs[0]!;
}
