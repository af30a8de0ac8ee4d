/**
 * Request limits beyond types and ranges (shared/RELIABILITY.md §5.1): how much caller text a
 * request may carry, how many and how large its tools are, and that its strings are well-formed
 * Unicode. Checked before anything is rendered or tokenized, so an oversized or hostile request
 * costs a walk over its own values and nothing else. Each failure is an
 * XlamInvalidArgumentError (`INVALID_ARGUMENT`) whose `field` names the value.
 */
import { XlamInvalidArgumentError } from '../errors.js';
import type { ToolDefinition } from '../tools/types.js';

export const REQUEST_LIMITS = {
  /** Characters (UTF-16 units) of `prompt`, or of every string in `messages` and `tools` together (TGI's payload limit is 2 MB). */
  maxTextChars: 2_000_000,
  /** Tools per request. */
  maxTools: 128,
  /** Messages per request (each is rendered; 512 is 256 rounds of tool call and result). */
  maxMessages: 512,
  /** JSON nesting (objects and arrays) of one tool's parameter schema: 64 is ~32 levels of nested object schemas (`properties` and the schema are one level each). */
  maxSchemaDepth: 64,
  /** One tool's parameter schema as JSON, in characters. */
  maxSchemaChars: 262_144,
  /** Nesting of message and tool values (content parts, tool-call arguments, schemas as given). */
  maxValueDepth: 256,
  /** `stop` strings per request, and UTF-8 bytes of each. */
  maxStopStrings: 16,
  maxStopStringBytes: 256,
} as const;

/** `String.prototype.isWellFormed` (ES2024, in Node 20): false when the string holds a lone surrogate. */
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

function fail(field: string, message: string): never {
  throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `${field}: ${message}`, { field });
}

/** True for a zod schema (tool() parameters), which is walked as JSON Schema after normalizing. */
function isZod(v: object): boolean {
  return '_zod' in v || typeof (v as { safeParse?: unknown }).safeParse === 'function';
}

/**
 * Walks plain values (strings, arrays, objects), adding string and key lengths to `budget.used`;
 * fails on a lone surrogate, on nesting past `maxDepth`, and when the budget runs out.
 */
function walk(v: unknown, field: string, depth: number, maxDepth: number, budget: { used: number; field: string }): void {
  if (typeof v === 'string') {
    budget.used += v.length;
    if (budget.used > REQUEST_LIMITS.maxTextChars)
      fail(budget.field, `more than ${REQUEST_LIMITS.maxTextChars.toLocaleString('en-US')} characters of text in all`);
    if (!isWellFormed(v)) fail(field, 'a lone UTF-16 surrogate (not valid Unicode text)');
    return;
  }
  if (typeof v !== 'object' || v === null || isZod(v)) return;
  if (depth >= maxDepth) fail(field, `nested more than ${maxDepth} levels deep`);
  if (Array.isArray(v)) {
    v.forEach((x, i) => walk(x, `${field}[${i}]`, depth + 1, maxDepth, budget));
    return;
  }
  for (const [k, x] of Object.entries(v)) {
    walk(k, field, depth + 1, maxDepth, budget);
    walk(x, `${field}.${k}`, depth + 1, maxDepth, budget);
  }
}

/** The caller's text of a parsed request (prompt, messages, tools as given). */
export function checkRequestText(r: { prompt?: string; messages?: unknown[]; tools?: unknown[] }): void {
  const budget = { used: 0, field: 'request' };
  if (r.prompt !== undefined) walk(r.prompt, 'request.prompt', 0, 1, { used: 0, field: 'request.prompt' });
  if (r.messages !== undefined) walk(r.messages, 'request.messages', 0, REQUEST_LIMITS.maxValueDepth, budget);
  if (r.tools !== undefined) walk(r.tools, 'request.tools', 0, REQUEST_LIMITS.maxValueDepth, budget);
}

function schemaDepth(v: unknown, depth: number): number {
  if (typeof v !== 'object' || v === null || depth > REQUEST_LIMITS.maxSchemaDepth) return depth;
  let max = depth;
  for (const x of Array.isArray(v) ? v : Object.values(v)) max = Math.max(max, schemaDepth(x, depth + 1));
  return max;
}

/** Normalized tools: each parameter schema within the depth and size limits. */
export function checkToolSchemas(tools: readonly ToolDefinition[]): void {
  tools.forEach((t, i) => {
    const field = `request.tools[${i}].parameters`;
    if (schemaDepth(t.parameters, 0) > REQUEST_LIMITS.maxSchemaDepth)
      fail(field, `the schema nests more than ${REQUEST_LIMITS.maxSchemaDepth} levels deep`);
    if (JSON.stringify(t.parameters ?? {}).length > REQUEST_LIMITS.maxSchemaChars)
      fail(field, `the schema is larger than ${REQUEST_LIMITS.maxSchemaChars.toLocaleString('en-US')} characters of JSON`);
  });
}

/** UTF-8 length of a string. */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
