/**
 * Types of parsed tool calls, parse options and streaming events.
 */
import type { z } from 'zod';

import type { ToolArgs, ToolInput, ToolName } from '../tools/normalize.js';
import type { ToolDefinition } from '../tools/types.js';
import type { ToolCallFormat } from './openers.js';

export type { ToolCallFormat } from './openers.js';

/** Why a call is not usable. Stable codes. */
export type ToolCallErrorCode =
  /** The call names no tool in the list given. */
  | 'UNKNOWN_TOOL'
  /** The arguments do not match the tool's schema (zod, or the JSON Schema). `issues` says where. */
  | 'INVALID_ARGUMENTS'
  /** The call is not a well-formed `{"name": string, "arguments": object}`, or its JSON breaks off. */
  | 'MALFORMED_CALL'
  /** The output ended inside the call. */
  | 'INCOMPLETE_CALL';

/** What is wrong with a call; the message is meant to be shown to the model when re-asking. */
export interface ToolCallError {
  code: ToolCallErrorCode;
  message: string;
  /** The schema issues, for `INVALID_ARGUMENTS`. */
  issues?: readonly z.core.$ZodIssue[];
}

interface ToolCallBase {
  /** A fresh id, `call_{index}_{32 hex digits}` unless `generateId` is given. */
  id: string;
  /** Position of the call in the output, from 0. */
  index: number;
  /**
   * The arguments exactly as the model wrote them (the JSON text of the `arguments` value), so
   * number literals keep their form: `parseJson(rawArguments, { numbers: 'literal' })` tells `5`
   * from `5.0`. `'{}'` when the model wrote no `arguments`.
   */
  rawArguments: string;
}

/** A call that names a known tool with arguments that pass its schema. */
export interface ValidToolCall<Name extends string = string, Args = unknown> extends ToolCallBase {
  name: Name;
  /** The arguments: the zod schema's output for `tool()` tools, else the JSON object as written. */
  arguments: Args;
  error?: undefined;
}

/**
 * A call that failed: `error` says why. `name` is `''` when the model wrote none; `arguments` is
 * the JSON value as written when it was complete, else undefined.
 */
export interface InvalidToolCall extends ToolCallBase {
  name: string;
  arguments: unknown;
  error: ToolCallError;
}

/** The valid-call union of a tool list: one member per tool, discriminated by `name`. */
export type ValidToolCallOf<T extends readonly ToolInput[]> = T[number] extends infer U
  ? U extends unknown
    ? ValidToolCall<ToolName<U>, ToolArgs<U>>
    : never
  : never;

/**
 * A parsed call for the tool list `T`. Check `error` first; then `name` narrows `arguments`:
 * ```ts
 * for (const call of calls) {
 *   if (call.error) continue;            // or re-ask with call.error.message
 *   if (call.name === 'get_weather') call.arguments.city;  // typed by get_weather's zod schema
 * }
 * ```
 */
export type ToolCall<T extends readonly ToolInput[] = readonly ToolDefinition[]> = ValidToolCallOf<T> | InvalidToolCall;

/** What {@link parseToolCalls} returns. */
export interface ParseResult<T extends readonly ToolInput[] = readonly ToolDefinition[]> {
  /** The calls in output order, valid or not. */
  calls: ToolCall<T>[];
  /**
   * Everything outside the calls (an xLAM v1 `thought` included), trimmed at both ends. Text
   * around and between calls is kept as written.
   */
  text: string;
}

/** Options of {@link parseToolCalls} and {@link ToolCallStreamParser}. */
export interface ParseToolCallsOptions {
  /**
   * Which output conventions to accept. `'auto'`: all of them; `'xlam2'`: a list of calls, bare
   * (at the start or after `</think>`), in ```` ``` ````/```` ```json ```` fences, after
   * `[TOOL_CALLS]` or inside `<tool_call>…</tool_call>`, and single call objects; `'xlam1-fc'` and
   * `'xlam1-r'`: the v1 object `{"thought"?, "tool_calls"}` or a list, bare or fenced.
   * @example 'xlam2'
   * Defaults to `'auto'`.
   */
  format?: ToolCallFormat;
  /**
   * Check the arguments of tools given as JSON Schema against that schema (through zod's
   * `z.fromJSONSchema`, compiled once per schema object; a schema it cannot convert is not
   * checked). Tools made with zod are always parsed by their schema; names are always checked
   * when tools are given.
   * @example false
   * Defaults to `true`.
   */
  validateArguments?: boolean;
  /**
   * Makes the id of the call at `index`.
   * @example (index) => `call_${index}`
   * Defaults to `call_{index}_{32 random hex digits}` (vLLM's form).
   */
  generateId?: (index: number) => string;
}

/** Text outside tool calls, emitted as soon as it cannot be the start of a call. */
export interface TextEvent {
  type: 'text';
  delta: string;
}

/** A call began: its name is complete. */
export interface ToolCallStartEvent {
  type: 'tool_call_start';
  index: number;
  id: string;
  name: string;
}

/** More of a call's arguments text, as written; a call's deltas concatenate to its `rawArguments`. */
export interface ToolCallDeltaEvent {
  type: 'tool_call_delta';
  index: number;
  argumentsDelta: string;
}

/** A call is complete (or failed): the same call {@link parseToolCalls} returns. */
export interface ToolCallEndEvent<T extends readonly ToolInput[] = readonly ToolDefinition[]> {
  type: 'tool_call_end';
  index: number;
  call: ToolCall<T>;
}

/** An event of {@link ToolCallStreamParser}. */
export type ToolCallStreamEvent<T extends readonly ToolInput[] = readonly ToolDefinition[]> =
  | TextEvent
  | ToolCallStartEvent
  | ToolCallDeltaEvent
  | ToolCallEndEvent<T>;
