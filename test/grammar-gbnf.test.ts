// The GBNF IR: printing then parsing gives the same tree and text (every node kind, every
// escape), llama.cpp's syntax (comments, newlines inside groups), parse errors with their
// position; and the reference recognizer on hand-written grammars: left recursion rejected,
// rejected bytes leave the state unchanged, clones are independent, UTF-8 byte by byte, the
// stack bound.
import t from 'tap';

import {
  alt,
  charClass,
  compileGrammar,
  createMatcher,
  empty,
  GbnfSyntaxError,
  jsonSchemaToGrammar,
  lit,
  acceptsPrefix,
  matchPrefix,
  matches,
  opt,
  parseGbnf,
  printGbnf,
  ref,
  repeat,
  seq,
  star,
  toolCallGrammar,
  type GbnfGrammar,
} from '../dist/lib/grammar/index.js';
import { XlamInvalidArgumentError } from '../dist/lib/errors.js';
import { checkCases } from './helpers/grammar.js';

const cp = (c: string) => c.codePointAt(0)!;

const everything: GbnfGrammar = {
  rules: [
    {
      name: 'root',
      expr: alt(
        seq(lit('quote " backslash \\ newline \n tab \t cr \r ctrl \x01 del \x7f nbsp-ish \x85 é 東京 😀'), ref('item')),
        seq(star(ref('item')), repeat(lit('x'), 2, 5), repeat(lit('y'), 3, null), repeat(lit('z'), 4, 4), opt(lit('w'))),
        seq(repeat(alt(lit('a'), lit('b')), 1, null), repeat(seq(lit('c'), lit('d')), 0, 1), star(opt(lit('e')))),
        empty(),
        lit(''),
      ),
    },
    {
      name: 'item',
      expr: seq(
        charClass([[cp('a'), cp('z')], [cp('-'), cp('-')], [cp('^'), cp('^')], [cp(']'), cp(']')], [cp('['), cp('[')], [cp('\\'), cp('\\')], [0, 0x1f], [0xd800, 0xdfff], [0x1f600, 0x1f64f]]),
        charClass([[cp('"'), cp('"')], [cp('\\'), cp('\\')]], true),
        charClass([], true),
        charClass([]),
        ref('last-rule-2'),
      ),
    },
    { name: 'last-rule-2', expr: alt(lit('a'), seq(lit('b'), empty()), seq(empty(), lit('c'))) },
  ],
};

t.test('print then parse: the same tree, and the same text again', async (t) => {
  const text = printGbnf(everything);
  const back = parseGbnf(text);
  t.same(back, everything, 'the tree round-trips');
  t.equal(printGbnf(back), text, 'the text round-trips');
  t.match(text, /^root ::= "quote \\" backslash \\\\ newline \\n tab \\t cr \\r ctrl \\x01 del \\x7F nbsp-ish \\x85 é 東京 😀" item \| /, 'literal escapes');
  t.match(text, /item ::= \[a-z\\x2D\\x5E\\\]\\\[\\\\\\x00-\\x1F\\uD800-\\uDFFF😀-🙏\] \[\^"\\\\\] \. \[\] last-rule-2\n/, 'class escapes, negation, any, empty class');
  t.match(text, /item\* "x"\{2,5\} "y"\{3,\} "z"\{4\} "w"\?/, 'repetition forms');
  t.match(text, /\("a" \| "b"\)\+ \("c" "d"\)\? \("e"\?\)\*/, 'groups');
  t.match(text, /\| \(\) \| ""\n/, 'empty sequence and empty literal');
});

t.test('generated grammars round-trip through the text', async (t) => {
  const schema = {
    type: 'object',
    properties: {
      s: { type: 'string', pattern: '^[A-Z]{2}-\\d+$' },
      e: { enum: ['a"b', 'c\\d', 'é\n', 1, null] },
      d: { type: 'string', format: 'date-time' },
      n: { type: ['number', 'null'] },
      a: { type: 'array', prefixItems: [{ type: 'integer' }], items: { type: 'boolean' }, minItems: 1, maxItems: 4 },
      o: { type: 'object', properties: { x: { type: 'string', minLength: 1, maxLength: 3 } }, additionalProperties: { type: 'integer' } },
      r: { $ref: '#/$defs/tree' },
    },
    required: ['s'],
    $defs: { tree: { type: 'object', properties: { kids: { type: 'array', items: { $ref: '#/$defs/tree' } } } } },
  };
  for (const g of [
    jsonSchemaToGrammar(schema),
    toolCallGrammar([{ name: 'f.g-h_1', parameters: schema }], { format: 'xlam1-r' }),
  ]) {
    const text = printGbnf(g);
    t.same(parseGbnf(text), g, 'tree');
    t.equal(printGbnf(parseGbnf(text)), text, 'text');
  }
});

t.test('names outside [a-zA-Z0-9-] cannot be printed', async (t) => {
  t.throws(() => printGbnf({ rules: [{ name: 'my_rule', expr: lit('a') }] }), { name: 'XlamInvalidArgumentError', message: /rule name "my_rule"/ });
  t.throws(() => printGbnf({ rules: [{ name: 'root', expr: ref('a.b') }] }), { name: 'XlamInvalidArgumentError', message: /rule name "a.b"/ });
});

t.test("llama.cpp's syntax: comments, newlines inside groups, alternatives after |, any spacing", async (t) => {
  const g = parseGbnf('# a comment\nroot ::= ( "a" # inside\n  | "b"\n ) tail   # after\n\n\ntail ::=\n  "c"{1, 2} [^\\n]?\r\n');
  t.ok(matches(g, 'ac'));
  t.ok(matches(g, 'bccx'));
  t.notOk(matches(g, 'bcc\n'));
  t.same(g.rules.map((r) => r.name), ['root', 'tail']);
});

t.test('parse errors name the problem and where it is', async (t) => {
  const cases: Array<[string, RegExp, number, number]> = [
    ['root ::= "abc', /unterminated string literal/, 1, 10],
    ['root ::= [a-', /unterminated character class/, 1, 10],
    ['root ::= "a"\nroot ::= "b"\n', /rule root is defined twice/, 2, 1],
    ['root ::= foo\n', /rule root references undefined rule foo/, 1, 1],
    ['start ::= "a"\n', /no rule named "root"/, 2, 1],
    ['root ::= "\\q"\n', /unknown escape \\q/, 1, 11],
    ['root ::= "\\x4"\n', /\\x needs 2 hex digits/, 1, 11],
    ['root ::= "a" )\n', /expected the end of the line, got "\)"/, 1, 14],
    ['root ::= "a"{3,1}\n', /the maximum is below the minimum/, 1, 13],
    ['root := "a"\n', /expected "::=" after root, got ":"/, 1, 6],
    ['root ::= * "a"\n', /"\*" must follow an item/, 1, 10],
    ['root ::= ("a" "b"\n', /expected "\)" to close the group/, 1, 10],
    ['root ::= [z-a]\n', /character range out of order/, 1, 11],
    ['root ::= "a"\n  | "b"\n', /expected a rule name, got "\|"/, 2, 3],
  ];
  for (const [text, message, line, column] of cases) {
    try {
      parseGbnf(text);
      t.fail(`${JSON.stringify(text)} parsed`);
    } catch (err) {
      t.ok(err instanceof GbnfSyntaxError && err instanceof XlamInvalidArgumentError, `${JSON.stringify(text)}: a GbnfSyntaxError (XlamInvalidArgumentError)`);
      const e = err as GbnfSyntaxError;
      t.match(e.message, message, `${JSON.stringify(text)}: ${e.message}`);
      t.same([e.line, e.column], [line, column], `${JSON.stringify(text)}: at ${line}:${column}`);
      t.equal(e.code, 'INVALID_ARGUMENT');
    }
  }
});

t.test('left recursion is rejected when the grammar is compiled', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['root ::= root "a" | "b"\n', /left recursion: root -> root/],
    ['root ::= a\na ::= "x"? b\nb ::= "" root "y"\n', /left recursion: root -> a -> b -> root/],
    ['root ::= ("x"?)*\n', /left recursion: root\(repetition of "x"\?\)/],
  ];
  for (const [text, message] of cases) t.throws(() => compileGrammar(parseGbnf(text)), { name: 'XlamInvalidArgumentError', message }, text);
  t.doesNotThrow(() => compileGrammar(parseGbnf('root ::= "(" root ")" | "x"\n')), 'recursion after a character is fine');
  t.doesNotThrow(() => compileGrammar(parseGbnf('root ::= "x"? "y" root?\n')), 'a nullable prefix before a character is fine');
});

t.test('the recognizer: rejected bytes change nothing, clones are independent', async (t) => {
  const m = createMatcher(parseGbnf('root ::= "ab" "c"* | "ax"\n'));
  t.ok(m.accept(cp('a')));
  t.notOk(m.accept(cp('z')), 'z rejected');
  t.notOk(m.isComplete());
  const c = m.clone();
  t.ok(m.accept(cp('x')), 'the state after "a" is intact');
  t.ok(m.isComplete());
  t.notOk(m.accept(cp('c')));
  t.ok(c.accept(cp('b')) && c.isComplete() && c.accept(cp('c')) && c.accept(cp('c')) && c.isComplete(), 'the clone went its own way');
  t.notOk(c.accept(cp('x')));
  t.throws(() => m.accept(256), { name: 'XlamInvalidArgumentError' });
  const g = parseGbnf('root ::= "ab" "c"* | "ax"\n');
  t.same(matchPrefix(g, 'abcc'), { accepted: 4, complete: true });
  t.same(matchPrefix(g, 'abd'), { accepted: 2, complete: false }, 'the offset of the first rejected byte');
  t.same(matchPrefix(g, 'a'), { accepted: 1, complete: false });
  t.ok(acceptsPrefix(g, 'a') && acceptsPrefix(g, '') && !acceptsPrefix(g, 'ay'));
  t.ok(matches(g, new TextEncoder().encode('ax')) && !matches(g, 'a'), 'bytes or text');
});

t.test('UTF-8: characters byte by byte, invalid sequences rejected at their first bad byte', async (t) => {
  const g = parseGbnf('root ::= [a-zà-ÿ]+ "東" [😀-🙏]? | "\\xA0" | .\n');
  checkCases(t, g, ['aé東', 'ÿ東😀', '\u00a0', 'Ω', '😀'], [
    ['è東è', 2],
    ['aèx', 3],
    ['ab', 2],
  ]);
  const bytes = (list: number[]) => {
    const m = createMatcher(g);
    let i = 0;
    while (i < list.length && m.accept(list[i]!)) i++;
    return i;
  };
  t.equal(bytes([0xc3, 0xa9]), 2, 'é (C3 A9) in [à-ÿ]');
  t.equal(bytes([0x80]), 0, 'a stray continuation byte');
  t.equal(bytes([0xc0, 0x80]), 0, 'C0: always overlong');
  t.equal(bytes([0xe0, 0x80]), 1, 'E0 80: overlong, rejected at the second byte');
  t.equal(bytes([0xed, 0xa0]), 1, 'ED A0: a surrogate, rejected at the second byte');
  t.equal(bytes([0xf4, 0x90]), 1, 'F4 90: beyond U+10FFFF');
  t.equal(bytes([0xf5]), 0, 'F5: never valid');
  t.equal(bytes([0xc3, 0x41]), 1, 'a lead byte then ASCII');
  t.equal(bytes([...new TextEncoder().encode('a東🚀')]), 6, '🚀 (F0 9F 9A 80) is outside [😀-🙏]: rejected at its third byte');
  const half = createMatcher(parseGbnf('root ::= "é"\n'));
  t.ok(half.accept(0xc3));
  t.notOk(half.isComplete(), 'not complete in the middle of a character');
  t.notOk(half.accept(0xa8), 'è (C3 A8) is not é (C3 A9): rejected at its second byte');
  t.ok(half.accept(0xa9) && half.isComplete());
});

t.test('the number of live stacks is bounded', async (t) => {
  // After n "a"s, 2^n different continuations ("b" or "c" for each).
  const g = compileGrammar(parseGbnf('root ::= "a" root "b" | "a" root "c" | "x"\n'));
  const m = createMatcher(g, { maxStacks: 100 });
  t.throws(() => {
    for (let i = 0; i < 10; i++) m.accept(cp('a'));
  }, { name: 'XlamInvalidArgumentError', message: /more than 100 parses alive/ });
  t.ok(matches(g, 'aaaaaaxbcbbcb'), 'the default bound is enough for 6 levels');
});
