/**
 * Tool-call grammars: the tools' argument schemas inside the model's output envelope.
 *
 * - `xlam2`: the bare array `[{"name": "<tool>", "arguments": {...}}, ...]`, or (tool choice
 *   `'auto'` / `'none'`) plain text;
 * - `xlam1-fc`: `{"tool_calls": [...]}` with the same call objects;
 * - `xlam1-r`: `{"thought": "<string>", "tool_calls": [...]}`.
 *
 * Keys come in that order, as the formats write them; a call's `name` is one of the tools (its
 * exact JSON spelling) and its `arguments` match that tool's `parameters`. Whitespace is allowed
 * as in the schema grammars (after `{ [ , :` and before `} ]`, and before the whole: nothing, a
 * space, or a newline and an indent — SentencePiece models begin their answer with a `▁` token,
 * a space), none after the whole.
 *
 * Tool choices:
 * - `'required'`: one or more calls, each to any of the tools;
 * - `{ name }`: one or more calls, all to that tool;
 * - `'auto'`: the model decides. xLAM-2: a call list as above, or plain text — text that the
 *   tool-call parser reads as text only (it opens no call block: no fenced or tagged call list,
 *   no `{"name"` at the start) and that does not begin with `[` (whitespace aside): an answer
 *   that begins like a call is a valid call list. v1: the JSON object, with `"tool_calls": []`
 *   allowed;
 * - `'none'`: no call. xLAM-2: plain text as under `'auto'`; v1: the JSON object with
 *   `"tool_calls": []` (any `thought`).
 */
import { XlamInvalidArgumentError } from '../errors.js';
import type { ToolDefinition } from '../tools/types.js';
import { alt, lit, opt, seq, star, type GbnfExpr, type GbnfGrammar } from './gbnf.js';
import { plainTextRule } from './plain-text.js';
import { SchemaConverter, type SchemaGrammarOptions } from './schema.js';

/** The output envelopes {@link toolCallGrammar} knows. */
export type ToolCallGrammarFormat = 'xlam2' | 'xlam1-fc' | 'xlam1-r';

/**
 * Which answers a constrained model may give: `'required'` one or more calls to any of the tools,
 * `{ name }` one or more calls to that tool only, `'auto'` calls or none (xLAM-2: plain text;
 * v1: an empty `tool_calls` list), `'none'` no call.
 */
export type GrammarToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** Options of {@link toolCallGrammar}. */
export interface ToolCallGrammarOptions extends SchemaGrammarOptions {
  /**
   * The output envelope: `'xlam2'` (a bare call list, or plain text), `'xlam1-fc'`
   * (`{"tool_calls": [...]}`) or `'xlam1-r'` (`{"thought": "...", "tool_calls": [...]}`).
   * @example 'xlam1-r'
   * @defaultValue `'xlam2'`
   */
  format?: ToolCallGrammarFormat;
  /**
   * Which answers are allowed (see {@link GrammarToolChoice}): `'required'` one or more calls,
   * each to any of the tools; `{ name }` one or more calls, all to that tool; `'auto'` calls or
   * none; `'none'` no call.
   * @example { name: 'get_weather' }
   * @defaultValue `'required'`
   */
  toolChoice?: GrammarToolChoice;
}

const FORMATS: readonly ToolCallGrammarFormat[] = ['xlam2', 'xlam1-fc', 'xlam1-r'];

function invalid(message: string): never {
  throw new XlamInvalidArgumentError('INVALID_ARGUMENT', message);
}

/** The tools calls may name under `choice` (none for `'none'`). */
function chosenTools(tools: readonly ToolDefinition[], choice: unknown): readonly ToolDefinition[] {
  if (choice === 'required') {
    if (tools.length === 0) invalid('toolChoice "required" needs at least one tool');
    return tools;
  }
  if (choice === 'auto') return tools;
  if (choice === 'none') return [];
  if (typeof choice === 'object' && choice !== null && typeof (choice as { name?: unknown }).name === 'string') {
    const name = (choice as { name: string }).name;
    const tool = tools.find((t) => t.name === name);
    if (!tool) invalid(`toolChoice: no tool named ${JSON.stringify(name)}; the tools are: ${tools.map((t) => JSON.stringify(t.name)).join(', ') || '(none)'}`);
    return [tool];
  }
  return invalid(`toolChoice: expected "auto", "none", "required" or { name }, got ${JSON.stringify(choice)}`);
}

/**
 * The grammar of a model answer under a tool choice, in the format's envelope.
 *
 * @param tools The tools, as {@link normalizeTools} (or `bfclToTools`) returns them.
 * @example
 * ```ts
 * const tools = normalizeTools([weatherTool]);
 * const g = toolCallGrammar(tools, { format: 'xlam2', toolChoice: 'required' });
 * matches(g, '[{"name": "get_weather", "arguments": {"city": "Paris"}}]');  // true
 * const auto = toolCallGrammar(tools, { format: 'xlam2', toolChoice: 'auto' });
 * matches(auto, 'It is sunny in Paris.');  // true
 * matches(auto, '[{"name": "get_time"');   // false, from the `g` of "get_time"
 * ```
 * @throws {XlamInvalidArgumentError} `INVALID_ARGUMENT` for an unknown format or tool choice, no
 *   tools under `'required'`, a `{ name }` that is not among the tools, or a schema the converter
 *   rejects (see {@link jsonSchemaToGrammar}).
 */
export function toolCallGrammar(tools: readonly ToolDefinition[], options: ToolCallGrammarOptions = {}): GbnfGrammar {
  const format = options.format ?? 'xlam2';
  if (!FORMATS.includes(format)) invalid(`format: expected one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  if (!Array.isArray(tools)) invalid('tools: expected an array of tools (see normalizeTools)');
  const choice = options.toolChoice ?? 'required';
  const chosen = chosenTools(tools, choice);
  // Calls are optional under 'auto' (and there are none under 'none', or 'auto' without tools).
  const mayCall = chosen.length > 0;
  const mustCall = choice !== 'auto' && choice !== 'none';
  const conv = new SchemaConverter(options);
  const { rules, json } = conv;
  const ws = json.ws();
  const key = (name: string) => seq(lit(JSON.stringify(name)), lit(':'), ws);
  let list: GbnfExpr = seq(lit('['), ws, lit(']'));
  if (mayCall) {
    const calls: GbnfExpr[] = chosen.map((tool) => {
      const args = conv.convert(tool.parameters, tool.parameters, `${tool.name}-arguments`);
      return rules.add(`call-${tool.name}`, seq(key('name'), lit(JSON.stringify(tool.name)), lit(','), ws, key('arguments'), args));
    });
    const call = rules.add('call', seq(lit('{'), ws, alt(...calls), ws, lit('}')));
    const items = seq(call, star(seq(lit(','), ws, call)), ws);
    list = rules.add('calls', seq(lit('['), ws, mustCall || format === 'xlam2' ? items : opt(items), lit(']')));
  }
  let root: GbnfExpr;
  if (format === 'xlam2') {
    if (mustCall) root = seq(ws, list);
    else {
      const text = plainTextRule(rules, 'xlam2');
      root = mayCall ? alt(seq(ws, list), text) : text;
    }
  } else if (format === 'xlam1-fc') {
    root = seq(ws, lit('{'), ws, key('tool_calls'), list, ws, lit('}'));
  } else {
    root = seq(ws, lit('{'), ws, key('thought'), json.string(), lit(','), ws, key('tool_calls'), list, ws, lit('}'));
  }
  return rules.grammar(root);
}
