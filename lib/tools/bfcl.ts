/**
 * Berkeley Function-Calling Leaderboard (BFCL) function docs → tools.
 *
 * BFCL docs use Python-ish type names (`dict`, `float`, `tuple`, `any`, Java's `HashMap`, ...).
 * {@link bfclToTools} converts them exactly as BFCL's `convert_to_tool` with `GORILLA_TO_OPENAPI`
 * does (`bfcl_eval/model_handler/utils.py`), so the result is plain JSON Schema; with a
 * `language`, BFCL's language hints (`bfcl-hints.ts`) come first, as in BFCL's inference.
 */
import type { JsonValue } from '../prompt/types.js';
import { XlamInvalidArgumentError } from '../errors.js';
import { applyLanguageHints, BFCL_LANGUAGES, type BfclLanguage } from './bfcl-hints.js';
import { normalizeTools } from './normalize.js';
import type { ToolDefinition } from './types.js';

/** One BFCL function doc, as in the data files' `function` lists. */
export interface BfclFunctionDoc {
  name: string;
  description?: string;
  parameters: { type?: string; properties?: Record<string, BfclParameter>; required?: string[]; [key: string]: unknown };
  [key: string]: unknown;
}

/** One BFCL parameter schema (BFCL type names; other JSON Schema keys pass through). */
export interface BfclParameter {
  type?: string;
  description?: string;
  items?: BfclParameter;
  properties?: Record<string, BfclParameter>;
  [key: string]: unknown;
}

/** Options of {@link bfclToTools}. */
export interface BfclToToolsOptions {
  /**
   * Rewrite every `.` in function names to `_`, as BFCL does for OpenAI-style APIs (which
   * evaluate with `underscore_to_dot`). BFCL runs the xLAM-2 models with the dotted names
   * unchanged, and dots are valid tool names here.
   * @example true
   * Defaults to `false`.
   */
  dotsToUnderscores?: boolean;
  /**
   * Apply BFCL's language hints for this language first (§3.1 of the BFCL notes; `bfclLanguage`
   * gives a category's language), as BFCL does to every doc it shows a model:
   * each description says the function's syntax, and for Java and JavaScript every parameter
   * becomes a `string` holding source code, its original type named in its description. Without
   * it the docs are converted as they are.
   * @example 'java'
   * Defaults to none (no hints).
   */
  language?: BfclLanguage;
}

/** BFCL's `GORILLA_TO_OPENAPI` (`bfcl_eval/constants/type_mappings.py`). */
export const GORILLA_TO_OPENAPI: Readonly<Record<string, string>> = Object.freeze({
  integer: 'integer',
  number: 'number',
  float: 'number',
  string: 'string',
  boolean: 'boolean',
  bool: 'boolean',
  array: 'array',
  list: 'array',
  dict: 'object',
  object: 'object',
  tuple: 'array',
  any: 'string',
  byte: 'integer',
  short: 'integer',
  long: 'integer',
  double: 'number',
  char: 'string',
  ArrayList: 'array',
  Array: 'array',
  HashMap: 'object',
  Hashtable: 'object',
  Queue: 'array',
  Stack: 'array',
  Any: 'string',
  String: 'string',
  Bigint: 'integer',
});

const FLOAT_NOTE = ' This is a float type value.';

/** A BFCL type name mapped to JSON Schema; unknown names (`Boolean`, `''`, ...) become `string`. */
function mapType(type: unknown): string {
  return typeof type === 'string' && Object.hasOwn(GORILLA_TO_OPENAPI, type) ? GORILLA_TO_OPENAPI[type]! : 'string';
}

type Schema = { [key: string]: JsonValue };

/** `_cast_to_openai_type`, in place on a deep copy. */
function castProperties(properties: Schema): Schema {
  for (const value of Object.values(properties)) {
    const prop = value as Schema;
    if (!('type' in prop)) {
      prop.type = 'string';
    } else {
      if (prop.type === 'float') {
        prop.format = 'float';
        prop.description = `${typeof prop.description === 'string' ? prop.description : ''}${FLOAT_NOTE}`;
      }
      prop.type = mapType(prop.type);
    }
    if (prop.type !== 'array' && prop.type !== 'object') continue;
    if ('properties' in prop) {
      prop.properties = castProperties(prop.properties as Schema);
    } else if ('items' in prop) {
      const items = prop.items as Schema;
      items.type = mapType(items.type);
      if (items.type === 'array' && 'items' in items) {
        const inner = items.items as Schema;
        inner.type = mapType(inner.type);
      } else if (items.type === 'object' && 'properties' in items) {
        items.properties = castProperties(items.properties as Schema);
      }
    }
  }
  return properties;
}

/**
 * Converts BFCL function docs to tools, following BFCL's `convert_to_tool` with
 * `GORILLA_TO_OPENAPI`: `parameters.type` becomes `object`; each property's type is mapped
 * (`dict` → `object`, `tuple` → `array`, `any` → `string`, ...; a missing or unknown type becomes
 * `string`); a `float` property becomes `number` with `format: 'float'` and
 * `" This is a float type value."` appended to its description (properties only, not `items`);
 * `array`/`object` properties recurse into `properties`, else map `items.type` (and
 * `items.items.type`, or recurse into `items.properties`). `required`, `default`, `enum`,
 * `optional` and other keys stay as they are. The docs are deep-copied, never modified. Names keep
 * their dots unless `dotsToUnderscores` is set. With `language`, BFCL's language hints are applied
 * to the copy before the conversion (see {@link BfclToToolsOptions.language}).
 *
 * Where BFCL's Python raises `KeyError` (no `description` on a float property, an `items.type`
 * missing or not in the table, no `properties`), this maps leniently instead: the description
 * becomes the note alone, the item type `string`, the properties `{}`.
 *
 * @example
 * ```ts
 * // entry: one line of BFCL_v4_simple_java.json: the tools a model is shown in BFCL
 * const tools = bfclToTools(entry.function, { language: bfclLanguage(entry.id) });
 * ```
 * @throws {XlamInvalidArgumentError} `INVALID_ARGUMENT` when a doc does not make a valid tool
 *   (bad or duplicate name, non-JSON values), or for an unknown `language`.
 */
export function bfclToTools(docs: readonly BfclFunctionDoc[], options: BfclToToolsOptions = {}): ToolDefinition[] {
  const { language } = options;
  if (language !== undefined && !BFCL_LANGUAGES.includes(language)) {
    throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `language: expected one of ${BFCL_LANGUAGES.join(', ')}, got ${JSON.stringify(language)}`);
  }
  const copy = structuredClone(docs) as unknown as Schema[];
  if (language !== undefined) applyLanguageHints(copy, language);
  for (const doc of copy) {
    if (options.dotsToUnderscores && typeof doc.name === 'string') doc.name = doc.name.replace(/\./g, '_');
    const parameters = (typeof doc.parameters === 'object' && doc.parameters !== null ? doc.parameters : {}) as Schema;
    parameters.type = 'object';
    parameters.properties = castProperties((parameters.properties ?? {}) as Schema);
    doc.parameters = parameters;
  }
  // BFCL docs may carry extra keys (e.g. `response`); a tool keeps name, description and parameters.
  return normalizeTools(
    copy.map((d) => {
      const spec: { name: string; description?: string; parameters: Schema } = { name: d.name as string, parameters: d.parameters as Schema };
      if (d.description !== undefined) spec.description = d.description as string;
      return spec;
    }),
  );
}
