/**
 * The events of `engine.stream`: text deltas, with tools the streaming tool-call events of the
 * prompting layer, and a final `done`.
 */
import type { ToolCallStreamEvent } from '../parse/types.js';
import type { FinishReason, Usage } from './request.js';

/**
 * One event of {@link Engine.stream}, told apart by `type`:
 * - `'text'`: more output text (`delta`), never splitting a character. Without tools the deltas
 *   concatenate to the whole output text; with tools they carry the text outside tool calls, as
 *   soon as it cannot be the start of a call.
 * - `'tool_call_start'` (`index`, `id`, `name`), `'tool_call_delta'` (`index`, `argumentsDelta`:
 *   the arguments' JSON text as written) and `'tool_call_end'` (`index`, `call`: the parsed,
 *   validated call as {@link parseToolCalls} returns it): only with `tools`.
 * - `'done'`: the last event, with the `finishReason` and the token `usage`.
 *
 * An abort or an error is thrown from the iterator instead of arriving as an event.
 * @example
 * ```ts
 * for await (const ev of engine.stream({ messages, tools: [weather] })) {
 *   if (ev.type === 'text') process.stdout.write(ev.delta);
 *   else if (ev.type === 'tool_call_end' && !ev.call.error) run(ev.call.name, ev.call.arguments);
 *   else if (ev.type === 'done') console.log(ev.finishReason, ev.usage);
 * }
 * ```
 */
export type StreamEvent =
  | { type: 'text'; delta: string }
  | Exclude<ToolCallStreamEvent, { type: 'text' }>
  | { type: 'done'; finishReason: FinishReason; usage: Usage };
