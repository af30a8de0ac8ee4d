/**
 * Validation of chat messages (the OpenAI chat-completions shape, {@link ChatMessage}) and their
 * preparation for a chat template.
 */
import { z } from 'zod';

import { XlamInvalidArgumentError } from '../errors.js';
import { pyJsonLoads, type PyData } from './jinja/python.js';
import type { ChatMessage } from './types.js';

const json = z.json();

/** One tool call in assistant history. Extra keys are allowed and passed on. */
export const ChatToolCallSchema = z.looseObject({
  id: z.string().optional(),
  type: z.literal('function').optional(),
  function: z.looseObject({
    name: z.string().min(1, 'a tool call needs a function name'),
    arguments: z.union([z.string(), z.record(z.string(), json)], {
      error: 'arguments must be a JSON string or an object',
    }),
  }),
});

const text = (role: string) => z.string({ error: `a ${role} message's content must be a string` });

/**
 * A chat message: `system`, `user`, `assistant` (content and/or `tool_calls`) or `tool` (a string
 * or any JSON value). Extra keys (`name`, `tool_call_id`, `reasoning_content`, …) are allowed:
 * templates receive messages as given.
 */
export const ChatMessageSchema = z.discriminatedUnion(
  'role',
  [
    z.looseObject({ role: z.literal('system'), content: text('system') }),
    z.looseObject({ role: z.literal('user'), content: text('user') }),
    z.looseObject({
      role: z.literal('assistant'),
      content: z.string({ error: "an assistant message's content must be a string or null" }).nullable().optional(),
      tool_calls: z.array(ChatToolCallSchema).optional(),
    }),
    z.looseObject({
      role: z.literal('tool'),
      content: z.union([z.string(), json], { error: 'a tool message needs content: a string or any JSON value' }),
      tool_call_id: z.string().optional(),
      name: z.string().optional(),
    }),
  ],
  { error: "role must be 'system', 'user', 'assistant' or 'tool'" },
);

export const ChatMessagesSchema = z.array(ChatMessageSchema).min(1, 'at least one message is required');

function describe(issues: z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const path = i.path.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : `${p}.${String(k)}`), 'messages');
      return `${path}: ${i.message}`;
    })
    .join('; ');
}

/**
 * Checks `messages` against {@link ChatMessagesSchema} and returns them unchanged (same objects,
 * key order and extra keys kept). Throws {@link XlamInvalidArgumentError} (`INVALID_ARGUMENT`)
 * naming each bad field, e.g. `messages[2].content: a user message's content must be a string`.
 */
export function validateMessages(messages: unknown): ChatMessage[] {
  const r = ChatMessagesSchema.safeParse(messages);
  if (!r.success) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `invalid messages: ${describe(r.error.issues)}`);
  return messages as ChatMessage[];
}

/** A JSON-like value as PyData: objects become `Map`s in their key order, undefined keys dropped. */
export function toPyData(v: unknown): PyData {
  if (v === null || typeof v !== 'object') return v as PyData;
  if (Array.isArray(v)) return v.map(toPyData);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [String(k), toPyData(x)]));
  const m = new Map<string, PyData>();
  for (const [k, x] of Object.entries(v)) if (x !== undefined) m.set(k, toPyData(x));
  return m;
}

/**
 * Messages as a chat template receives them: as given, except that each assistant
 * `tool_calls[].function.arguments` given as a JSON string is parsed to an object (with
 * Python's `json.loads`: key order kept, `1.0` stays a float), and empty or missing arguments
 * become `{}` — what vLLM does before applying a chat template
 * (vllm/entrypoints/chat_utils.py, `_postprocess_messages`). Unlike the newest vLLM, an empty
 * `tool_calls` list is kept, as transformers keeps it.
 */
export function prepareMessages(messages: readonly ChatMessage[]): PyData[] {
  return messages.map((message, i) => {
    const m = toPyData(message) as Map<string, PyData>;
    const calls = m.get('tool_calls');
    if (m.get('role') !== 'assistant' || !Array.isArray(calls)) return m;
    calls.forEach((call, j) => {
      const f = call instanceof Map ? call.get('function') : undefined;
      if (!(f instanceof Map)) return;
      const args = f.get('arguments');
      if (typeof args === 'string' && args !== '') {
        try {
          f.set('arguments', pyJsonLoads(args));
        } catch (err) {
          throw new XlamInvalidArgumentError(
            'INVALID_ARGUMENT',
            `messages[${i}].tool_calls[${j}].function.arguments is not valid JSON: ${(err as Error).message}`,
          );
        }
      } else if (args === '' || args === null || args === undefined || (args instanceof Map && args.size === 0)) {
        f.set('arguments', new Map());
      }
    });
    return m;
  });
}
