/**
 * Tool names. The rule is OpenAI's (`^[a-zA-Z0-9_-]{1,64}$`) with the dot added: BFCL function
 * names are dotted (`math.factorial`, `aws.lexv2_models.list_exports`) and the xLAM-2 models see
 * them unchanged in BFCL, so dotted names are kept as they are, never rewritten.
 */
import { XlamInvalidArgumentError } from '../errors.js';

/** The tool-name rule: 1 to 64 characters out of `A-Z a-z 0-9 _ . -`. */
export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_.-]{1,64}$/;

/** Throws {@link XlamInvalidArgumentError} (`INVALID_ARGUMENT`, naming `where`) unless `name` is a valid tool name. */
export function checkToolName(name: unknown, where: string): asserts name is string {
  const problem = toolNameProblem(name);
  if (problem) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `${where}: ${problem}`);
}

/** Why `name` is not a valid tool name, or undefined when it is. */
export function toolNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `a tool name must be a string, got ${name === null ? 'null' : typeof name}`;
  if (TOOL_NAME_PATTERN.test(name)) return undefined;
  if (name.length === 0) return 'a tool name must not be empty';
  if (name.length > 64) return `a tool name has at most 64 characters, got ${name.length}`;
  const bad = [...name].find((c) => !/[a-zA-Z0-9_.-]/.test(c));
  return `a tool name may only contain A-Z a-z 0-9 _ . - (got ${JSON.stringify(bad)} in ${JSON.stringify(name)})`;
}
