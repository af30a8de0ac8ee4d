/**
 * `tool()`: a tool whose arguments are described and parsed by a zod schema.
 */
import type { z } from 'zod';

import { XlamInvalidArgumentError } from '../errors.js';
import { checkToolName } from './names.js';
import type { ToolDefinition } from './types.js';
import { isZodSchema, zodToJsonSchema } from './zod-schema.js';

/** A zod schema whose input is an object (`z.object(...)`, possibly refined or transformed). */
export type ZodObjectLike = z.ZodType<unknown, { [key: string]: unknown }>;

/** What {@link tool} takes. */
export interface ZodToolSpec<Name extends string, Schema extends ZodObjectLike> {
  /**
   * The function name the model emits: 1 to 64 characters out of `A-Z a-z 0-9 _ . -`.
   * @example 'get_weather'
   */
  name: Name;
  /**
   * What the tool does, shown to the model. No default: without it the model sees only the name
   * and the parameters.
   * @example 'Current weather of a city.'
   */
  description?: string;
  /**
   * The arguments: a zod object schema. Its JSON Schema (zod's input side) is what the model sees;
   * the model's arguments are parsed with it, so calls carry its output type.
   * @example z.object({ city: z.string(), unit: z.enum(['c', 'f']).default('c') })
   */
  parameters: Schema;
}

/** A {@link ToolDefinition} made by {@link tool}: it keeps its zod schema and output type. */
export type ZodTool<Name extends string = string, Schema extends ZodObjectLike = ZodObjectLike> =
  ToolDefinition<Name, z.output<Schema>> & { schema: Schema };

/**
 * Defines a tool with a zod schema. Calls to it that {@link parseToolCalls} returns have
 * `arguments` parsed by the schema and typed as its output.
 *
 * @example
 * ```ts
 * const weather = tool({
 *   name: 'get_weather',
 *   description: 'Current weather of a city.',
 *   parameters: z.object({ city: z.string(), unit: z.enum(['c', 'f']).default('c') }),
 * });
 * ```
 * @throws {XlamInvalidArgumentError} `INVALID_ARGUMENT` for a bad name or a schema that is not an
 *   object or has parts JSON Schema cannot express.
 */
export function tool<const Name extends string, Schema extends ZodObjectLike>(spec: ZodToolSpec<Name, Schema>): ZodTool<Name, Schema> {
  if (typeof spec !== 'object' || spec === null) {
    throw new XlamInvalidArgumentError('INVALID_ARGUMENT', 'tool(): expected { name, description?, parameters }');
  }
  const where = `tool(${typeof spec.name === 'string' ? JSON.stringify(spec.name) : ''})`;
  checkToolName(spec.name, `${where}.name`);
  if (spec.description !== undefined && typeof spec.description !== 'string') {
    throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `${where}.description: expected a string`);
  }
  if (!isZodSchema(spec.parameters)) {
    throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `${where}.parameters: expected a zod schema such as z.object({...})`);
  }
  const parameters = zodToJsonSchema(spec.parameters, `${where}.parameters`);
  const def = { name: spec.name, parameters, schema: spec.parameters } as ZodTool<Name, Schema>;
  if (spec.description !== undefined) def.description = spec.description;
  return def;
}
