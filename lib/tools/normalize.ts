/**
 * `normalizeTools`: the tool shapes callers bring, checked and turned into {@link ToolDefinition}s.
 */
import { z } from 'zod';

import { XlamInvalidArgumentError } from '../errors.js';
import { parseArgument } from '../validate.js';
import type { JsonValue } from '../prompt/types.js';
import { findNonJson, joinPath } from './json-check.js';
import { toolNameProblem } from './names.js';
import type { JsonSchema, ToolDefinition } from './types.js';
import { isZodSchema, zodToJsonSchema } from './zod-schema.js';

/** A JSON object: what tool-call arguments are when no zod schema types them. */
export type JsonObject = { [key: string]: JsonValue };

/** A function as OpenAI describes it (also the "bare" tool shape). */
export interface FunctionSpec {
  /**
   * The function name: 1 to 64 characters out of `A-Z a-z 0-9 _ . -`.
   * @example 'get_weather'
   */
  name: string;
  /**
   * What the function does. No default: absent means no description.
   * @example 'Current weather of a city.'
   */
  description?: string;
  /**
   * JSON Schema of the arguments (`type: 'object'`), or a zod object schema. Defaults to
   * `{ type: 'object', properties: {} }` (no arguments).
   * @example { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }
   */
  parameters?: JsonSchema | z.core.$ZodType;
  /** OpenAI's structured-outputs flag; accepted and ignored. */
  strict?: boolean;
}

/** The OpenAI chat-completions tool shape. */
export interface OpenAITool {
  type: 'function';
  function: FunctionSpec;
}

/** Any tool shape the library accepts: OpenAI's, the bare function, or a {@link ToolDefinition} (e.g. from `tool()`). */
export type ToolInput = OpenAITool | FunctionSpec | ToolDefinition<string, any>;

/** The name type of a tool input (a literal when the input was typed `const` or made by `tool()`). */
export type ToolName<T> = T extends { function: { name: infer N extends string } }
  ? N
  : T extends { name: infer N extends string }
    ? N
    : string;

/** The arguments type of a tool input: its zod schema's output, else a JSON object. */
export type ToolArgs<T> = T extends { schema: infer S extends z.core.$ZodType }
  ? z.output<S>
  : T extends { function: { parameters: infer S extends z.core.$ZodType } }
    ? z.output<S>
    : T extends { parameters: infer S extends z.core.$ZodType }
      ? z.output<S>
      : T extends ToolDefinition<string, infer A>
        ? unknown extends A ? JsonObject : A
        : JsonObject;

/** The {@link ToolDefinition} a tool input normalises to, with its name and arguments types. */
export type NormalizedTool<T> = ToolDefinition<ToolName<T>, ToolArgs<T>>;

/** {@link normalizeTools}' result type: one {@link NormalizedTool} per input, in order. */
export type NormalizedTools<T extends readonly ToolInput[]> = { -readonly [K in keyof T]: NormalizedTool<T[K]> };

const nameSchema = z.unknown().superRefine((v, ctx) => {
  const problem = toolNameProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const functionSpecShape = {
  name: nameSchema,
  description: z.string({ error: 'description must be a string' }).optional(),
  parameters: z.unknown().optional(),
  strict: z.boolean({ error: 'strict must be a boolean' }).optional(),
};
const OpenAIToolSchema = z.strictObject({
  type: z.literal('function', { error: 'type must be "function"' }),
  function: z.strictObject(functionSpecShape, { error: 'function must be an object { name, description?, parameters? }' }),
});
const BareToolSchema = z.strictObject({
  ...functionSpecShape,
  schema: z.custom<z.core.$ZodType>(isZodSchema, { error: 'schema must be a zod schema' }).optional(),
});

function fail(message: string): never {
  throw new XlamInvalidArgumentError('INVALID_ARGUMENT', message);
}

function jsonParameters(parameters: unknown, where: string): JsonSchema {
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    fail(`${where}: parameters must be a JSON Schema object ({ type: 'object', properties: {...} }) or a zod schema`);
  }
  const bad = findNonJson(parameters, where);
  if (bad) fail(`${bad.path}: ${bad.reason}`);
  const p = parameters as JsonSchema;
  if (p.type !== 'object') {
    fail(`${where}.type: parameters must be an object schema (type: "object"), got ${JSON.stringify(p.type ?? null)}`);
  }
  if (p.properties !== undefined && (typeof p.properties !== 'object' || p.properties === null || Array.isArray(p.properties))) {
    fail(`${where}.properties: must be an object mapping argument names to schemas`);
  }
  return p;
}

/**
 * Checks and normalises a list of tools given in any accepted shape, mixed freely: the OpenAI
 * shape `{ type: 'function', function: { name, description, parameters } }`, the bare
 * `{ name, description, parameters }`, and {@link tool} results. `parameters` may be a JSON Schema
 * object schema or a zod schema (converted as `tool()` does). JSON Schemas are kept by reference,
 * not copied: treat tools as immutable once given.
 *
 * @example
 * ```ts
 * const tools = normalizeTools([
 *   { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
 *   { name: 'math.add', parameters: { type: 'object', properties: { a: { type: 'number' } } } },
 *   tool({ name: 'get_weather', parameters: z.object({ city: z.string() }) }),
 * ]);
 * ```
 * @throws {XlamInvalidArgumentError} `INVALID_ARGUMENT` with the path of the culprit
 *   (`tools[1].function.name: ...`): a bad or duplicate name, unknown keys, parameters that are not
 *   an object schema, values that are not JSON (undefined, NaN, functions, class instances, cycles).
 */
export function normalizeTools<const T extends readonly ToolInput[]>(input: T): NormalizedTools<T>;
export function normalizeTools(input: readonly ToolInput[]): ToolDefinition[] {
  if (!Array.isArray(input)) fail(`tools: expected an array of tools, got ${input === null ? 'null' : typeof input}`);
  const out: ToolDefinition[] = [];
  const seen = new Map<string, string>();
  input.forEach((item: unknown, i) => {
    const where = `tools[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) fail(`${where}: expected a tool object, got ${item === null ? 'null' : Array.isArray(item) ? 'an array' : typeof item}`);
    const openai = 'function' in item || 'type' in item;
    let spec: FunctionSpec & { schema?: z.core.$ZodType };
    let at: string;
    if (openai) {
      parseArgument(OpenAIToolSchema, item, where);
      spec = (item as OpenAITool).function;
      at = `${where}.function`;
    } else {
      parseArgument(BareToolSchema, item, where);
      spec = item as FunctionSpec;
      at = where;
    }
    let def: ToolDefinition;
    if (isZodSchema(spec.parameters)) {
      def = { name: spec.name, parameters: zodToJsonSchema(spec.parameters, `${at}.parameters`), schema: spec.parameters as z.ZodType };
    } else {
      const parameters = spec.parameters === undefined ? { type: 'object', properties: {} } : jsonParameters(spec.parameters, `${at}.parameters`);
      def = { name: spec.name, parameters };
      if (spec.schema !== undefined) def.schema = spec.schema as z.ZodType;
    }
    if (spec.description !== undefined) def.description = spec.description;
    const prev = seen.get(def.name);
    if (prev !== undefined) fail(`${at}.name: duplicate tool name ${JSON.stringify(def.name)} (also ${prev})`);
    seen.set(def.name, `${at}.name`);
    out.push(def);
  });
  return out;
}
