/**
 * zod ↔ JSON Schema for tool parameters.
 *
 * `z.toJSONSchema` is run with `io: 'input'` (the model writes what the schema *accepts*: a field
 * with `.default()` stays optional and shows its `default`), target draft 2020-12, and the noise
 * removed: no `$schema` key, no `±(2^53 - 1)` bounds on `z.number().int()`, no
 * `propertyNames: {type: 'string'}` on string-keyed records. What zod does with the rest:
 * `.optional()` leaves the key out of `required`; `.nullable()` gives `type: [T, 'null']` (or an
 * `anyOf` with `{type: 'null'}`); `z.enum` gives `{type: 'string', enum}`; unions give `anyOf`
 * (`type: [..]` for plain primitives); `z.record(z.string(), V)` gives `additionalProperties: V`;
 * `.describe()`/`.meta()` give `description`/`examples`; recursive schemas give `$defs`/`$ref`.
 * Types JSON cannot express (dates, bigints, maps, functions, ...) are rejected.
 */
import { z } from 'zod';

import { XlamInvalidArgumentError } from '../errors.js';
import type { JsonSchema } from './types.js';

/** True for any zod (v4, classic or mini) schema. */
export function isZodSchema(value: unknown): value is z.core.$ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

/**
 * The JSON Schema of a zod object schema, as shown to the model. Throws
 * {@link XlamInvalidArgumentError} (`INVALID_ARGUMENT`) naming `where` when the schema has parts JSON
 * Schema cannot express or does not describe an object.
 */
export function zodToJsonSchema(schema: z.core.$ZodType, where: string): JsonSchema {
  let json: JsonSchema;
  try {
    json = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io: 'input',
      unrepresentable: 'throw',
      override: ({ jsonSchema: s }) => {
        if (s.type === 'integer' && s.minimum === Number.MIN_SAFE_INTEGER) delete s.minimum;
        if (s.type === 'integer' && s.maximum === Number.MAX_SAFE_INTEGER) delete s.maximum;
        const names = s.propertyNames as JsonSchema | undefined;
        if (names && typeof names === 'object' && Object.keys(names).length === 1 && names.type === 'string') delete s.propertyNames;
      },
    }) as JsonSchema;
  } catch (err) {
    throw new XlamInvalidArgumentError(
      'INVALID_ARGUMENT',
      `${where}: the zod schema cannot be expressed as JSON Schema (${(err as Error).message})`,
      { cause: err },
    );
  }
  delete json.$schema;
  if (json.type !== 'object') {
    throw new XlamInvalidArgumentError(
      'INVALID_ARGUMENT',
      `${where}: tool parameters must be an object schema such as z.object({...}); got JSON Schema type ${JSON.stringify(json.type ?? null)}`,
    );
  }
  return json;
}
