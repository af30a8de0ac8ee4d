/**
 * Turns a finished raw call (name and arguments text) into a {@link ToolCall}: looks the tool up,
 * parses the arguments with its zod schema, or checks them against its JSON Schema.
 */
import { z } from 'zod';

import type { ToolDefinition } from '../tools/types.js';
import type { InvalidToolCall, ToolCallError, ToolCallErrorCode, ValidToolCall } from './types.js';

/** A call as the stream parser collected it. */
export interface RawCall {
  index: number;
  id: string;
  /** The name, when a complete string was written. */
  name: string | undefined;
  /** The arguments text as written ('{}' when none was written). */
  raw: string;
  /** Whether `raw` is a complete JSON value. */
  complete: boolean;
  /** A structural problem found while scanning. */
  problem?: { code: ToolCallErrorCode; message: string };
}

/** Compiled JSON-Schema validators by schema object (null: zod could not convert it). */
const compiled = new WeakMap<object, z.ZodType | null>();

function jsonSchemaValidator(parameters: object): z.ZodType | null {
  let v = compiled.get(parameters);
  if (v === undefined) {
    try {
      v = z.fromJSONSchema(parameters as z.core.JSONSchema.JSONSchema);
    } catch {
      v = null;
    }
    compiled.set(parameters, v);
  }
  return v;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.path.length ? i.path.map(String).join('.') : '(arguments)'}: ${i.message}`);
  if (issues.length > 5) shown.push(`and ${issues.length - 5} more`);
  return shown.join('; ');
}

/** Validates one call against the tools (undefined: no tools given, nothing to check). */
export function buildCall(
  c: RawCall,
  tools: ReadonlyMap<string, ToolDefinition> | undefined,
  validateArguments: boolean,
): ValidToolCall<string, unknown> | InvalidToolCall {
  const base = { id: c.id, index: c.index, name: c.name ?? '', rawArguments: c.raw };
  let args: unknown;
  if (c.complete) args = JSON.parse(c.raw);  // the scanner checked the syntax
  const invalid = (error: ToolCallError): InvalidToolCall => ({ ...base, arguments: args, error });
  if (c.problem) return invalid(c.problem);
  if (c.name === undefined) return invalid({ code: 'MALFORMED_CALL', message: 'the tool call has no "name" string' });
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    return invalid({ code: 'MALFORMED_CALL', message: `the "arguments" of ${JSON.stringify(c.name)} must be a JSON object` });
  }
  if (!tools) return { ...base, arguments: args };
  const tool = tools.get(c.name);
  if (!tool) {
    const known = [...tools.keys()].map((n) => JSON.stringify(n)).join(', ');
    return invalid({ code: 'UNKNOWN_TOOL', message: `unknown tool ${JSON.stringify(c.name)}; the tools are: ${known || '(none)'}` });
  }
  const schema = tool.schema ?? (validateArguments ? jsonSchemaValidator(tool.parameters) : null);
  if (!schema) return { ...base, arguments: args };
  let result: z.ZodSafeParseResult<unknown>;
  try {
    result = schema.safeParse(args);
  } catch (err) {
    return invalid({ code: 'INVALID_ARGUMENTS', message: `the arguments of ${JSON.stringify(c.name)} could not be checked: ${(err as Error).message}` });
  }
  if (!result.success) {
    return invalid({
      code: 'INVALID_ARGUMENTS',
      message: `the arguments of ${JSON.stringify(c.name)} do not match its schema: ${describeIssues(result.error.issues)}`,
      issues: result.error.issues,
    });
  }
  // zod tools give their output; JSON-Schema tools keep the arguments as written (no defaults added).
  return { ...base, arguments: tool.schema ? result.data : args };
}
