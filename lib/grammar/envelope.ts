/**
 * Tool-call grammars: the tools' argument schemas inside the model's output envelope.
 *
 * - `xlam2`: the bare array `[{"name": "<tool>", "arguments": {...}}, ...]`;
 * - `xlam1-fc`: `{"tool_calls": [...]}` with the same call objects;
 * - `xlam1-r`: `{"thought": "<string>", "tool_calls": [...]}`.
 *
 * Keys come in that order, as the formats write them; a call's `name` is one of the tools (its
 * exact JSON spelling) and its `arguments` match that tool's `parameters`. Whitespace is allowed
 * as in the schema grammars (after `{ [ , :` and before `} ]`), none before or after the whole.
 */
import { XlamInvalidArgumentError } from '../errors.js';
import type { ToolDefinition } from '../tools/types.js';
import { alt, lit, seq, star, type GbnfExpr, type GbnfGrammar } from './gbnf.js';
import { SchemaConverter, type SchemaGrammarOptions } from './schema.js';

/** The output envelopes {@link toolCallGrammar} knows. */
export type ToolCallGrammarFormat = 'xlam2' | 'xlam1-fc' | 'xlam1-r';

/** Which tools a constrained answer may call: `'required'` any of them (at least one call), `{ name }` only that one. */
export type GrammarToolChoice = 'required' | { name: string };

/** Options of {@link toolCallGrammar}. */
export interface ToolCallGrammarOptions extends SchemaGrammarOptions {
  /**
   * The output envelope.
   * @example 'xlam1-r'
   * Defaults to `'xlam2'`.
   */
  format?: ToolCallGrammarFormat;
  /**
   * `'required'`: one or more calls, each to any of the tools; `{ name }`: one or more calls, all
   * to that tool.
   * @example { name: 'get_weather' }
   * Defaults to `'required'`.
   */
  toolChoice?: GrammarToolChoice;
}

const FORMATS: readonly ToolCallGrammarFormat[] = ['xlam2', 'xlam1-fc', 'xlam1-r'];

function invalid(message: string): never {
  throw new XlamInvalidArgumentError('INVALID_ARGUMENT', message);
}

function chosenTools(tools: readonly ToolDefinition[], choice: unknown): readonly ToolDefinition[] {
  if (choice === 'required') {
    if (tools.length === 0) invalid('toolChoice "required" needs at least one tool');
    return tools;
  }
  if (typeof choice === 'object' && choice !== null && typeof (choice as { name?: unknown }).name === 'string') {
    const name = (choice as { name: string }).name;
    const tool = tools.find((t) => t.name === name);
    if (!tool) invalid(`toolChoice: no tool named ${JSON.stringify(name)}; the tools are: ${tools.map((t) => JSON.stringify(t.name)).join(', ') || '(none)'}`);
    return [tool];
  }
  return invalid(`toolChoice: expected "required" or { name }, got ${JSON.stringify(choice)}`);
}

/**
 * The grammar of a model answer that calls the tools, in the format's envelope.
 *
 * @param tools The tools, as {@link normalizeTools} (or `bfclToTools`) returns them.
 * @example
 * ```ts
 * const tools = normalizeTools([weatherTool]);
 * const g = toolCallGrammar(tools, { format: 'xlam2', toolChoice: 'required' });
 * matches(g, '[{"name": "get_weather", "arguments": {"city": "Paris"}}]');  // true
 * ```
 * @throws {XlamInvalidArgumentError} `INVALID_ARGUMENT` for an unknown format or tool choice, no
 *   tools under `'required'`, a `{ name }` that is not among the tools, or a schema the converter
 *   rejects (see {@link jsonSchemaToGrammar}).
 */
export function toolCallGrammar(tools: readonly ToolDefinition[], options: ToolCallGrammarOptions = {}): GbnfGrammar {
  const format = options.format ?? 'xlam2';
  if (!FORMATS.includes(format)) invalid(`format: expected one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  if (!Array.isArray(tools)) invalid('tools: expected an array of tools (see normalizeTools)');
  const chosen = chosenTools(tools, options.toolChoice ?? 'required');
  const conv = new SchemaConverter(options);
  const { rules, json } = conv;
  const ws = json.ws();
  const key = (name: string) => seq(lit(JSON.stringify(name)), lit(':'), ws);
  const calls: GbnfExpr[] = chosen.map((tool) => {
    const args = conv.convert(tool.parameters, tool.parameters, `${tool.name}-arguments`);
    return rules.add(`call-${tool.name}`, seq(key('name'), lit(JSON.stringify(tool.name)), lit(','), ws, key('arguments'), args));
  });
  const call = rules.add('call', seq(lit('{'), ws, alt(...calls), ws, lit('}')));
  const list = rules.add('calls', seq(lit('['), ws, call, star(seq(lit(','), ws, call)), ws, lit(']')));
  let root: GbnfExpr = list;
  if (format === 'xlam1-fc') root = seq(lit('{'), ws, key('tool_calls'), list, ws, lit('}'));
  if (format === 'xlam1-r') root = seq(lit('{'), ws, key('thought'), json.string(), lit(','), ws, key('tool_calls'), list, ws, lit('}'));
  return rules.grammar(root);
}
