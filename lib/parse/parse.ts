/**
 * `parseToolCalls`: the tool calls and the text in a complete model output.
 */
import type { ToolInput } from '../tools/normalize.js';
import type { ToolDefinition } from '../tools/types.js';
import { ToolCallStreamParser } from './stream.js';
import type { ParseResult, ParseToolCallsOptions, ToolCall } from './types.js';

/**
 * Parses a model's complete output into tool calls and text. Accepted (format `'auto'`): a JSON
 * list of `{"name", "arguments"}` calls — bare at the start of the output or after `</think>`, in
 * ```` ``` ````/```` ```json ```` fences, after `[TOOL_CALLS]`, or in `<tool_call>…</tool_call>` — a
 * single call object in the same places, and the xLAM v1 objects `{"tool_calls": [...]}` and
 * `{"thought": "...", "tool_calls": [...]}` (the thought becomes text). This is the union of what
 * vLLM's `xlam` parser accepts and the v1 formats; text before a bare list stays text, as in vLLM.
 *
 * With `tools`, each call is checked: its name must be one of them, and its arguments are parsed
 * by the tool's zod schema (so `arguments` is typed by `name`) or checked against its JSON Schema.
 * A call that fails is returned with `error` set, never thrown, so the caller can re-ask.
 *
 * Broken output: a block is committed to once its first key is read (`[{"name"`, `{"tool_calls"`,
 * ...); if its JSON then breaks, the call open at that point ends with `MALFORMED_CALL` (calls
 * already closed stay valid) and text resumes at the offending character; if the output ends
 * inside a call, it ends with `INCOMPLETE_CALL`. A wrapper's closer (```` ``` ````,
 * `</tool_call>`) that never comes is not an error. Results equal what {@link ToolCallStreamParser}
 * gives for the same text in any chunking.
 *
 * @example
 * ```ts
 * const { calls, text } = parseToolCalls(output, [weather]);
 * for (const call of calls) {
 *   if (call.error) console.log(call.error.code, call.error.message);
 *   else if (call.name === 'get_weather') console.log(call.arguments.city);
 * }
 * ```
 * @throws {XlamInvalidArgumentError} `INVALID_ARGUMENT` for bad tools or options (never for the text).
 */
export function parseToolCalls<const T extends readonly ToolInput[] = readonly ToolDefinition[]>(
  text: string,
  tools?: T,
  options: ParseToolCallsOptions = {},
): ParseResult<T> {
  const parser = new ToolCallStreamParser<T>(tools, options);
  const calls: ToolCall<T>[] = [];
  let out = '';
  for (const e of [...parser.push(text), ...parser.end()]) {
    if (e.type === 'text') out += e.delta;
    else if (e.type === 'tool_call_end') calls.push(e.call);
  }
  return { calls, text: out };
}
