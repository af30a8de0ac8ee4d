// JSON Schema → grammar, byte by byte: each schema feature accepts what it must (every prefix of
// a valid document accepted, the whole complete) and rejects what it must (at the first
// offending byte). Offsets in the cases are character indexes into the text.
import t from 'tap';

import { compileGrammar, jsonSchemaToGrammar, patternToGrammar, ref } from '../dist/lib/grammar/index.js';
import { checkCases } from './helpers/grammar.js';

const S = (schema: unknown, options?: Parameters<typeof jsonSchemaToGrammar>[1]) => jsonSchemaToGrammar(schema, options);

t.test('strings: valid JSON strings only — unicode, escapes, no raw control characters', async (t) => {
  checkCases(
    t,
    S({ type: 'string' }),
    ['""', '"plain"', '"東京 😀 e\u0301 ü"', '"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t"', '"\\u00e9\\uD83D\\uDE00"', '"\u007f"'],
    [
      ['"a\nb"', 2],
      ['"a\tb"', 2],
      ['"\\q"', 2],
      ['"\\u12G4"', 5],
      ['"abc', 4],
      ["'abc'", 0],
      ['"a"b', 3],
      ['"a" ', 3],
      [' "a"', 0],
    ],
  );
});

t.test('numbers: finite JSON numbers; safe integers without fraction or exponent', async (t) => {
  checkCases(t, S({ type: 'number' }), ['0', '-0', '12', '12.5', '-0.001', '1e10', '1E+2', '2.5e-3', '999999999999999.5e99', `0.${'1'.repeat(20)}`], [
    ['01', 1],
    ['+1', 0],
    ['.5', 0],
    ['1.', 2],
    ['1.e3', 2],
    ['1e', 2],
    ['--1', 1],
    ['0x1F', 1],
    ['NaN', 0],
    // Bounded so that JSON.parse never makes Infinity: 15 integral digits, 2 exponent digits.
    ['1234567890123456', 15],
    ['1e999', 4],
    [`0.${'1'.repeat(21)}`, 22],
  ]);
  checkCases(t, S({ type: 'integer' }), ['0', '-7', '42', '9007199254740991', '-9007199254740991', '999999999999999', '1000000000000000'], [
    ['9007199254740992', 15],
    ['-9007199254740992', 16],
    ['9007199254740999', 15],
    ['9017199254740991', 15],
    ['12345678901234567', 16],
    ['1.0', 1],
    ['1e3', 1],
    ['-', 1],
    ['00', 1],
    ['"1"', 0],
  ]);
});

t.test('boolean, null, const, enum with special characters', async (t) => {
  checkCases(t, S({ type: 'boolean' }), ['true', 'false'], [['True', 0], ['tru', 3], ['truee', 4], ['null', 0]]);
  checkCases(t, S({ type: 'null' }), ['null'], [['nul', 3], ['"null"', 0]]);
  checkCases(t, S({ const: { a: [1, 'x'] } }), ['{"a":[1,"x"]}'], [['{"a": [1, "x"]}', 5]]);
  const values = ['a"b', 'back\\slash', 'new\nline', 'tab\there', 'ü', '😀', 'a', 'ab', '', 1, 2.5, null, true];
  checkCases(
    t,
    S({ enum: values }),
    values.map((v) => JSON.stringify(v)),
    [
      ['"abc"', 3],
      ['"a\\u0022b"', 3],
      ['"new\nline"', 4],
      ['"ü"x', 3],
      ['3', 0],
      ['false', 0],
      ['"ж"', 1],
    ],
  );
  checkCases(t, S({ enum: [] }), [], [['""', 0], ['null', 0]]);
});

t.test('type arrays: ["string", "null"], ["integer", "null"]; OpenAPI nullable is not JSON Schema (the validator ignores it)', async (t) => {
  checkCases(t, S({ type: ['string', 'null'] }), ['"x"', 'null'], [['1', 0], ['nulls', 4]]);
  checkCases(t, S({ type: ['integer', 'null'] }), ['5', '-1', 'null'], [['5.5', 1], ['"5"', 0]]);
  checkCases(t, S({ type: 'number', nullable: true }), ['5.5'], [['true', 0], ['null', 0]]);
  checkCases(t, S({ type: ['boolean', 'array'], items: { type: 'integer' } }), ['true', '[1, 2]', '[]'], [['["a"]', 1]]);
});

t.test('anyOf and oneOf: any branch', async (t) => {
  for (const key of ['anyOf', 'oneOf']) {
    checkCases(t, S({ [key]: [{ type: 'string', format: 'date' }, { type: 'integer' }, { type: 'object', properties: { a: { type: 'boolean' } }, required: ['a'] }] }), ['"2024-01-31"', '7', '{"a": true}'], [
      ['"2024-1', 7],
      ['7.5', 1],
      ['{"b"', 2],
      ['[]', 0],
    ]);
  }
});

t.test('object properties: every required/optional combination of three, every subset, in order', async (t) => {
  const names = ['a', 'b', 'c'];
  for (let req = 0; req < 8; req++) {
    const required = names.filter((_, i) => req & (1 << i));
    const g = S({ type: 'object', properties: { a: { type: 'integer' }, b: { type: 'string' }, c: { type: 'boolean' } }, required });
    const valid: string[] = [];
    const invalid: Array<[string, number]> = [];
    const value: Record<string, string> = { a: '1', b: '"x"', c: 'true' };
    for (let sub = 0; sub < 8; sub++) {
      const present = names.filter((_, i) => sub & (1 << i));
      const text = `{${present.map((n) => `"${n}": ${value[n]}`).join(', ')}}`;
      if (required.every((r) => present.includes(r))) {
        valid.push(text);
        continue;
      }
      // The first offending byte: the key written where a missing required key had to come,
      // or the closing brace when the missing ones come last.
      const firstMissing = names.findIndex((n) => required.includes(n) && !present.includes(n));
      const after = present.find((n) => names.indexOf(n) > firstMissing);
      invalid.push([text, after === undefined ? text.length - 1 : text.indexOf(`"${after}"`) + 1]);
    }
    t.test(`required: [${required.join(', ')}]`, async (t) => checkCases(t, g, valid, invalid));
  }
});

t.test('objects: order, duplicates, whitespace, nesting, no other keys unless allowed', async (t) => {
  const schema = { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'object', properties: { c: { type: 'array', items: { type: 'string' } } } } } };
  checkCases(
    t,
    S(schema),
    ['{}', '{ }', '{"a":1}', '{"b": {"c": ["x", "y"]}}', '{\n  "a": 1,\n  "b": {\n    "c": [\n      "x"\n    ]\n  }\n}', `{"a":${' '}1}`, `{\n${' '.repeat(20)}"a": 1}`, ],
    [
      ['{"b": {}, "a": 1}', 8],
      ['{"a": 1,\t"b": {}}', 8],
      ['{"a": 1, "a": 2}', 10],
      ['{"a" : 1}', 4],
      ['{"d": 1}', 2],
      ['{"a": 1,}', 8],
      ['{, "a": 1}', 1],
      ['{  "a": 1}', 2],
      [`{\n${' '.repeat(21)}"a": 1}`, 22],
      ['{"b": {"c": [1]}}', 13],
      ['{"a": 1} ', 8],
    ],
  );
  checkCases(t, S(schema, { strict: false }), ['{"a": 1, "d": [null]}', '{"b": {"q": 0}, "zz": 1}'], [['{"a": 1, "a": 2}', 11], ['{"zz": 1, "b": {}}', 12]]);
  checkCases(t, S({ type: 'object', properties: { a: { type: 'integer' } }, additionalProperties: false }, { strict: false }), ['{"a": 1}'], [['{"d": 1}', 2]]);
  checkCases(t, S({ type: 'object', properties: { name: { type: 'string' } }, additionalProperties: true }), ['{"name": "x", "n": 1, "names": 2, "nam": {}}', '{"x": [1]}'], [
    ['{"name": "x", "name": "y"}', 19],
    ['{"x": 1, "name": "y"}', 14],
  ]);
  checkCases(t, S({ type: 'object', additionalProperties: { type: 'integer' } }), ['{}', '{"x": 1, "y": 2}'], [['{"x": "1"}', 6]]);
  checkCases(t, S({ type: 'object' }), ['{}', '{"any": {"thing": [1, "x", null]}}'], [['[]', 0]]);
  checkCases(t, S({ type: 'object', required: ['id'] }), ['{"id": 1}', '{"id": [true]}'], [['{}', 1]]);
  checkCases(t, S({ type: 'object', properties: { 'we"ird\\key': { type: 'integer' }, 'ünï': { type: 'integer' } } }), ['{"we\\"ird\\\\key": 1, "ünï": 2}'], [['{"ünï": 2, "we', 9]]);
});

t.test('arrays: items, prefixItems, minItems / maxItems', async (t) => {
  const bounded = S({ type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 3 });
  checkCases(t, bounded, ['[1,2]', '[1, 2, 3]', '[ 1, 2 ]', '[\n  1,\n  2\n]'], [['[1]', 2], ['[1, 2, 3, 4]', 8], ['[]', 1], ['[1, "2"]', 4]]);
  checkCases(t, S({ type: 'array', items: { type: 'string' }, maxItems: 0 }), ['[]', '[ ]'], [['["a"]', 1]]);
  checkCases(t, S({ type: 'array', items: { type: 'boolean' }, minItems: 1 }), ['[true]', '[true, false, true, true]'], [['[]', 1]]);
  const tuple = S({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], items: false });
  checkCases(t, tuple, ['[]', '["a"]', '["a", 1]'], [['["a", 1, 2]', 7], ['[1]', 1], ['["a", "b"]', 6]]);
  const tupleRest = S({ type: 'array', prefixItems: [{ type: 'string' }], items: { type: 'integer' }, minItems: 2 });
  checkCases(t, tupleRest, ['["a", 1]', '["a", 1, 2, 3]'], [['["a"]', 4], ['["a", "b"]', 6]]);
  checkCases(t, S({ type: 'array', items: [{ type: 'null' }], additionalItems: false }), ['[null]', '[]'], [['[null, null]', 5]]);
  checkCases(t, S({ type: 'array' }), ['[]', '[1, "a", {"b": [null]}]'], [['[1,]', 3]]);
  checkCases(t, S({ type: 'array', items: { type: 'array', items: { type: 'integer' } } }), ['[[1, 2], [], [3]]'], [['[[1, [2]]]', 5]]);
});

t.test('minLength / maxLength count characters, not bytes', async (t) => {
  const g = S({ type: 'string', minLength: 2, maxLength: 3 });
  // A character beyond U+FFFF is one character (JSON Schema) but two UTF-16 units (zod's length):
  // at least minLength characters, at most maxLength units.
  checkCases(t, g, ['"ab"', '"abc"', '"é😀"', '"😀é"', '"東京都"', '"\\n\\t"', '"\\u00e9x"', '"\\ud83d\\ude00"'], [['"a"', 2], ['"abcd"', 4], ['"😀"', 3], ['"😀😀"', 3], ['"ab😀"', 3], ['"東京都府"', 4], ['""', 1]]);
  checkCases(t, S({ type: 'string', maxLength: 1 }), ['""', '"a"'], [['"😀"', 1]]);
  checkCases(t, S({ type: 'string', minLength: 1 }), ['"😀"', '"a"'], [['""', 1]]);
  // Past a minLength of 100 (with a maxLength), the first minLength characters are one unit each (a subset).
  checkCases(t, S({ type: 'string', minLength: 150, maxLength: 151 }), [`"${'a'.repeat(150)}"`, `"${'a'.repeat(150)}é"`], [[`"😀${'a'.repeat(149)}"`, 1], [`"${'a'.repeat(149)}😀"`, 150], [`"${'a'.repeat(151)}😀"`, 152]]);
  checkCases(t, S({ type: 'string', maxLength: 0 }), ['""'], [['"a"', 1]]);
  checkCases(t, S({ type: 'string', minLength: 10001, maxLength: 1e9 }), ['""', `"${'x'.repeat(20000)}"`], [['1', 0]]);
  checkCases(t, S({ type: 'array', minItems: 1e6 }), ['[]', '[1]'], [['{}', 0]]);
});

t.test('formats: the validator\'s regular expressions — date, time, date-time, uuid, email, ...', async (t) => {
  checkCases(t, S({ type: 'string', format: 'date' }), ['"2024-02-29"', '"1999-12-31"', '"2000-01-01"', '"2000-02-29"', '"2023-04-30"'], [
    ['"2024-13-01"', 7],
    ['"2024-00-01"', 7],
    ['"2024-01-32"', 10],
    ['"2023-02-29"', 10],
    ['"1900-02-29"', 10],
    ['"2024-02-30"', 9],
    ['"2024-04-31"', 10],
    ['"24-01-01"', 3],
    ['"2024/01/01"', 5],
    ['"2024-01-01T00:00:00Z"', 11],
  ]);
  checkCases(t, S({ type: 'string', format: 'date-time' }), ['"2024-02-29T13:45:30Z"', '"2024-02-29T13:45:30.123+02:00"', '"2024-02-28T23:59:59.5-11:30"'], [
    ['"2024-02-29 13:45:30Z"', 11],
    ['"2024-02-29t13:45:30Z"', 11],
    ['"2024-02-29T24:00:00Z"', 13],
    ['"2024-02-29T23:59:60Z"', 18],
    ['"2024-02-29T13:45:30z"', 20],
    ['"2024-02-29T13:45:30"', 20],
    ['"2024-02-29T13:45Z"', 17],
    ['"2024-02-29T13:45:30+2:00"', 22],
    ['"2023-02-29T13:45:30Z"', 10],
  ]);
  checkCases(t, S({ type: 'string', format: 'time' }), ['"08:30:00Z"', '"23:59:59.999+05:30"'], [['"8:30:00Z"', 1], ['"23:59:60Z"', 7], ['"08:30:00z"', 9], ['"08:30:00+24:00"', 11]]);
  const uuid = ['"123e4567-e89b-12d3-a456-426614174000"', '"123E4567-E89B-12D3-A456-426614174000"', '"00000000-0000-0000-0000-000000000000"', '"ffffffff-ffff-ffff-ffff-ffffffffffff"'];
  const badUuid: Array<[string, number]> = [
    ['"123e4567-e89b-12d3-a456-42661417400g"', 36],
    ['"123e4567e89b12d3a456426614174000"', 9],
    ['"123e4567-e89b-12d3-a456-4266141740001"', 37],
    ['"123e4567-e89b-02d3-a456-426614174000"', 15],
    ['"123e4567-e89b-12d3-c456-426614174000"', 20],
    ['"FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"', 15],
  ];
  checkCases(t, S({ type: 'string', format: 'uuid' }), uuid, badUuid);
  checkCases(t, S({ type: 'string', format: 'guid' }), uuid, badUuid);
  checkCases(t, S({ type: 'string', format: 'email' }), ['"a.b@example.com"', '"x_y+z@mail.co"'], [['"a@b"', 4], ['"@b.com"', 1], ['"a..b@c.de"', 3]]);
  checkCases(t, S({ type: 'string', format: 'ipv4' }), ['"192.168.0.1"', '"0.0.0.0"'], [['"256.1.1.1"', 3], ['"01.1.1.1"', 2]]);
  checkCases(t, S({ type: 'string', format: 'mac' }), ['"00:1A:2B:3C:4D:5E"', '"00:1a:2b:3c:4d:5e"'], [['"00:1A:2b"', 8]]);
  // Formats the validator does not check with a regular expression alone, or not at all: any string.
  for (const format of ['uri', 'hostname', 'duration', 'float', 'phone']) checkCases(t, S({ type: 'string', format }), ['"not checked"', '""'], [['1', 0]]);
});

t.test('patterns: the supported subset, anchored or not; others fall back to any string', async (t) => {
  checkCases(t, S({ type: 'string', pattern: '^[A-Z]{2}-\\d{3}$' }), ['"AB-123"'], [['"AB-12"', 6], ['"ab-123"', 1], ['"AB-1234"', 7], ['"ABC"', 3]]);
  checkCases(t, S({ type: 'string', pattern: '^(cat|dog)s?$' }), ['"cat"', '"dogs"'], [['"cow"', 2], ['"catss"', 5]]);
  checkCases(t, S({ type: 'string', pattern: 'abc' }), ['"abc"', '"xxabcyy"', '"ab abc"'], [['"xxab"', 5], ['"ab"', 3]]);
  checkCases(t, S({ type: 'string', pattern: '^a' }), ['"a"', '"abc"'], [['"ba"', 1]]);
  checkCases(t, S({ type: 'string', pattern: 'z$' }), ['"z"', '"xyz"'], [['"zx"', 3]]);
  checkCases(t, S({ type: 'string', pattern: '^a"b\\\\c\\.d$' }), ['"a\\"b\\\\c.d"'], [['"a"', 2], ['"a\\"b\\\\cxd"', 8]]);
  // \u00HH only for the control characters the class holds; nothing beyond U+FFFF (one UTF-16 unit is half of it, without the u flag).
  checkCases(t, S({ type: 'string', pattern: '^[^a-c]+$' }), ['"xyz"', '"\\n\\"q"', '"\\u001f\\u000A"'], [['"xa"', 2], ['""', 1], ['"\\u0061"', 5], ['"😀"', 1]]);
  checkCases(t, S({ type: 'string', pattern: '^\\w+@\\w+\\.(com|org)$' }), ['"me@example.com"', '"a_1@b.org"'], [['"me@ex-ample.com"', 6], ['"me@example.net"', 12]]);
  checkCases(t, S({ type: 'string', pattern: '^.{2,3}$' }), ['"ab"', '"aéc"'], [['"a\\nb"', 3], ['"abcd"', 4], ['"a😀c"', 2]]);
  checkCases(t, S({ type: 'string', pattern: '^a$|^b+$' }), ['"a"', '"bbb"'], [['"ab"', 2], ['"c"', 1]]);
  checkCases(t, S({ type: 'string', pattern: '^a|b$' }), ['"a"', '"axx"', '"xxb"'], [['"xxa"', 4]]);
  checkCases(t, S({ type: 'string', pattern: '^😀x$' }), ['"😀x"'], [['"😀"', 3]]);
  checkCases(t, S({ type: 'string', pattern: '^(?:\\+\\d{1,3} )?\\(?\\d{3}\\)?[-. ]?\\d{4}$' }), ['"+1 (555) 1234"', '"555-1234"'], [['"55-1234"', 3]]);
  checkCases(t, S({ type: 'string', pattern: '^[a-z]+$', minLength: 5 }), ['"ab"'], [['"aB"', 2]]);
  checkCases(t, S({ type: 'string', pattern: '^a/b$' }), ['"a/b"', '"a\\/b"'], [['"a\\\\b"', 3]]);
  // Unsupported: backreferences, lookaround, \b, \p{...}: any string, never a rejection.
  for (const pattern of ['(a)\\1', '^(?=a)', '\\bword\\b', '\\p{L}+', '(a*)*', '[😀]', '^😀+$', '(^a)']) {
    const g = S({ type: 'string', pattern });
    checkCases(t, g, ['"anything"', '""'], [['1', 0]]);
  }
  t.equal(patternToGrammar('(a)\\1', ref('char')), undefined, 'a backreference: unsupported');
  t.ok(patternToGrammar('a{', ref('char')), '"a{" (a literal brace) is supported');
});

t.test('$ref / $defs / definitions: recursion through rules (a tree)', async (t) => {
  const tree = {
    $defs: {
      node: {
        type: 'object',
        properties: { value: { type: 'integer' }, children: { type: 'array', items: { $ref: '#/$defs/node' } } },
        required: ['value'],
      },
    },
    $ref: '#/$defs/node',
  };
  checkCases(t, S(tree), ['{"value": 1}', '{"value": 1, "children": []}', '{"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}, {"value": 4}]}'], [
    ['{"value": 1, "children": [{"children": []}]}', 28],
    ['{"value": 1, "children": [{"value": "2"}]}', 36],
  ]);
  const legacy = { type: 'object', properties: { list: { $ref: '#/definitions/list' } }, definitions: { list: { anyOf: [{ type: 'null' }, { type: 'object', properties: { head: { type: 'string' }, tail: { $ref: '#/definitions/list' } }, required: ['head', 'tail'] }] } } };
  checkCases(t, S(legacy), ['{"list": null}', '{"list": {"head": "a", "tail": {"head": "b", "tail": null}}}'], [['{"list": {"head": "a"}}', 21]]);
  checkCases(t, S({ type: 'object', properties: { self: { $ref: '#' } } }), ['{}', '{"self": {"self": {}}}'], [['{"self": 1}', 9]]);
  const loop = S({ $defs: { a: { $ref: '#/$defs/b' }, b: { anyOf: [{ $ref: '#/$defs/a' }, { type: 'null' }] } }, $ref: '#/$defs/a' });
  t.throws(() => compileGrammar(loop), { name: 'XlamInvalidArgumentError', message: /left recursion: ref-a -> ref-b -> ref-a/ });
  t.throws(() => S({ $ref: 'https://example.com/schema.json' }), { name: 'XlamInvalidArgumentError', message: /only local references/ });
  t.throws(() => S({ $ref: '#/$defs/missing' }), { name: 'XlamInvalidArgumentError', message: /points to nothing/ });
  // schema-grammar fuzzer finding (test/fuzz/findings/schema-grammar-crash-acc1fb66...): a '%' that
  // does not start an escape made decodeURIComponent throw a URIError out of the converter.
  t.throws(() => S({ $defs: { a: { type: 'null' } }, $ref: '#/%defs/a' }), { name: 'XlamInvalidArgumentError', message: /malformed %-escape/ });
  t.throws(() => S({ $ref: '#/%E0%A4%A' }), { name: 'XlamInvalidArgumentError', message: /malformed %-escape/ });
  checkCases(t, S({ $defs: { 'a b': { type: 'null' } }, $ref: '#/$defs/a%20b' }), ['null'], [['1', 0]]);
  t.throws(() => S({ type: 'object', properties: { a: 5 } }), { name: 'XlamInvalidArgumentError', message: /must be an object or a boolean/ });
});

t.test('boolean schemas, empty schemas, unknown keywords and types', async (t) => {
  checkCases(t, S(true), ['1', '"x"', '{"a": [null]}'], [['x', 0]]);
  checkCases(t, S({}), ['[]', 'false'], [['nope', 1]]);
  checkCases(t, S(false), [], [['null', 0], ['""', 0]]);
  checkCases(t, S({ type: 'string', description: 'd', default: 'x', examples: ['y'], 'x-custom': 1 }), ['"z"'], [['1', 0]]);
  checkCases(t, S({ type: 'integer', minimum: 5, maximum: 10, multipleOf: 2 }), ['5', '7', '10'], [['1.5', 1], ['3', 0], ['11', 1]]);
  checkCases(t, S({ type: 'any' }), ['1', '"a"'], []);
  checkCases(t, S({ allOf: [{ type: 'integer' }] }), ['1'], [['"a"', 0]]);
  checkCases(t, S({ type: 'object', properties: { gone: false, here: { type: 'null' } } }), ['{"here": null}'], [['{"gone": 1}', 2]]);
  t.throws(() => S({ type: 'string' }, { maxIndent: -1 }), { name: 'XlamInvalidArgumentError', message: /maxIndent/ });
  checkCases(t, S({ type: 'array' }, { maxIndent: 2 }), ['[\n  1\n]'], [['[\n   1]', 4]]);
});
