/**
 * Python Jinja2's lexical rules, applied before @huggingface/jinja sees a template.
 *
 * @huggingface/jinja implements trim_blocks / lstrip_blocks with regular expressions over the raw
 * text, which also fire inside string literals and plain text (`'%}\n'` in a string, `-}\n` in
 * text lose their newline), strip only spaces and tabs, and knows no `{%+`/`+%}`, `{% raw %}`,
 * CRLF normalisation, Python string escapes (`'\U0001F600'`, `'\101'`, `'\d'` kept as is) or
 * number literals like `1e3`, `1_000`, `0x1F`. This pass tokenises the template the
 * way jinja2's lexer does (environment of transformers: trim_blocks, lstrip_blocks,
 * keep_trailing_newline off, newline normalised to `\n`), performs all whitespace control
 * itself, and re-emits a template with no whitespace-control markers, string literals re-encoded
 * in the escapes @huggingface/jinja understands and number literals in the forms it parses. The
 * library then only has to parse and run it.
 */
import { isPySpace, PY_SPACE } from './python.js';

/** A template the Jinja2 lexer rejects. */
export class TemplateSyntaxError extends Error {}

const WS = `[${PY_SPACE}]*`;
const RAW_BEGIN = new RegExp(`\\{%([-+]?)${WS}raw${WS}(-%\\}${WS}|%\\})`, 'y');
const RAW_END = new RegExp(`\\{%([-+]?)${WS}endraw${WS}(\\+%\\}|-%\\}${WS}|%\\}\\n?)`, 'g');
const GENERATION = /^\s*(end)?generation\s*$/;

function rstripPy(s: string): string {
  let j = s.length;
  while (j > 0 && isPySpace(s[j - 1]!)) j--;
  return s.slice(0, j);
}

function lstripLine(text: string, lineStarting: boolean): string {
  const lPos = text.lastIndexOf('\n') + 1;
  if ((lPos > 0 || lineStarting) && [...text.slice(lPos)].every(isPySpace)) return text.slice(0, lPos);
  return text;
}

/** Encodes a string as a single-quoted @huggingface/jinja literal. */
export function quoteForLib(s: string): string {
  // `{` is escaped so that no later text pass of the library can mistake it for a tag.
  return "'" + s.replace(/[\\'{]/g, (c) => (c === '{' ? '\\x7b' : '\\' + c)) + "'";
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
};

/** Decodes a Jinja2 string literal body as Python's `unicode-escape` codec does. */
export function decodeStringLiteral(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) throw new TemplateSyntaxError('\\ at end of string');
    if (e === '\n') continue;
    if (SIMPLE_ESCAPES[e] !== undefined) {
      out += SIMPLE_ESCAPES[e];
      continue;
    }
    if (/[0-7]/.test(e)) {
      let j = i;
      while (j < i + 3 && /[0-7]/.test(body[j] ?? '')) j++;
      out += String.fromCodePoint(parseInt(body.slice(i, j), 8));
      i = j - 1;
      continue;
    }
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen) {
      const hex = body.slice(i + 1, i + 1 + hexLen);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) {
        throw new TemplateSyntaxError(`truncated \\${e}${'X'.repeat(hexLen)} escape`);
      }
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) throw new TemplateSyntaxError('illegal Unicode character');
      out += e === 'u' ? String.fromCharCode(cp) : String.fromCodePoint(cp);
      i += hexLen;
      continue;
    }
    if (e === 'N') throw new TemplateSyntaxError('\\N{...} escapes are not supported');
    out += '\\' + e; // Python keeps unknown escapes
  }
  return out;
}

/** Rewrites a Python number literal into a form @huggingface/jinja parses to the same value. */
function numberLiteral(raw: string): string {
  const s = raw.replace(/_/g, '').toLowerCase();
  if (/^0[box]/.test(s)) return BigInt(s).toString();
  if (!/[.e]/.test(s)) return BigInt(s).toString();
  // A float: expand the exponent so the library's `digits.digits` lexer reads the same double.
  // Out of range it is inf or 0.0 whatever the exponent (`1e10065535` is not ten million digits).
  const value = Number(s);
  if (value === Infinity) return '1' + '0'.repeat(400) + '.0';
  if (value === 0) return '0.0';
  const [mant, expPart] = s.split('e') as [string, string | undefined];
  const exp = expPart === undefined ? 0 : Number(expPart);
  const [ip, fp = ''] = mant.split('.') as [string, string | undefined];
  let d = ip + fp;
  let point = ip.length + exp;
  if (point <= 0) {
    d = '0'.repeat(1 - point) + d;
    point = 1;
  }
  if (point >= d.length) d = d.padEnd(point + 1, '0');
  return d.slice(0, point).replace(/^0+(?=\d)/, '') + '.' + d.slice(point);
}

const FLOAT_RE = /(\d+_)*\d+((\.(\d+_)*\d+)?e[+-]?(\d+_)*\d+|\.(\d+_)*\d+)/iy;
const INT_RE = /(0b(_?[01])+|0o(_?[0-7])+|0x(_?[\da-f])+|[1-9](_?\d)*|0(_?0)*)/iy;
const NAME_RE = /[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*/uy;

interface TagScan {
  body: string;
  end: number;
  endText: string;
}

/** Scans a `{% … %}` or `{{ … }}` body from `pos` to its end marker, as jinja2's lexer does. */
function scanTag(src: string, pos: number, kind: 'block' | 'variable'): TagScan {
  const stack: string[] = [];
  let body = '';
  let i = pos;
  let prevSignificant = '';
  while (i < src.length) {
    if (stack.length === 0) {
      const endRe = kind === 'block' ? new RegExp(`\\+%\\}|-%\\}${WS}|%\\}\\n?`, 'y') : new RegExp(`-\\}\\}${WS}|\\}\\}`, 'y');
      endRe.lastIndex = i;
      const m = endRe.exec(src);
      if (m) return { body, end: i + m[0].length, endText: m[0] };
    }
    const c = src[i]!;
    if (isPySpace(c)) {
      body += c;
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const re = c === "'" ? /'([^'\\]*(?:\\.[^'\\]*)*)'/sy : /"([^"\\]*(?:\\.[^"\\]*)*)"/sy;
      re.lastIndex = i;
      const m = re.exec(src);
      if (!m) throw new TemplateSyntaxError(`unexpected char ${JSON.stringify(c)}: unterminated string`);
      body += quoteForLib(decodeStringLiteral(m[1]!));
      i += m[0].length;
      prevSignificant = 'str';
      continue;
    }
    if (/\d/.test(c) && prevSignificant !== '.') {
      FLOAT_RE.lastIndex = i;
      INT_RE.lastIndex = i;
      const m = FLOAT_RE.exec(src) ?? INT_RE.exec(src);
      if (m) {
        body += numberLiteral(m[0]);
        i += m[0].length;
        prevSignificant = 'num';
        continue;
      }
    }
    NAME_RE.lastIndex = i;
    const name = NAME_RE.exec(src);
    if (name) {
      body += name[0];
      i += name[0].length;
      prevSignificant = 'name';
      continue;
    }
    if ('([{'.includes(c)) stack.push({ '(': ')', '[': ']', '{': '}' }[c]!);
    else if (')]}'.includes(c)) {
      const want = stack.pop();
      if (want !== c) throw new TemplateSyntaxError(want ? `unexpected '${c}', expected '${want}'` : `unexpected '${c}'`);
    }
    body += c;
    prevSignificant = c;
    i++;
  }
  throw new TemplateSyntaxError(`unexpected end of template, expected '${kind === 'block' ? '%}' : '}}'}'`);
}

/**
 * Rewrites a Jinja2 template (transformers' environment) into an equivalent template for
 * @huggingface/jinja with all whitespace control already applied. Throws
 * {@link TemplateSyntaxError} where jinja2's lexer would.
 */
export function preprocessTemplate(source: string): string {
  const lines = source.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  const src = lines.join('\n');

  const out: string[] = [];
  const emitText = (text: string) => {
    if (text === '') return;
    // Text ending in '{' would merge with the next tag's opener in the library's lexer.
    if (text.endsWith('{')) out.push(text.slice(0, -1), "{{ '\\x7b' }}");
    else out.push(text);
  };

  let pos = 0;
  let lineStarting = true;
  const opener = /\{[%{#]/g;
  while (pos < src.length) {
    opener.lastIndex = pos;
    const m = opener.exec(src);
    if (!m) {
      emitText(src.slice(pos));
      break;
    }
    const start = m.index;
    const kind = src[start + 1] === '%' ? 'block' : src[start + 1] === '{' ? 'variable' : 'comment';
    let p = start + 2;
    const sign = src[p] === '-' || src[p] === '+' ? src[p]! : '';
    if (sign) p++;

    let text = src.slice(pos, start);
    if (sign === '-') text = rstripPy(text);
    else if (sign !== '+' && kind !== 'variable') text = lstripLine(text, lineStarting);
    emitText(text);

    if (kind === 'comment') {
      let i = p;
      for (;;) {
        if (i + 1 >= src.length) throw new TemplateSyntaxError('Missing end of comment tag');
        if (src.startsWith('#}', i) || ((src[i] === '-' || src[i] === '+') && src.startsWith('#}', i + 1))) break;
        i++;
      }
      const re = new RegExp(`\\+#\\}|-#\\}${WS}|#\\}\\n?`, 'y');
      re.lastIndex = i;
      const end = re.exec(src)![0];
      pos = i + end.length;
      lineStarting = end.endsWith('\n');
      continue;
    }

    if (kind === 'block') {
      RAW_BEGIN.lastIndex = start;
      const raw = RAW_BEGIN.exec(src);
      if (raw) {
        const afterBegin = start + raw[0].length;
        RAW_END.lastIndex = afterBegin;
        const end = RAW_END.exec(src);
        if (!end) throw new TemplateSyntaxError('Missing end of raw directive');
        let data = src.slice(afterBegin, end.index);
        const endSign = end[1];
        if (endSign === '-') data = rstripPy(data);
        else if (endSign !== '+') data = lstripLine(data, raw[0].endsWith('\n'));
        if (data) out.push(`{{ ${quoteForLib(data)} }}`);
        pos = end.index + end[0].length;
        lineStarting = end[0].endsWith('\n');
        continue;
      }
    }

    const tag = scanTag(src, p, kind);
    pos = tag.end;
    lineStarting = tag.endText.endsWith('\n');
    if (kind === 'block') {
      if (!GENERATION.test(tag.body)) out.push(`{%${tag.body} %}`);
    } else {
      out.push(`{{${tag.body} }}`);
    }
  }
  // The library drops one trailing newline of the whole template; Jinja2 already did.
  if (out.length > 0 && out[out.length - 1]!.endsWith('\n')) out.push('{# #}');
  return out.join('');
}
