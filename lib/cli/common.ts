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

/** One subcommand: its usage line(s), its `--help` text and its runner (argv after the command name). */
export interface Command {
  usage: string;
  /** What the command does, each flag with its default, and an example (see {@link helpText}). */
  help: string;
  run(args: string[]): Promise<void>;
}

/** One flag's help: the flag as written in the usage, and what it does (with its default). */
export type FlagHelp = readonly [flag: string, text: string];

export const MODEL_FLAG: FlagHelp = ['--model DIR', 'the model folder (config.json, *.safetensors, tokenizer files); required'];

/** A command's `--help` text: what it does, each flag with its text beside it, and an example. */
export function helpText(what: string, flags: readonly FlagHelp[], example: string): string {
  const indent = Math.max(...flags.map(([f]) => f.length)) + 4;
  const lines = flags.map(([f, text]) => `  ${f.padEnd(indent - 2)}${wrap(text, COLUMNS - indent).join('\n' + ' '.repeat(indent))}`);
  return [...wrap(what, COLUMNS), '', ...lines, '', 'example:', `  ${example}`].join('\n');
}

const COLUMNS = 100;

/** Words of text in lines of at most `width` characters (a longer word gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...out, line];
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

/** The help of the `--messages` and `--tools` files that {@link readConversation} reads. */
export const MESSAGES_HELP =
  'JSON file: an array of OpenAI-style messages, or a chat-completions request body with messages and tools';
export const TOOLS_HELP = 'JSON file: an array of tools (OpenAI-shaped or bare); replaces the tools of a --messages body';

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
