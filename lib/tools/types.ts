/**
 * The normalised tool every part of the library works with, whatever shape the caller gave
 * (OpenAI `{type: 'function', function: {...}}`, bare `{name, description, parameters}`, or
 * `tool({ name, description, parameters: zodSchema })`).
 */
import type { z } from 'zod';

/** A JSON Schema object, as JSON (no functions, no undefined). */
export type JsonSchema = { [key: string]: unknown };

export interface ToolDefinition<Name extends string = string, Args = unknown> {
  /** The function name the model must emit. */
  name: Name;
  /** What the tool does, shown to the model. Absent when the caller gave none. */
  description?: string;
  /** JSON Schema of the arguments; always an object schema (`type: 'object'`). */
  parameters: JsonSchema;
  /** The zod schema the arguments are parsed with, for tools made by `tool()`. */
  schema?: z.ZodType<Args>;
}
