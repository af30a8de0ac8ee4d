/**
 * Normalised tools ({@link ToolDefinition}) in the two shapes prompts need: the OpenAI tool a
 * chat template receives, and the compact "xLAM format" of the v1 prompts.
 */
import { XlamInvalidArgumentError } from '../../errors.js';
import type { ToolDefinition } from '../../tools/types.js';
import type { PyData } from '../jinja/python.js';
import { toPyData } from '../messages.js';

/** Checks that `tools` is an array of normalised tools (name and object parameters). */
export function checkToolDefinitions(tools: unknown): readonly ToolDefinition[] {
  if (!Array.isArray(tools)) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', 'tools must be an array');
  tools.forEach((t: unknown, i) => {
    const d = t as Partial<ToolDefinition> | null;
    if (!d || typeof d !== 'object' || typeof d.name !== 'string' || !d.name) {
      throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `tools[${i}]: a normalised tool needs a name (use normalizeTools)`);
    }
    if (!d.parameters || typeof d.parameters !== 'object' || Array.isArray(d.parameters)) {
      throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `tools[${i}] (${d.name}): parameters must be a JSON Schema object`);
    }
    if (d.description !== undefined && typeof d.description !== 'string') {
      throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `tools[${i}] (${d.name}): description must be a string`);
    }
  });
  return tools as readonly ToolDefinition[];
}

/**
 * The tool as transformers hands it to a chat template: the OpenAI dict
 * `{"type": "function", "function": {"name", "description", "parameters"}}` (no `description`
 * key when the tool has none).
 */
export function toTemplateTool(tool: ToolDefinition): PyData {
  const f = new Map<string, PyData>([['name', tool.name]]);
  if (tool.description !== undefined) f.set('description', tool.description);
  f.set('parameters', toPyData(tool.parameters));
  return new Map<string, PyData>([['type', 'function'], ['function', f]]);
}

/**
 * The "xLAM format" of the v1 prompts: `{"name", "description", "parameters": <the properties
 * map>}` — the `type: object` wrapper and `required` dropped, as `convert_to_xlam_tool` in the
 * model cards and in SalesforceAIResearch/xLAM xLAM/client/xLAM.py does. A tool without a
 * description gets `""` (the published converter would raise KeyError).
 */
export function toXlamTool(tool: ToolDefinition): PyData {
  const props = (tool.parameters as { properties?: unknown }).properties;
  return new Map<string, PyData>([
    ['name', tool.name],
    ['description', tool.description ?? ''],
    ['parameters', props && typeof props === 'object' ? toPyData(props) : new Map()],
  ]);
}
