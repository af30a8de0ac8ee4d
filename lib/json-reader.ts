/**
 * The one JSON reader of the library: strict RFC 8259 text to values made by a builder, so each
 * caller gets its own representation — lib/parse/json.ts plain objects with JS or literal
 * numbers, the template layer's Python data (Maps, floats that stay floats).
 */

/** How {@link parseJsonWith} builds values. */
export interface JsonBuilder<V> {
  /** An object from its members in document order (a repeated key appears twice). */
  object(members: Array<[string, V]>): V;
  array(items: V[]): V;
  /** A number from its literal text (a valid JSON number, or NaN/Infinity/-Infinity when allowed). */
  number(raw: string): V;
  string(value: string): V;
  constant(value: boolean | null): V;
  /** Accept Python's `NaN`, `Infinity` and `-Infinity` (json.loads does). Defaults to false. */
  allowNonFinite?: boolean;
}

const WS = new Set([' ', '\t', '\n', '\r']);
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Parses strict JSON (RFC 8259) with a builder. Throws a `SyntaxError` naming what was expected,
 * what was found and the position.
 */
export function parseJsonWith<V>(text: string, b: JsonBuilder<V>): V {
  let i = 0;
  const fail = (what: string): never => {
    const at = i < text.length ? `${JSON.stringify(text[i])} at position ${i}` : 'end of input';
    throw new SyntaxError(`${what}, found ${at}`);
  };
  const skip = () => {
    while (i < text.length && WS.has(text[i]!)) i++;
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail('control character in string');
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          i += 2;
          fail('bad \\u escape');
        }
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else if (e !== undefined && Object.hasOwn(ESCAPES, e)) {
        out += ESCAPES[e];
        i += 2;
      } else {
        i++;
        fail('bad escape');
      }
      start = i;
    }
    out += text.slice(start, i);
    i++;
    return out;
  };
  // Objects and arrays share one loop: members until the closing bracket.
  const container = (close: '}' | ']', member: () => void): void => {
    i++;
    skip();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      member();
      skip();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === close) {
        i++;
        return;
      }
      fail(`expected ',' or '${close}'`);
    }
  };
  const value = (): V => {
    skip();
    const c = text[i];
    if (c === '"') return b.string(str());
    if (c === '{') {
      const members: Array<[string, V]> = [];
      container('}', () => {
        skip();
        if (text[i] !== '"') fail('expected a string key');
        const key = str();
        skip();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        members.push([key, value()]);
      });
      return b.object(members);
    }
    if (c === '[') {
      const items: V[] = [];
      container(']', () => items.push(value()));
      return b.array(items);
    }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return b.constant(v);
      }
    }
    if (b.allowNonFinite) {
      for (const word of ['NaN', 'Infinity', '-Infinity']) {
        if (text.startsWith(word, i)) {
          i += word.length;
          return b.number(word);
        }
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m && m[0] !== '-' && m[0].length > 0) {
      i += m[0].length;
      return b.number(m[0]);
    }
    return fail('expected a JSON value');
  };
  const result = value();
  skip();
  if (i < text.length) fail('unexpected text after the JSON value');
  return result;
}

/** A plain JS object from members (the last of a repeated key wins, as JSON.parse). */
export function plainObject<V>(members: Array<[string, V]>): { [key: string]: V } {
  const obj: { [key: string]: V } = {};
  for (const [key, v] of members) {
    if (key === '__proto__') Object.defineProperty(obj, key, { value: v, writable: true, enumerable: true, configurable: true });
    else obj[key] = v;
  }
  return obj;
}

