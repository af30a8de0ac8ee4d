/**
 * JSON Schema → GBNF: the grammar of the JSON texts a schema accepts, for the keywords real tools
 * use. Values are written as JSON; whitespace is allowed (bounded, see `ws` in
 * {@link JsonRules}) only after `{ [ , :` and before `} ]`. What the grammar enforces, it enforces
 * as the argument validator (zod's `z.fromJSONSchema`, parse/validate.ts) reads the schema, so a
 * call the grammar allows passes validation (test/grammar-validate.test.ts samples the grammars
 * to check it); the keywords listed as not enforced are still checked by the validator.
 *
 * Keywords, in the order they are looked at:
 * - boolean schemas: `true` (and `{}`) is any JSON value, `false` nothing.
 * - `$ref`: local references only (`#`, `#/$defs/...`, `#/definitions/...`, any JSON pointer
 *   into the same document), one rule per target, so recursive schemas work. Keywords beside
 *   `$ref` are ignored.
 * - `const`, `enum`: the values as `JSON.stringify` writes them (keywords beside them, `type`
 *   included, are ignored: the values already say it all).
 * - `anyOf`, `oneOf`: any of the branches (`oneOf`'s "exactly one" is not enforced); keywords
 *   beside them are ignored. `allOf` with one schema (and no `type`) is that schema; other
 *   `allOf`s are ignored.
 * - `type` (a name or a list, e.g. `["string", "null"]`). OpenAPI's `nullable` is not JSON
 *   Schema, and the validator ignores it: it adds no null.
 *   Without `type`: `properties` / `required` / `additionalProperties` mean an object, `items` /
 *   `prefixItems` an array, anything else any JSON value. An unknown type name means any value.
 * - strings: `format` as the validator checks it (date, time, date-time, uuid, email, ...: see
 *   `FORMAT_PATTERNS` in json-rules.ts; other formats: any string), else a supported `pattern`
 *   (see `regex.ts`; an unsupported one: any string), else `minLength` / `maxLength`: at least
 *   `minLength` characters (code points, as JSON Schema counts) and at most `maxLength` UTF-16
 *   units (as zod counts: a character beyond U+FFFF is two), so both readings accept the string;
 *   an escape is one character and one unit (an escaped surrogate pair: two). Bounds above
 *   {@link MAX_COUNT} are not enforced, nor are those of `minItems` / `maxItems`. When several
 *   are given, the first in this list wins, so the grammar may accept strings the others
 *   reject — never the reverse.
 * - numbers (see numbers.ts): `integer` is a safe integer (|n| ≤ 2^53 − 1, as zod's `.int()`)
 *   within `minimum` / `maximum` / `exclusiveMinimum` / `exclusiveMaximum` (numeric, or draft-4
 *   booleans), exactly, with no fraction and no exponent (`1.0` is not an integer here);
 *   `number` is finite: at most 15 integral digits, 20 fraction digits and a 2-digit exponent
 *   (`1e999` would be Infinity); with bounds, no exponent and the values within them whose whole
 *   unit interval is (plus the integers). `multipleOf` is not enforced.
 * - objects: `properties` in the schema's order (a fixed order: other orders are rejected),
 *   `required` ones always, the others optional; required names without a `properties` entry
 *   take any value, after the declared ones. `additionalProperties`: `false` none; `true` or a
 *   schema: other keys (not a declared name) after the declared ones; absent: none when
 *   `properties` is given and the `strict` option is on (the default, as llama.cpp and XGrammar:
 *   JSON Schema itself would allow any other key), any when it is not (`{type: "object"}` is any
 *   object).
 *   `patternProperties` with one pattern (and no `additionalProperties: false`) allows other
 *   keys whose value matches that pattern's schema, whatever the key; with several, no other
 *   key (a declared property whose name matches a pattern is not held to its schema).
 *   `minProperties` / `maxProperties`, `propertyNames`, `dependentRequired` etc. are not enforced.
 * - arrays: `items`, `prefixItems` (and the draft-4 array form of `items` with
 *   `additionalItems`), `minItems`, `maxItems`. `uniqueItems`, `contains` are not enforced.
 * - every other keyword (`description`, `default`, `title`, `examples`, ...) is ignored.
 *
 * Known differences with the validator, where the grammar allows more: `oneOf` values matching
 * several branches, `allOf` of several schemas, `anyOf` / `oneOf` beside a `type`, `multipleOf`,
 * `uniqueItems`, `contains`, unsupported patterns, a `pattern` beside a `format` or length bounds
 * beside either, formats zod checks otherwise than with one regular expression (`uri`,
 * `hostname`, `ipv6`, ...), object and array `const` / `enum` values (zod compares them by
 * identity, so no JSON value matches them).
 *
 * A schema that refers to itself before any character (`{"$ref": "#"}`, `$defs` a → b → a, an
 * `anyOf` branch that is the schema itself) describes no finite JSON; its grammar is left
 * recursive and `compileGrammar` rejects it.
 */
import { XlamInvalidArgumentError } from '../errors.js';
import { alt, charClass, exprSize, lit, repeat, seq, type GbnfExpr, type GbnfGrammar, type GbnfRef } from './gbnf.js';
import { JsonRules } from './json-rules.js';
import { integerGrammar, numberGrammar, schemaBounds } from './numbers.js';
import { patternToGrammar } from './regex.js';
import { RuleSet } from './rules.js';
import { arrayGrammar, keyNotIn, objectGrammar, type Member } from './schema-containers.js';

/** Options of {@link jsonSchemaToGrammar} (and of the tool-call grammars). */
export interface SchemaGrammarOptions {
  /**
   * The most spaces or tabs whitespace may hold after a newline. Whitespace is nothing, one
   * space, or a newline and up to this many spaces or tabs (llama.cpp's `SPACE_RULE`), enough
   * for `json.dumps(indent=4)` five levels deep while keeping a model from rambling in blanks.
   * @example 40
   * Defaults to `20`.
   */
  maxIndent?: number;
  /**
   * What an object schema with `properties` but no `additionalProperties` allows besides its
   * properties: nothing when true (as llama.cpp and XGrammar's strict mode: a model may not
   * invent arguments), any other key with any value when false (JSON Schema's own rule).
   * @example false
   * Defaults to `true`.
   */
  strict?: boolean;
}

type SchemaObject = { [key: string]: unknown };

const isObject = (v: unknown): v is SchemaObject => typeof v === 'object' && v !== null && !Array.isArray(v);
/**
 * The largest length or item count a grammar spells out (each unit is a copy or a rule); a
 * `minLength`, `maxLength`, `minItems` or `maxItems` above it is not enforced.
 */
export const MAX_COUNT = 10000;
/** Array items whose grammar has more nodes than this get a rule of their own. */
const ITEM_RULE_SIZE = 32;

const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_COUNT ? v : undefined);

function invalid(message: string): never {
  throw new XlamInvalidArgumentError('INVALID_ARGUMENT', message);
}

/** The value a JSON pointer (`/a/b`, RFC 6901, URI-encoded) points to in `doc`. */
function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  if (!pointer.startsWith('/')) return undefined;
  let node: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = Object.hasOwn(node as object, key) ? (node as SchemaObject)[key] : undefined;
  }
  return node;
}

/**
 * Turns schemas into grammar rules, all in one grammar: the tool-call grammars convert one
 * schema per tool into the same {@link RuleSet}.
 */
export class SchemaConverter {
  readonly rules = new RuleSet();
  readonly json: JsonRules;
  private readonly refs = new Map<unknown, Map<string, GbnfRef>>();
  private readonly strict: boolean;

  constructor(options: SchemaGrammarOptions = {}) {
    const maxIndent = options.maxIndent ?? 20;
    if (!Number.isInteger(maxIndent) || maxIndent < 0 || maxIndent > 1000) invalid(`maxIndent: expected an integer from 0 to 1000, got ${maxIndent}`);
    this.json = new JsonRules(this.rules, maxIndent);
    this.strict = options.strict ?? true;
  }

  /**
   * The grammar of the JSON values `schema` accepts. `doc` is the document `$ref`s resolve in
   * (the schema itself at the top); `hint` names the rules made for it.
   */
  convert(schema: unknown, doc: unknown, hint: string): GbnfExpr {
    if (schema === true) return this.json.value();
    if (schema === false) return charClass([]);
    if (!isObject(schema)) invalid(`${hint}: a JSON Schema must be an object or a boolean, got ${JSON.stringify(schema)}`);
    const s = schema;
    if (typeof s.$ref === 'string') return this.ref(s.$ref, doc, hint);
    if ('const' in s) return lit(JSON.stringify(s.const));
    if (Array.isArray(s.enum)) return s.enum.length === 0 ? charClass([]) : alt(...s.enum.map((v) => lit(JSON.stringify(v))));
    const union = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
    if (union) return union.length === 0 ? charClass([]) : alt(...union.map((sub, i) => this.convert(sub, doc, `${hint}-${i}`)));
    if (Array.isArray(s.allOf) && s.allOf.length === 1 && s.type === undefined) return this.convert(s.allOf[0], doc, hint);
    let types: unknown[];
    if (typeof s.type === 'string') types = [s.type];
    else if (Array.isArray(s.type)) types = s.type;
    else if ('properties' in s || 'required' in s || 'additionalProperties' in s) types = ['object'];
    else if ('items' in s || 'prefixItems' in s) types = ['array'];
    else return this.json.value();
    if (types.length === 0) return charClass([]);
    return alt(...types.map((t) => this.typed(t, s, doc, hint)));
  }

  private typed(type: unknown, s: SchemaObject, doc: unknown, hint: string): GbnfExpr {
    switch (type) {
      case 'string': return this.string(s, hint);
      case 'number': {
        const b = schemaBounds(s);
        return b ? numberGrammar(b) : this.json.number();
      }
      case 'integer': {
        const b = schemaBounds(s);
        return b ? integerGrammar(b) : this.json.integer();
      }
      case 'boolean': return this.json.boolean();
      case 'null': return this.json.null();
      case 'object': return this.object(s, doc, hint);
      case 'array': return this.array(s, doc, hint);
      default: return this.json.value();
    }
  }

  private ref(pointer: string, doc: unknown, hint: string): GbnfRef {
    if (!pointer.startsWith('#')) invalid(`${hint}: $ref ${JSON.stringify(pointer)} is not supported (only local references such as "#/$defs/Name")`);
    let byPointer = this.refs.get(doc);
    if (!byPointer) this.refs.set(doc, (byPointer = new Map()));
    const known = byPointer.get(pointer);
    if (known) return known;
    let target: unknown;
    try {
      target = resolvePointer(doc, pointer.slice(1));
    } catch (err) {
      // decodeURIComponent: a '%' not followed by two hex digits of valid UTF-8 (schema-grammar fuzzer finding)
      if (err instanceof URIError) invalid(`${hint}: $ref ${JSON.stringify(pointer)} has a malformed %-escape`);
      throw err;
    }
    if (target === undefined) invalid(`${hint}: $ref ${JSON.stringify(pointer)} points to nothing`);
    const name = pointer.split('/').pop() || 'root';
    const r = this.rules.reserve(`ref-${name}`);
    byPointer.set(pointer, r);
    return this.rules.define(r, this.convert(target, doc, r.name));
  }

  private string(s: SchemaObject, hint: string): GbnfExpr {
    if (typeof s.format === 'string') {
      const f = this.json.format(s.format);
      if (f) return f;
    }
    if (typeof s.pattern === 'string') {
      const p = patternToGrammar(s.pattern, this.json.char());
      if (p) return this.rules.add(`${hint}-pattern`, seq(lit('"'), p, lit('"')));
    }
    const min = count(s.minLength) ?? 0;
    const max = count(s.maxLength) ?? null;
    if (max !== null && max < min) return charClass([]);
    if (max !== null) return seq(lit('"'), this.json.charsBetween(min, max), lit('"'));
    if (min > 0) return seq(lit('"'), repeat(this.json.char(), min, null), lit('"'));
    return this.json.string();
  }

  private object(s: SchemaObject, doc: unknown, hint: string): GbnfExpr {
    const properties = isObject(s.properties) ? s.properties : undefined;
    const required = new Set(Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === 'string') : []);
    const ap = s.additionalProperties;
    const patterned = isObject(s.patternProperties) && Object.keys(s.patternProperties).length > 0;
    if (!properties && required.size === 0 && (ap === undefined || ap === true) && !patterned) return this.json.object();
    const r = this.rules.reserve(hint);
    const members: Member[] = [];
    for (const [name, sub] of Object.entries(properties ?? {})) {
      if (sub === false) continue; // may not appear
      members.push({ name, required: required.has(name), value: this.convert(sub, doc, `${r.name}-${name}`) });
    }
    for (const name of required) if (!properties || !Object.hasOwn(properties, name)) members.push({ name, required: true, value: this.json.value() });
    let extra: GbnfExpr | null;
    if (patterned) {
      // The validator checks keys that match a pattern against its schema: with one pattern, any
      // other key whose value matches that schema passes whatever the key; with more, or with
      // `additionalProperties: false` (keys must then match a pattern), no other key is written.
      const patterns = Object.values(s.patternProperties as SchemaObject);
      extra = patterns.length === 1 && ap !== false ? this.convert(patterns[0], doc, `${r.name}-extra`) : null;
    } else if (ap === true || (ap === undefined && (!properties || !this.strict))) extra = this.json.value();
    else if (ap === undefined || ap === false) extra = null;
    else extra = this.convert(ap, doc, `${r.name}-extra`);
    const additional = extra && { key: this.rules.add(`${r.name}-extra-key`, keyNotIn(this.json, members.map((m) => m.name))), value: extra };
    return this.rules.define(r, objectGrammar(this.rules, this.json, r.name, members, additional));
  }

  private array(s: SchemaObject, doc: unknown, hint: string): GbnfExpr {
    const tuple = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : [];
    // An item grammar of some size becomes a rule of its own, so arrays of arrays grow with the
    // sum of their sizes, not the product (`minItems` copies a reference, not the item).
    const named = (e: GbnfExpr, name: string): GbnfExpr => (exprSize(e, ITEM_RULE_SIZE) > ITEM_RULE_SIZE ? this.rules.add(name, e) : e);
    const prefix = tuple.map((sub, i) => named(this.convert(sub, doc, `${hint}-${i}`), `${hint}-${i}`));
    const rest = Array.isArray(s.items) ? s.additionalItems : s.items;
    const item = rest === false ? null : rest === undefined || rest === true ? this.json.value() : named(this.convert(rest, doc, `${hint}-item`), `${hint}-item`);
    return arrayGrammar(this.json, prefix, item, count(s.minItems) ?? 0, count(s.maxItems) ?? null);
  }
}

/**
 * The grammar of the JSON texts that `schema` accepts (no whitespace before or after the value).
 * See the module comment for the keywords enforced and how the others are treated.
 *
 * @example
 * ```ts
 * const g = jsonSchemaToGrammar({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] });
 * matches(g, '{"city": "Paris"}');  // true
 * printGbnf(g);                     // the GBNF text
 * ```
 * @throws {XlamInvalidArgumentError} `INVALID_ARGUMENT` for a schema that is not an object or a
 *   boolean (at any depth), a non-local or dangling `$ref`, or a bad `maxIndent`.
 */
export function jsonSchemaToGrammar(schema: unknown, options: SchemaGrammarOptions = {}): GbnfGrammar {
  const conv = new SchemaConverter(options);
  return conv.rules.grammar(conv.convert(schema, schema, 'schema'));
}
