/**
 * The events of `engine.stream`: text deltas, with tools the streaming tool-call events of the
 * prompting layer, and a final `done`.
 */
import type { ToolCallStreamEvent } from '../parse/types.js';
import type { FinishReason, Usage } from './request.js';

export type StreamEvent =
  | { type: 'text'; delta: string }
  | Exclude<ToolCallStreamEvent, { type: 'text' }>
  | { type: 'done'; finishReason: FinishReason; usage: Usage };
