/**
 * tokenizer.json patterns run as JavaScript regular expressions, which backtrack: a group
 * repeated without bound that itself holds a variable-length quantifier (`(a+)+`, `(\s*x)*`,
 * `(?:a|b+){2,}`, `(a{1,3})+`) can take exponential time on a crafted input (ReDoS), blocking the
 * host's event loop. Such patterns are refused when the tokenizer loads (shared/RELIABILITY.md
 * S34). No pattern of a real tokenizer (the GPT-2 / Llama-3 / Qwen2 / DeepSeek pre-tokenizer
 * expressions, SentencePiece replacements) nests quantifiers; the check is conservative (it also
 * refuses harmless nestings such as `(ab?)+`), which only an unusual tokenizer would meet.
 */

/**
 * Where `pattern` repeats a group without bound (`+`, `*`, `{n,}`, `{n,m}` with m > 16) that
 * itself holds a quantifier of variable length (`+`, `*`, `?`, `{n,m}` with n < m): the offset of
 * that group's `)`, or -1. Ambiguous alternations (`(a|a)+`) are not detected.
 */
export function nestedQuantifierAt(pattern: string): number {
  // One frame per open group: whether it holds a variable-length quantifier so far.
  const stack: boolean[] = [false];
  const quantifierAt = (j: number): { quantifier: boolean; unbounded: boolean; variable: boolean; end: number } => {
    const c = pattern[j];
    if (c === '*' || c === '+') return { quantifier: true, unbounded: true, variable: true, end: j + 1 };
    if (c === '?') return { quantifier: true, unbounded: false, variable: true, end: j + 1 };
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(j));
      if (m) {
        const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
        return { quantifier: true, unbounded: max > 16, variable: max !== Number(m[1]), end: j + m[0].length };
      }
    }
    return { quantifier: false, unbounded: false, variable: false, end: j };
  };
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    let atomEnd = i + 1;
    let group: boolean | undefined; // for a `)`: whether the group it closes holds a variable quantifier
    if (c === '\\') {
      atomEnd = i + 2;
      // \p{...}, \u{...}, \k<name>: one atom with its braces.
      if (/[pPuk]/.test(pattern[i + 1] ?? '') && (pattern[i + 2] === '{' || pattern[i + 2] === '<')) {
        const close = pattern.indexOf(pattern[i + 2] === '{' ? '}' : '>', i + 3);
        atomEnd = close < 0 ? pattern.length : close + 1;
      }
    } else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      atomEnd = j + 1;
    } else if (c === '(') {
      stack.push(false);
      // Group prefixes: (?:, (?=, (?!, (?<=, (?<!, (?<name>, (?i:
      let j = i + 1;
      if (pattern[j] === '?') {
        const m = /^\?(<[=!]|[:=!]|<[^>]*>|[a-zA-Z-]*:)/.exec(pattern.slice(j));
        j += m ? m[0].length : 1;
      }
      i = j;
      continue;
    } else if (c === ')') {
      group = stack.length > 1 ? stack.pop()! : false;
    }
    const q = quantifierAt(atomEnd);
    if (group === true && q.unbounded) return i;
    if (group === true || q.variable) stack[stack.length - 1] = true;
    i = q.quantifier && (pattern[q.end] === '?' || pattern[q.end] === '+') ? q.end + 1 : q.end; // lazy / possessive suffix
  }
  return -1;
}

/** Every `{"Regex": "..."}` pattern in a tokenizer.json value, with its JSON path. */
export function tokenizerRegexes(value: unknown, path = ''): Array<{ path: string; pattern: string }> {
  if (Array.isArray(value)) return value.flatMap((v, i) => tokenizerRegexes(v, `${path}[${i}]`));
  if (!value || typeof value !== 'object') return [];
  const out: Array<{ path: string; pattern: string }> = [];
  for (const [k, v] of Object.entries(value)) {
    if (k === 'Regex' && typeof v === 'string') out.push({ path: `${path}.Regex`, pattern: v });
    else if (k !== 'model' && k !== 'added_tokens') out.push(...tokenizerRegexes(v, `${path}.${k}`));
  }
  return out;
}
