import { readFile } from 'node:fs/promises';

import { XlamInvalidArgumentError } from '../errors.js';

// Shared pieces of the `xlam` subcommands.

/** A command-line mistake: printed with the usage text, exit code 2. */
export class UsageError extends Error {}

/** A non-negative integer flag, or the fallback when absent. */
export function intFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer`);
  return Number(value);
}

/** A required string flag. */
export function required(value: string | undefined, name: string, what: string): string {
  if (!value) throw new UsageError(`--${name} ${what} is required`);
  return value;
}

/** One subcommand: its usage line(s) and its runner (argv after the command name). */
export interface Command {
  usage: string;
  run(args: string[]): Promise<void>;
}

export async function readJsonFile(file: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `--${flag} ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `--${flag} ${file}: not JSON: ${(err as Error).message}`);
  }
}

/**
 * A conversation from files: `--messages` holds an array of OpenAI-style messages or a
 * chat-completions request body (`messages`, and `tools` unless a tools file is given); the
 * tools file an array of OpenAI-shaped or bare tools.
 */
export async function readConversation(
  messagesFile: string,
  toolsFile: string | undefined,
): Promise<{ messages: unknown; rawTools: unknown[] | undefined }> {
  let messages = await readJsonFile(messagesFile, 'messages');
  let rawTools: unknown;
  if (messages && typeof messages === 'object' && !Array.isArray(messages) && 'messages' in messages) {
    rawTools = (messages as { tools?: unknown }).tools ?? undefined;
    messages = (messages as { messages: unknown }).messages;
  }
  if (toolsFile !== undefined) rawTools = await readJsonFile(toolsFile, 'tools');
  if (rawTools === undefined || rawTools === null) return { messages, rawTools: undefined };
  if (!Array.isArray(rawTools)) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', 'tools: expected a JSON array of tools');
  return { messages, rawTools };
}
