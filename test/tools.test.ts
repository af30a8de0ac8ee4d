// Tools: tool() with zod (the JSON Schema the model sees), normalizeTools over every accepted
// shape with its errors, and the BFCL function-doc converter.
import t from 'tap';
import { z } from 'zod';

import { bfclLanguage, bfclToTools, normalizeTools, tool, TOOL_NAME_PATTERN, XlamInvalidArgumentError, type BfclFunctionDoc, type BfclParameter } from '../dist/lib/index.js';

t.test('tool(): plain draft-2020-12 JSON Schema of the zod input, without noise', async (t) => {
  const weather = tool({
    name: 'get_weather',
    description: 'Current weather of a city.',
    parameters: z.object({
      city: z.string().describe('The city name'),
      unit: z.enum(['c', 'f']).default('c'),
      days: z.number().int().min(1).optional(),
      note: z.string().nullable(),
      when: z.union([z.string(), z.number()]),
      tags: z.record(z.string(), z.number()),
      limit: z.int32(),
      nested: z.object({ a: z.array(z.boolean()) }).strict(),
    }),
  });
  t.equal(weather.name, 'get_weather');
  t.equal(weather.description, 'Current weather of a city.');
  t.ok(weather.schema, 'keeps the zod schema');
  t.same(weather.parameters, {
    type: 'object',
    properties: {
      city: { type: 'string', description: 'The city name' },
      unit: { type: 'string', enum: ['c', 'f'], default: 'c' },
      days: { type: 'integer', minimum: 1 },
      note: { type: ['string', 'null'] },
      when: { type: ['string', 'number'] },
      tags: { type: 'object', additionalProperties: { type: 'number' } },
      limit: { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
      nested: { type: 'object', properties: { a: { type: 'array', items: { type: 'boolean' } } }, required: ['a'], additionalProperties: false },
    },
    required: ['city', 'note', 'when', 'tags', 'limit', 'nested'],
  });
  t.notOk('$schema' in weather.parameters);
  t.notOk('description' in tool({ name: 'x', parameters: z.object({}) }), 'no description key when none given');
  // Recursive schemas use $defs/$ref.
  const Node: z.ZodType<{ name: string; kids: unknown[] }> = z.object({ name: z.string(), get kids() { return z.array(Node); } });
  const tree = tool({ name: 'tree', parameters: z.object({ root: Node }) });
  t.ok(tree.parameters.$defs, 'recursive schema gets $defs');
});

t.test('tool(): bad names and schemas throw XlamInvalidArgumentError', async (t) => {
  const err = (fn: () => unknown, message: RegExp) => t.throws(fn, { name: 'XlamInvalidArgumentError', code: 'INVALID_ARGUMENT', message });
  err(() => tool({ name: 'get weather', parameters: z.object({}) }), /tool\("get weather"\)\.name: .*" "/);
  err(() => tool({ name: '', parameters: z.object({}) }), /must not be empty/);
  err(() => tool({ name: 'x'.repeat(65), parameters: z.object({}) }), /at most 64/);
  err(() => tool({ name: 'x', parameters: z.string() as unknown as z.ZodObject }), /must be an object schema/);
  err(() => tool({ name: 'x', parameters: z.object({ d: z.date() }) }), /cannot be expressed as JSON Schema/);
  err(() => tool({ name: 'x', parameters: { type: 'object' } as unknown as z.ZodObject }), /expected a zod schema/);
  t.ok(tool({ name: 'a.b-c_D9', parameters: z.object({}) }), 'dots, dashes, underscores and digits are fine');
  t.ok(TOOL_NAME_PATTERN.test('x'.repeat(64)));
});

t.test('normalizeTools(): OpenAI, bare and tool() shapes, mixed', async (t) => {
  const params = { type: 'object', properties: { a: { type: 'number' } }, required: ['a'] };
  const weather = tool({ name: 'get_weather', parameters: z.object({ city: z.string() }) });
  const out = normalizeTools([
    { type: 'function', function: { name: 'math.add', description: 'Adds.', parameters: params, strict: true } },
    { name: 'bare', parameters: params },
    weather,
    { name: 'no_params' },
    { name: 'zod_bare', description: 'z', parameters: z.object({ q: z.string() }) },
  ]);
  t.same(out.map((d) => d.name), ['math.add', 'bare', 'get_weather', 'no_params', 'zod_bare']);
  t.same(out[0], { name: 'math.add', description: 'Adds.', parameters: params });
  t.equal(out[0]!.parameters, params, 'JSON Schemas are kept by reference');
  t.same(out[1], { name: 'bare', parameters: params });
  t.equal(out[2]!.schema, weather.schema);
  t.same(out[2]!.parameters, weather.parameters);
  t.same(out[3], { name: 'no_params', parameters: { type: 'object', properties: {} } });
  t.same(out[4]!.parameters, { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] });
  t.ok(out[4]!.schema, 'a zod schema as parameters is kept for parsing');
  t.same(normalizeTools(out), out, 'idempotent');
  t.same(normalizeTools([]), []);
});

t.test('normalizeTools(): clear errors with the path of the culprit', async (t) => {
  const ok = { type: 'object', properties: {} };
  const cases: Array<[unknown, RegExp]> = [
    ['nope', /^tools: expected an array/],
    [[null], /^tools\[0\]: expected a tool object/],
    [[[1]], /^tools\[0\]: expected a tool object, got an array/],
    [[{ name: 'a', parameters: ok }, { name: 'b c', parameters: ok }], /^tools\[1\]\.name: .*" "/],
    [[{ type: 'function', function: { name: 'x/y', parameters: ok } }], /^tools\[0\]\.function\.name: .*"\/"/],
    [[{ name: 42 }], /^tools\[0\]\.name: a tool name must be a string/],
    [[{ name: 'a'.repeat(65) }], /^tools\[0\]\.name: a tool name has at most 64 characters/],
    [[{ name: 'a', parameters: ok }, { type: 'function', function: { name: 'a', parameters: ok } }], /^tools\[1\]\.function\.name: duplicate tool name "a" \(also tools\[0\]\.name\)/],
    [[{ name: 'a', paramters: ok }], /^tools\[0\]: Unrecognized key: "paramters"/],
    [[{ type: 'tool', function: { name: 'a' } }], /^tools\[0\]\.type: type must be "function"/],
    [[{ type: 'function', function: 'a' }], /^tools\[0\]\.function: function must be an object/],
    [[{ name: 'a', description: 5 }], /^tools\[0\]\.description: description must be a string/],
    [[{ name: 'a', parameters: { type: 'string' } }], /^tools\[0\]\.parameters\.type: parameters must be an object schema \(type: "object"\), got "string"/],
    [[{ name: 'a', parameters: { properties: {} } }], /^tools\[0\]\.parameters\.type: .* got null/],
    [[{ name: 'a', parameters: [] }], /^tools\[0\]\.parameters: parameters must be a JSON Schema object/],
    [[{ name: 'a', parameters: { type: 'object', properties: [] } }], /^tools\[0\]\.parameters\.properties: must be an object/],
    [[{ name: 'a', parameters: { type: 'object', properties: { x: { type: 'string', default: undefined } } } }], /^tools\[0\]\.parameters\.properties\.x\.default: undefined is not a JSON value/],
    [[{ name: 'a', parameters: { type: 'object', properties: { x: { type: 'number', maximum: NaN } } } }], /properties\.x\.maximum: NaN is not a JSON number/],
    [[{ name: 'a', parameters: { type: 'object', properties: { x: { type: 'number', default: Infinity } } } }], /Infinity is not a JSON number/],
    [[{ name: 'a', parameters: { type: 'object', 'odd key': () => 1 } }], /^tools\[0\]\.parameters\["odd key"\]: a function is not a JSON value/],
    [[{ name: 'a', parameters: { type: 'object', enum: [new Date(0)] } }], /parameters\.enum\[0\]: a Date instance is not a plain JSON object/],
    [[{ name: 'a', parameters: { type: 'object', default: 1n } }], /a bigint is not a JSON value/],
    [[{ name: 'a', parameters: { type: 'object', x: new Map() } }], /a Map instance/],
    [[{ type: 'function', function: { name: 'a', parameters: z.string() } }], /^tools\[0\]\.function\.parameters: tool parameters must be an object schema/],
  ];
  const cyclic: Record<string, unknown> = { type: 'object' };
  cyclic.self = cyclic;
  cases.push([[{ name: 'a', parameters: cyclic }], /^tools\[0\]\.parameters\.self: a circular reference/]);
  for (const [input, message] of cases) {
    t.throws(() => normalizeTools(input as never), { name: 'XlamInvalidArgumentError', code: 'INVALID_ARGUMENT', message }, String(message));
  }
  try {
    normalizeTools([{ name: 'bad name' }]);
  } catch (e) {
    t.ok(e instanceof XlamInvalidArgumentError, 'instanceof XlamInvalidArgumentError');
  }
  // Shared (non-circular) subtrees are fine.
  const shared = { type: 'string' };
  t.ok(normalizeTools([{ name: 'a', parameters: { type: 'object', properties: { x: shared, y: shared } } }]));
});

t.test('bfclToTools(): BFCL types mapped as convert_to_tool with GORILLA_TO_OPENAPI does', async (t) => {
  const doc: BfclFunctionDoc = {
    name: 'geometry.area',
    description: 'Area.',
    parameters: {
      type: 'dict',
      properties: {
        base: { type: 'integer', description: 'The base.' },
        ratio: { type: 'float', description: 'A ratio.', default: 1.5 },
        shape: { type: 'string', enum: ['a', 'b'], description: 'Shape.' },
        untyped: { description: 'No type.' },
        weird: { type: 'Boolean', description: 'JS Boolean (not in the table).' },
        anything: { type: 'any', description: 'Any.' },
        pair: { type: 'tuple', items: { type: 'float' }, description: 'Pair.' },
        points: { type: 'array', items: { type: 'dict', properties: { x: { type: 'float', description: 'x' }, tag: { type: 'any' } } }, description: 'Points.' },
        grid: { type: 'array', items: { type: 'array', items: { type: 'long' } }, description: 'Grid.' },
        opts: { type: 'dict', properties: { depth: { type: 'short', description: 'd' }, inner: { type: 'dict', properties: { f: { type: 'double' } } } }, required: ['depth'], description: 'Options.' },
        javaMap: { type: 'HashMap', description: 'Java.' },
        javaList: { type: 'ArrayList', items: { type: 'String' }, description: 'List.' },
        dictNoProps: { type: 'dict', description: 'Free-form.' },
      },
      required: ['base'],
      optional: ['ratio'],
    },
  };
  const before = structuredClone(doc);
  const [tool0] = bfclToTools([doc]);
  t.same(doc, before, 'the docs are not modified');
  t.equal(tool0!.name, 'geometry.area', 'dotted names are kept');
  t.equal(tool0!.description, 'Area.');
  t.same(tool0!.parameters, {
    type: 'object',
    properties: {
      base: { type: 'integer', description: 'The base.' },
      ratio: { type: 'number', description: 'A ratio. This is a float type value.', default: 1.5, format: 'float' },
      shape: { type: 'string', enum: ['a', 'b'], description: 'Shape.' },
      untyped: { description: 'No type.', type: 'string' },
      weird: { type: 'string', description: 'JS Boolean (not in the table).' },
      anything: { type: 'string', description: 'Any.' },
      pair: { type: 'array', items: { type: 'number' }, description: 'Pair.' },
      points: { type: 'array', items: { type: 'object', properties: { x: { type: 'number', description: 'x This is a float type value.', format: 'float' }, tag: { type: 'string' } } }, description: 'Points.' },
      grid: { type: 'array', items: { type: 'array', items: { type: 'integer' } }, description: 'Grid.' },
      opts: { type: 'object', properties: { depth: { type: 'integer', description: 'd' }, inner: { type: 'object', properties: { f: { type: 'number' } } } }, required: ['depth'], description: 'Options.' },
      javaMap: { type: 'object', description: 'Java.' },
      javaList: { type: 'array', items: { type: 'string' }, description: 'List.' },
      dictNoProps: { type: 'object', description: 'Free-form.' },
    },
    required: ['base'],
    optional: ['ratio'],
  });
  t.same(bfclToTools([doc], { dotsToUnderscores: true }).map((x) => x.name), ['geometry_area']);
  t.same(bfclToTools([{ name: 'f', parameters: { type: 'dict' } }])[0]!.parameters, { type: 'object', properties: {} }, 'missing properties become {}');
  t.same(bfclToTools([{ name: 'f', parameters: { type: 'dict', properties: { v: { type: 'float' } } } }])[0]!.parameters.properties, { v: { type: 'number', format: 'float', description: ' This is a float type value.' } }, 'a float without description gets the note alone');
  t.throws(() => bfclToTools([{ name: 'a b', parameters: { type: 'dict', properties: {} } }]), { name: 'XlamInvalidArgumentError', message: /tools\[0\]\.name/ });
  t.throws(() => bfclToTools([{ name: 'a', parameters: { type: 'dict', properties: {} } }, { name: 'a', parameters: { type: 'dict', properties: {} } }]), { message: /duplicate/ });
});

t.test('bfclToTools(): language hints as BFCL applies them before inference (§3.1)', async (t) => {
  t.same(['simple_python_3', 'live_multiple_87-38-4', 'simple_java_26', 'simple_javascript_5', 'parallel_multiple'].map(bfclLanguage), ['python', 'python', 'java', 'javascript', 'python']);
  const doc = (properties: Record<string, BfclParameter>): BfclFunctionDoc => ({ name: 'f', description: 'Does f.', parameters: { type: 'dict', properties, required: Object.keys(properties) } });
  const py = bfclToTools([doc({ x: { type: 'float', description: 'X.' } })], { language: 'python' })[0]!;
  t.equal(py.description, 'Does f. Note that the provided function is in Python 3 syntax.');
  t.same(py.parameters.properties, { x: { type: 'number', format: 'float', description: 'X. This is a float type value.' } }, 'Python parameters are converted as without hints');

  const javaDoc = doc({
    n: { type: 'long', description: 'N.' },
    list: { type: 'ArrayList', items: { type: 'String' }, description: 'L.' },
    arr: { type: 'Array', items: { type: 'char' }, description: 'A.' },
    map: { type: 'HashMap', description: 'M.' },
    obj: { type: 'any', description: 'O.' },
    ratio: { type: 'float', description: 'R.' },
  });
  const before = structuredClone(javaDoc);
  const java = bfclToTools([javaDoc], { language: 'java' })[0]!;
  t.same(javaDoc, before, 'the docs are not modified');
  t.equal(java.description, 'Does f. Note that the provided function is in Java 8 SDK syntax.');
  t.same(java.parameters.properties, {
    n: { type: 'string', description: 'N. This is Java long type parameter in string representation.' },
    list: { type: 'string', description: 'L. This is Java ArrayList type parameter in string representation. The list elements are of type String; they are not in string representation.' },
    arr: { type: 'string', description: 'A. This is Java Array type parameter in string representation. The list elements are of type char; they are not in string representation.' },
    map: { type: 'string', description: 'M. This is Java HashMap type parameter in string representation.' },
    obj: { type: 'string', description: 'O. This parameter can be of any type of Java object in string representation.' },
    ratio: { type: 'string', description: 'R. This is Java float type parameter in string representation.' },
  }, 'every Java parameter is a string, its type in the description (no float note: the type is already string)');

  const js = bfclToTools([doc({
    store: { type: 'dict', description: 'S.', properties: { initialState: { type: 'dict', description: 'I.' }, names: { type: 'array', items: { type: 'String' } } } },
    list: { type: 'array', items: { type: 'integer' }, description: 'L.' },
    flag: { type: 'Boolean', description: 'F.' },
    el: { type: 'any', description: 'E.' },
  })], { language: 'javascript' })[0]!;
  t.equal(js.description, 'Does f. Note that the provided function is in JavaScript syntax.');
  t.same(js.parameters.properties, {
    store: { type: 'string', description: 'S. This is JavaScript dict type parameter in string representation. The dictionary entries have the following schema; they are not in string representation. {"initialState": {"type": "dict", "description": "I."}, "names": {"type": "array", "items": {"type": "String"}}}' },
    list: { type: 'string', description: 'L. This is JavaScript array type parameter in string representation. The list elements are of type integer; they are not in string representation.' },
    flag: { type: 'string', description: 'F. This is JavaScript Boolean type parameter in string representation.' },
    el: { type: 'string', description: 'E. This parameter can be of any type of JavaScript object in string representation.' },
  }, 'every JavaScript parameter is a string; a dict\'s properties go into its description as json.dumps writes them');
  t.same(bfclToTools([doc({ x: { type: 'integer', description: 'X.' } })])[0]!.description, 'Does f.', 'no hints without a language');
  t.throws(() => bfclToTools([doc({})], { language: 'rust' as 'java' }), { name: 'XlamInvalidArgumentError', message: /language: expected one of python, java, javascript/ });
});
