// Grammar ⊆ validator: what the tool-call grammars let a model write, the argument validator
// (parse/validate.ts: zod's z.fromJSONSchema) accepts. The string formats are the validator's own
// regular expressions (checked against the schemas z.fromJSONSchema builds, and grammar ≡ regex
// by sampling and near misses); integers are exactly the safe integers within the bounds; numbers
// are finite. Then random documents drawn from the grammars (a random walk, test/helpers/
// grammar-sample.ts) of schemas with every feature the grammars enforce, and of every BFCL tool
// schema, all parse into valid calls.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { z } from 'zod';

import { compileGrammar, jsonSchemaToGrammar, matches, toolCallGrammar } from '../dist/lib/grammar/index.js';
import { FORMAT_PATTERNS } from '../dist/lib/grammar/json-rules.js';
import { parseToolCalls } from '../dist/lib/parse/parse.js';
import { bfclToTools, type BfclFunctionDoc } from '../dist/lib/tools/bfcl.js';
import { bfclLanguage } from '../dist/lib/tools/bfcl-hints.js';
import { normalizeTools } from '../dist/lib/tools/normalize.js';
import type { ToolDefinition } from '../dist/lib/tools/types.js';
import { repoRoot } from './helpers/fixtures.js';
import { run } from './helpers/grammar.js';
import { GrammarSampler } from './helpers/grammar-sample.js';
import { prng } from './helpers/prng.js';

/** The regular expression the validator checks `format` with (its schema's one check), if any. */
function validatorPattern(format: string): RegExp | undefined {
  const s = z.fromJSONSchema({ type: 'string', format }) as unknown as { _zod: { def: { checks?: Array<{ _zod: { def: { pattern?: RegExp } } }> } } };
  const checks = s._zod.def.checks ?? [];
  return checks.length === 1 ? checks[0]!._zod.def.pattern : undefined;
}

const validates = (schema: object, value: unknown) => z.fromJSONSchema(schema as z.core.JSONSchema.JSONSchema).safeParse(value).success;

t.test('the format grammars use the regular expressions the validator checks', async (t) => {
  for (const [name, re] of Object.entries(FORMAT_PATTERNS)) {
    const v = validatorPattern(name);
    t.ok(v, `${name}: the validator checks a regular expression`);
    t.equal(`${re}`, `${v}`, `${name}: the same regular expression`);
  }
});

const NEAR = [...'0123456789aAfFzZtT-:.+_@ x', '😀', 'é'];

/** `s` with one random edit: a character replaced, inserted or deleted. */
function mutate(s: string, rnd: () => number): string {
  const chars = [...s];
  const i = Math.floor(rnd() * (chars.length + 1));
  const c = NEAR[Math.floor(rnd() * NEAR.length)]!;
  const op = rnd();
  if (op < 0.5 && i < chars.length) chars[i] = c;
  else if (op < 0.8) chars.splice(i, 0, c);
  else chars.splice(i, 1);
  return chars.join('');
}

t.test('format grammars accept exactly what their regular expressions match (samples and near misses)', async (t) => {
  const rnd = prng(3);
  for (const [name, re] of Object.entries(FORMAT_PATTERNS)) {
    const schema = { type: 'string', format: name };
    const g = compileGrammar(jsonSchemaToGrammar(schema));
    const sampler = new GrammarSampler(g);
    let valid = 0;
    let near = 0;
    let bad = 0;
    for (let i = 0; i < 150; i++) {
      const doc = sampler.sample(rnd);
      if (doc === undefined) continue;
      const s = JSON.parse(doc) as string;
      valid++;
      if (!re.test(s) || !validates(schema, s)) {
        if (bad++ < 5) t.fail(`${name}: the grammar wrote ${doc}, the validator rejects it`);
      }
      for (let k = 0; k < 4; k++) {
        const m = mutate(s, rnd);
        near++;
        if (matches(g, JSON.stringify(m)) !== re.test(m) && bad++ < 5) t.fail(`${name}: ${JSON.stringify(m)}: grammar ${!re.test(m)}, regex ${re.test(m)}`);
      }
    }
    t.equal(bad, 0, `${name}: ${valid} samples validate; grammar and regex agree on ${near} near misses`);
  }
});

t.test('date: every month and day of leap and common years, as the validator says', async (t) => {
  const g = compileGrammar(jsonSchemaToGrammar({ type: 'string', format: 'date' }));
  let n = 0;
  let disagree = 0;
  for (const year of ['0000', '1900', '2000', '2023', '2024', '2100', '2400', '9996', '0004']) {
    for (let m = 0; m <= 13; m++) {
      for (let d = 0; d <= 32; d++) {
        const s = `${year}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
        n++;
        if (matches(g, JSON.stringify(s)) !== FORMAT_PATTERNS.date!.test(s) && disagree++ < 5) t.fail(`${s}: grammar and validator disagree`);
      }
    }
  }
  t.equal(disagree, 0, `${n} dates`);
  // A few through the native matcher too.
  for (const s of ['"2024-02-29"', '"2023-02-29"', '"2024-04-31"', '"1900-02-29"']) t.equal(run(g, s).complete, FORMAT_PATTERNS.date!.test(JSON.parse(s) as string), `${s} (native and reference)`);
});

t.test('integers: exactly the safe integers within the bounds, as the validator reads them', async (t) => {
  const rnd = prng(5);
  const cases: Array<[object, bigint[]]> = [];
  const MAX = BigInt(Number.MAX_SAFE_INTEGER);
  const around = (v: bigint) => [v - 2n, v - 1n, v, v + 1n, v + 2n];
  cases.push([{ type: 'integer' }, [...around(MAX), ...around(-MAX), ...around(10n ** 15n), 0n, 1n, -1n, 10n ** 16n, -(10n ** 17n)]]);
  const bounded: object[] = [
    { minimum: 5, maximum: 10 },
    { minimum: -3, maximum: 400 },
    { maximum: 400 },
    { minimum: 0 },
    { exclusiveMinimum: 0, exclusiveMaximum: 100 },
    { minimum: 2.5, maximum: 99.5 },
    { exclusiveMinimum: 2.5, exclusiveMaximum: 9.5 },
    { minimum: 7, exclusiveMinimum: true, maximum: 17, exclusiveMaximum: true },
    { minimum: -1e300, maximum: 1e300 },
    { minimum: -129, maximum: -100 },
    { minimum: 10, maximum: 5 },
    { minimum: 1, exclusiveMinimum: 3, maximum: 1000, exclusiveMaximum: 999 },
  ];
  for (const b of bounded) {
    const values: bigint[] = [];
    for (const v of Object.values(b)) if (typeof v === 'number') for (const x of around(BigInt(Math.trunc(Math.max(-1e17, Math.min(1e17, v)))))) values.push(x);
    for (let i = 0; i < 40; i++) values.push(BigInt(Math.floor((rnd() - 0.5) * 2000)));
    values.push(MAX, -MAX, MAX + 1n, 0n);
    cases.push([{ type: 'integer', ...b }, values]);
  }
  for (const [schema, values] of cases) {
    const g = compileGrammar(jsonSchemaToGrammar(schema));
    let disagree = 0;
    for (const v of values) {
      const s = v.toString();
      const expected = validates(schema, JSON.parse(s));
      if (matches(g, s) !== expected && disagree++ < 5) t.fail(`${JSON.stringify(schema)}: ${s}: validator ${expected}`);
    }
    t.equal(disagree, 0, `${JSON.stringify(schema)}: ${values.length} integers`);
  }
});

t.test('numbers: every number the grammar accepts is finite and within the bounds', async (t) => {
  const texts: string[] = ['1e999', '-1e999', '999999999999999e99', '-999999999999999.99999999999999999999e+99', `1${'0'.repeat(400)}`, '1e-99', '0e99'];
  for (let k = -12; k <= 12; k++) {
    for (const frac of ['', '.0', '.00', '.5', '.25', '.99999999999999999999', '.00001']) {
      for (const exp of ['', 'e0', 'e1', 'E-1']) texts.push(`${k}${frac}${exp}`);
    }
  }
  texts.push('-0', '-0.5', '-0.0', '0.9999999', '0.999999', '0.99999999999999999999', '0.0000001', '0.000001', '2.00000000000000000001', '2.0000001', '2.000001');
  const schemas = [
    { type: 'number' },
    { type: 'number', minimum: 0, maximum: 1 },
    { type: 'number', minimum: -2.5, exclusiveMaximum: 7 },
    { type: 'number', exclusiveMinimum: 0 },
    { type: 'number', exclusiveMinimum: -3, exclusiveMaximum: 3 },
    { type: 'number', minimum: -1, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true },
    { type: 'number', minimum: 0.5, maximum: 9.5 },
    { type: 'number', maximum: -10.25 },
    { type: 'number', minimum: 3, maximum: 3 },
    { type: 'number', minimum: 5, maximum: 4 },
    { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    { type: 'number', minimum: 0, exclusiveMaximum: 1 },
    { type: 'number', exclusiveMinimum: 2, maximum: 3 },
  ];
  for (const schema of schemas) {
    const g = compileGrammar(jsonSchemaToGrammar(schema));
    let accepted = 0;
    let wrong = 0;
    for (const s of texts) {
      if (!matches(g, s)) continue;
      accepted++;
      if (!validates(schema, JSON.parse(s)) && wrong++ < 5) t.fail(`${JSON.stringify(schema)}: the grammar accepts ${s}, the validator rejects it`);
    }
    const someAccepted = schema.minimum === 5 ? accepted === 0 : accepted > 0;
    t.ok(wrong === 0 && someAccepted, `${JSON.stringify(schema)}: ${accepted} of ${texts.length} texts accepted, all valid`);
  }
});

/** One argument `v` of the schema, required. */
const wrap = (schema: unknown) => ({ type: 'object', properties: { v: schema }, required: ['v'] });

/** Schemas of every feature the grammars enforce (test/grammar-schema.test.ts), as tool parameters. */
const FEATURES: Record<string, unknown> = {
  string: wrap({ type: 'string' }),
  number: wrap({ type: 'number' }),
  integer: wrap({ type: 'integer' }),
  'integer bounds': wrap({ type: 'integer', minimum: 5, maximum: 10 }),
  'integer maximum': wrap({ type: 'integer', description: 'Hourly fee', maximum: 400 }),
  'integer exclusive': wrap({ type: 'integer', exclusiveMinimum: -3, exclusiveMaximum: 3 }),
  'number bounds': wrap({ type: 'number', minimum: 0, maximum: 1 }),
  'number half bounds': wrap({ type: 'number', minimum: -2.5, exclusiveMaximum: 7 }),
  'number exclusive': wrap({ type: 'number', exclusiveMinimum: 0 }),
  'number exclusive unit': wrap({ type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }),
  'number below one': wrap({ type: 'number', minimum: 0, exclusiveMaximum: 1 }),
  'number draft-4 exclusive': wrap({ type: 'number', minimum: -1, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true }),
  boolean: wrap({ type: 'boolean' }),
  null: wrap({ type: 'null' }),
  const: wrap({ const: 'fixed' }),
  enum: wrap({ enum: ['a"b', 'back\\slash', 'new\nline', 'ü', '😀', '', 1, 2.5, null, true] }),
  'type array': wrap({ type: ['string', 'null'] }),
  'type array 2': wrap({ type: ['integer', 'boolean', 'array'], items: { type: 'integer' } }),
  nullable: wrap({ type: 'number', nullable: true }),
  anyOf: wrap({ anyOf: [{ type: 'string', format: 'date' }, { type: 'integer' }, { type: 'object', properties: { a: { type: 'boolean' } }, required: ['a'] }] }),
  oneOf: wrap({ oneOf: [{ type: 'string' }, { type: 'integer' }, { type: 'null' }] }),
  'allOf one': wrap({ allOf: [{ type: 'integer', maximum: 3 }] }),
  object: {
    type: 'object',
    properties: { a: { type: 'integer' }, b: { type: 'string' }, c: { type: 'boolean' }, d: { type: 'object', properties: { e: { type: 'array', items: { type: 'string' } } } } },
    required: ['b'],
  },
  'additionalProperties true': { type: 'object', properties: { name: { type: 'string' } }, additionalProperties: true },
  'additionalProperties schema': { type: 'object', properties: { name: { type: 'string' } }, additionalProperties: { type: 'integer' } },
  'additionalProperties false': { type: 'object', properties: { a: { type: 'integer' } }, additionalProperties: false },
  'object without properties': wrap({ type: 'object' }),
  'required only': wrap({ type: 'object', required: ['id'] }),
  'odd keys': { type: 'object', properties: { 'we"ird\\key': { type: 'integer' }, ünï: { type: 'integer' }, 'a/b': { type: 'string' } } },
  'false property': { type: 'object', properties: { gone: false, here: { type: 'null' } } },
  patternProperties: { type: 'object', properties: { a: { type: 'integer' } }, patternProperties: { '^x': { type: 'string' } } },
  'patternProperties two': { type: 'object', patternProperties: { '^x': { type: 'string' }, '^y': { type: 'integer' } } },
  'patternProperties false': { type: 'object', properties: { a: { type: 'integer' } }, patternProperties: { '^x': { type: 'string' } }, additionalProperties: false },
  'array bounds': wrap({ type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 3 }),
  'array empty': wrap({ type: 'array', items: { type: 'string' }, maxItems: 0 }),
  prefixItems: wrap({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], items: false }),
  'prefixItems rest': wrap({ type: 'array', prefixItems: [{ type: 'string' }], items: { type: 'integer' }, minItems: 2 }),
  'items array': wrap({ type: 'array', items: [{ type: 'null' }], additionalItems: false }),
  'array of any': wrap({ type: 'array' }),
  'nested arrays': wrap({ type: 'array', items: { type: 'array', items: { type: 'number' } } }),
  'length bounds': wrap({ type: 'string', minLength: 2, maxLength: 3 }),
  'max length': wrap({ type: 'string', maxLength: 4 }),
  'min length': wrap({ type: 'string', minLength: 3 }),
  'long bounds': wrap({ type: 'string', minLength: 101, maxLength: 103 }),
  ...Object.fromEntries(Object.keys(FORMAT_PATTERNS).map((f) => [`format ${f}`, wrap({ type: 'string', format: f })])),
  'unknown format': wrap({ type: 'string', format: 'float' }),
  'pattern code': wrap({ type: 'string', pattern: '^[A-Z]{2}-\\d{3}$' }),
  'pattern alternatives': wrap({ type: 'string', pattern: '^(cat|dog)s?$' }),
  'pattern unanchored': wrap({ type: 'string', pattern: 'abc' }),
  'pattern start': wrap({ type: 'string', pattern: '^a' }),
  'pattern end': wrap({ type: 'string', pattern: 'z$' }),
  'pattern escapes': wrap({ type: 'string', pattern: '^a"b\\\\c\\.d$' }),
  'pattern negated': wrap({ type: 'string', pattern: '^[^a-c]+$' }),
  'pattern negated unanchored': wrap({ type: 'string', pattern: '[^a]' }),
  'pattern email-like': wrap({ type: 'string', pattern: '^\\w+@\\w+\\.(com|org)$' }),
  'pattern dot': wrap({ type: 'string', pattern: '^.{2,3}$' }),
  'pattern phone': wrap({ type: 'string', pattern: '^(?:\\+\\d{1,3} )?\\(?\\d{3}\\)?[-. ]?\\d{4}$' }),
  'pattern slash': wrap({ type: 'string', pattern: '^a/b$' }),
  'pattern classes': wrap({ type: 'string', pattern: '^\\S\\W\\D\\s$' }),
  'pattern anchored alternatives': wrap({ type: 'string', pattern: '^a$|^b+$|c$' }),
  'pattern control': wrap({ type: 'string', pattern: '^[\\x00-\\x1f]{3}$' }),
  'pattern astral literal': wrap({ type: 'string', pattern: '^😀x$' }),
  tree: {
    $defs: { node: { type: 'object', properties: { value: { type: 'integer' }, children: { type: 'array', items: { $ref: '#/$defs/node' } } }, required: ['value'] } },
    type: 'object',
    properties: { root: { $ref: '#/$defs/node' } },
    required: ['root'],
  },
  definitions: {
    type: 'object',
    properties: { list: { $ref: '#/definitions/list' } },
    definitions: { list: { anyOf: [{ type: 'null' }, { type: 'object', properties: { head: { type: 'string' }, tail: { $ref: '#/definitions/list' } }, required: ['head', 'tail'] }] } },
  },
  'boolean schemas': { type: 'object', properties: { any: true, anything: {} } },
  'unknown keywords': wrap({ type: 'string', description: 'd', default: 'x', examples: ['y'], 'x-custom': 1 }),
  'unknown type': wrap({ type: 'any' }),
};

/** Samples answers of the xLAM-2 'required' grammar of `tools`; returns the invalid ones (with why) and the count. */
function sampleCalls(tools: ToolDefinition[], rnd: () => number, n: number, budget: number): { docs: number; invalid: string[] } {
  const sampler = new GrammarSampler(toolCallGrammar(tools, { format: 'xlam2', toolChoice: 'required' }));
  const invalid: string[] = [];
  let docs = 0;
  for (let i = 0; i < n; i++) {
    const doc = sampler.sample(rnd, budget);
    if (doc === undefined) continue;
    docs++;
    const r = parseToolCalls(doc, tools, { format: 'xlam2' });
    const bad = r.calls.find((c) => c.error);
    if (r.calls.length === 0) invalid.push(`${JSON.stringify(doc)}: no calls`);
    else if (bad) invalid.push(`${JSON.stringify(doc)}: ${bad.error!.message}`);
  }
  return { docs, invalid };
}

t.test('random answers for schemas of every feature parse into valid calls', async (t) => {
  const rnd = prng(17);
  for (const [name, parameters] of Object.entries(FEATURES)) {
    const tools = normalizeTools([{ name: 'f', parameters: parameters as Record<string, unknown> }]);
    const { docs, invalid } = sampleCalls(tools, rnd, 120, 250);
    for (const m of invalid.slice(0, 3)) t.fail(`${name}: ${m}`);
    t.ok(docs >= 100 && invalid.length === 0, `${name}: ${docs} random answers, ${invalid.length} invalid`);
  }
});

const dataDir = join(repoRoot, '..', 'shared', 'bfcl', 'data');

t.test('random answers for every BFCL tool parse into valid calls', { skip: !existsSync(dataDir) && 'no BFCL data in ../shared/bfcl/data' }, async (t) => {
  // Every tool of every entry, as BFCL shows it (language hints, convert_to_tool); each distinct
  // parameters schema once.
  const unique = new Map<string, ToolDefinition>();
  for (const file of readdirSync(dataDir).filter((f) => f.endsWith('.json')).sort()) {
    for (const line of readFileSync(join(dataDir, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const entry = JSON.parse(line) as { id: string; function: BfclFunctionDoc[] };
      for (const tool of bfclToTools(entry.function, { language: bfclLanguage(entry.id) })) {
        const key = JSON.stringify(tool.parameters);
        if (!unique.has(key)) unique.set(key, tool);
      }
    }
  }
  const rnd = prng(23);
  let docs = 0;
  const failures: string[] = [];
  for (const tool of unique.values()) {
    const r = sampleCalls([tool], rnd, 2, 200);
    docs += r.docs;
    for (const m of r.invalid) failures.push(`${tool.name}: ${m}`);
  }
  for (const f of failures.slice(0, 10)) t.fail(f);
  t.ok(unique.size > 3000 && docs >= 1.9 * unique.size && failures.length === 0, `${unique.size} distinct tool schemas, ${docs} random answers, ${failures.length} invalid`);
});
