/**
 * Chat messages as callers give them: the OpenAI chat-completions shape.
 */

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A tool call in assistant history; `arguments` as a JSON string (OpenAI) or an object. */
export interface ChatToolCall {
  id?: string;
  type?: 'function';
  function: { name: string; arguments: string | { [key: string]: JsonValue } };
}

export interface SystemMessage {
  role: 'system';
  content: string;
}

export interface UserMessage {
  role: 'user';
  content: string;
}

export interface AssistantMessage {
  role: 'assistant';
  content?: string | null;
  tool_calls?: ChatToolCall[];
}

/** A tool result: a string, or any JSON value (rendered as JSON). */
export interface ToolMessage {
  role: 'tool';
  content: string | JsonValue;
  tool_call_id?: string;
  name?: string;
}

export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;
