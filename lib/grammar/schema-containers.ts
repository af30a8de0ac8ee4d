/**
 * The object and array parts of schema grammars: members in the schema's order with optional
 * properties and their commas, keys that must differ from the declared ones, and item counts.
 */
import { alt, charClass, empty, lit, opt, repeat, seq, star, type GbnfExpr } from './gbnf.js';
import type { JsonRules } from './json-rules.js';
import type { RuleSet } from './rules.js';

/** One declared object property, in schema order. */
export interface Member {
  name: string;
  required: boolean;
  /** The grammar of its value. */
  value: GbnfExpr;
}

interface TrieNode {
  end: boolean;
  children: Map<string, TrieNode>;
}

/**
 * The JSON string of an object key that is none of `names` (llama.cpp's `_not_strings`, made
 * exact: a proper prefix of a name is allowed too). Keys are matched as written, so where a key
 * could still become a name, its next character is not an escape (`"\u0061"` is `"a"` once
 * parsed); a name whose JSON spelling needs an escape is not excluded.
 */
export function keyNotIn(json: JsonRules, names: readonly string[]): GbnfExpr {
  const root: TrieNode = { end: false, children: new Map() };
  for (const name of names) {
    const spelled = JSON.stringify(name).slice(1, -1);
    if (spelled.includes('\\')) continue;
    let node = root;
    for (const ch of spelled) {
      let next = node.children.get(ch);
      if (!next) node.children.set(ch, (next = { end: false, children: new Map() }));
      node = next;
    }
    node.end = true;
  }
  const visit = (node: TrieNode): GbnfExpr => {
    const options: GbnfExpr[] = [];
    for (const [ch, child] of [...node.children].sort(([a], [b]) => (a < b ? -1 : 1))) options.push(seq(lit(ch), visit(child)));
    const others = charClass([[0x22, 0x22], [0x5c, 0x5c], [0, 0x1f], ...[...node.children.keys()].map((c): [number, number] => [c.codePointAt(0)!, c.codePointAt(0)!])], true);
    // Where a name may go on, no escape: `\u0061` could spell the name's next character.
    options.push(seq(node.children.size > 0 ? others : alt(others, json.escape()), star(json.char())));
    if (!node.end) options.push(empty());
    return alt(...options);
  };
  return seq(lit('"'), visit(root), lit('"'));
}

/**
 * `{ ... }` with the declared members in order — required ones always, optional ones or not —
 * then, when `additional` is given, any number of other members (key, value grammar). Commas go
 * only between members: from the end, `rest_i` is what may follow once something was written
 * (`"," kv_i` or `("," kv_i)?`, then `rest_{i+1}`), and the first member written is any optional
 * one before the first required one, or that required one (llama.cpp's
 * `_build_object_rule`, keeping the schema's order instead of moving required members first).
 */
export function objectGrammar(rules: RuleSet, json: JsonRules, hint: string, members: readonly Member[], additional: { key: GbnfExpr; value: GbnfExpr } | null): GbnfExpr {
  const ws = json.ws();
  const kvs = members.map((m) => rules.add(`${hint}-${m.name}-kv`, seq(lit(JSON.stringify(m.name)), lit(':'), ws, m.value)));
  const extraKv = additional && rules.add(`${hint}-extra-kv`, seq(additional.key, lit(':'), ws, additional.value));
  const n = members.length;
  const rest: GbnfExpr[] = new Array(n + 1);
  rest[n] = extraKv ? star(seq(lit(','), ws, extraKv)) : empty();
  // rest[0] would follow a member before the first: never needed.
  for (let i = n - 1; i >= 1; i--) {
    const piece = seq(lit(','), ws, kvs[i]!);
    const expr = seq(members[i]!.required ? piece : opt(piece), rest[i + 1]!);
    rest[i] = i === n - 1 && !extraKv ? expr : rules.add(`${hint}-rest-${i}`, expr);
  }
  // first[i]: a non-empty run of members from i on, nothing written before.
  let first: GbnfExpr | null = extraKv ? seq(extraKv, rest[n]!) : null;
  for (let i = n - 1; i >= 0; i--) {
    const here = seq(kvs[i]!, rest[i + 1]!);
    first = members[i]!.required || first === null ? here : alt(here, first);
  }
  if (first === null) return seq(lit('{'), ws, lit('}'));
  const anyRequired = members.some((m) => m.required);
  return seq(lit('{'), ws, anyRequired ? seq(first, ws) : opt(seq(first, ws)), lit('}'));
}

/**
 * `[ ... ]` holding between `min` and `max` (null: no bound) items: item `j` matches
 * `prefix[j]`, and items past the prefix match `item` (null: none allowed).
 */
export function arrayGrammar(json: JsonRules, prefix: readonly GbnfExpr[], item: GbnfExpr | null, min: number, max: number | null): GbnfExpr {
  const ws = json.ws();
  const k = prefix.length;
  const hi = item === null ? Math.min(max ?? k, k) : max;
  if (hi !== null && min > hi) return charClass([]); // no array can match
  if (hi === 0) return seq(lit('['), ws, lit(']'));
  const at = (j: number) => (j < k ? prefix[j]! : item!);
  const tail = (j: number): GbnfExpr => {
    if (hi !== null && j >= hi) return empty();
    if (j < k) return opt(seq(lit(','), ws, at(j), tail(j + 1)));
    return repeat(seq(lit(','), ws, item!), 0, hi === null ? null : hi - j);
  };
  const lo = Math.max(min, 1);
  const items = [at(0)];
  for (let j = 1; j < lo; j++) items.push(lit(','), ws, at(j));
  const content = seq(...items, tail(lo));
  return seq(lit('['), ws, min === 0 ? opt(seq(content, ws)) : seq(content, ws), lit(']'));
}
