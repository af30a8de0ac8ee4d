/**
 * Where tool calls may start in a model's output, per format, and the matcher that decides —
 * looking at as few characters as possible — whether held-back text opens a tool-call block.
 *
 * A block is a JSON value, committed to once its first structure is seen:
 * - `[` ws `]` (an empty list: no calls), or `[` ws `{` ws `"name"` / `"arguments"` (a list of calls);
 * - `{` ws `"name"` / `"arguments"` (one call), or `{` ws `"tool_calls"` / `"thought"` (xLAM v1).
 * It may be wrapped: ```` ``` ```` or ```` ```json ```` fences, `[TOOL_CALLS]`, `<tool_call>…</tool_call>`;
 * unwrapped ("bare") only at the start of the output or right after `</think>`, whitespace aside.
 */
import { isJsonWs } from './json-scanner.js';

/** Which model output conventions {@link parseToolCalls} accepts. */
export type ToolCallFormat = 'auto' | 'xlam2' | 'xlam1-fc' | 'xlam1-r';

interface Wrapper {
  prefix: string;
  /** Text that may follow the prefix (```` ```json ````). */
  optional?: string;
  closer?: string;
}

/** The accepted openers and JSON shapes of one format. */
export interface FormatRules {
  wrappers: Wrapper[];
  /** JSON arrays of calls. */
  array: boolean;
  /** Keys that may open a top-level object block. */
  objectKeys: string[];
  /** First characters of the wrappers. */
  startChars: Set<string>;
}

const FENCE: Wrapper = { prefix: '```', optional: 'json', closer: '```' };
const TOOL_CALLS_TAG: Wrapper = { prefix: '[TOOL_CALLS]' };
const TOOL_CALL_TAG: Wrapper = { prefix: '<tool_call>', closer: '</tool_call>' };

/** Keys of a call object. */
export const CALL_KEYS = ['name', 'arguments'];
/** Keys of the xLAM v1 output object. */
export const V1_KEYS = ['tool_calls', 'thought'];

function rules(wrappers: Wrapper[], array: boolean, objectKeys: string[]): FormatRules {
  return { wrappers, array, objectKeys, startChars: new Set(wrappers.map((w) => w.prefix[0]!)) };
}

/**
 * - `auto` (default): everything below.
 * - `xlam2`: what vLLM's `xlam` parser accepts — a list of calls, bare or in any wrapper — plus a
 *   single call object.
 * - `xlam1-fc`, `xlam1-r`: the v1 object `{"tool_calls": [...]}` / `{"thought": ..., "tool_calls": [...]}`
 *   or a list of calls, bare or in a ```` ``` ```` fence (as the v1 format instruction shows it).
 */
export const FORMAT_RULES: Record<ToolCallFormat, FormatRules> = {
  auto: rules([FENCE, TOOL_CALLS_TAG, TOOL_CALL_TAG], true, [...CALL_KEYS, ...V1_KEYS]),
  xlam2: rules([FENCE, TOOL_CALLS_TAG, TOOL_CALL_TAG], true, CALL_KEYS),
  'xlam1-fc': rules([FENCE], true, V1_KEYS),
  'xlam1-r': rules([FENCE], true, V1_KEYS),
};

/** The matcher's verdict on held text. */
export type OpenerMatch =
  | { status: 'fail' }
  | { status: 'partial' }
  | { status: 'commit'; jsonStart: number; closer: string | undefined };

const FAIL: OpenerMatch = { status: 'fail' };
const PARTIAL: OpenerMatch = { status: 'partial' };

function skipWs(s: string, j: number): number {
  while (j < s.length && isJsonWs(s[j]!)) j++;
  return j;
}

/** `"key"` at `j` (after optional whitespace) with key among `keys`. */
function matchKey(s: string, j: number, keys: string[]): 'fail' | 'partial' | 'ok' {
  j = skipWs(s, j);
  if (j >= s.length) return 'partial';
  if (s[j] !== '"') return 'fail';
  const end = s.indexOf('"', j + 1);
  const key = s.slice(j + 1, end < 0 ? s.length : end);
  if (end < 0) return keys.some((k) => k.startsWith(key)) ? 'partial' : 'fail';
  return keys.includes(key) ? 'ok' : 'fail';
}

function matchJsonStart(s: string, j: number, r: FormatRules): 'fail' | 'partial' | 'ok' {
  if (j >= s.length) return 'partial';
  if (s[j] === '[' && r.array) {
    const k = skipWs(s, j + 1);
    if (k >= s.length) return 'partial';
    if (s[k] === ']') return 'ok';
    return s[k] === '{' ? matchKey(s, k + 1, CALL_KEYS) : 'fail';
  }
  if (s[j] === '{' && r.objectKeys.length > 0) return matchKey(s, j + 1, r.objectKeys);
  return 'fail';
}

/** True when `c` may begin a block opener (`bare`: at a place where bare JSON is accepted). */
export function mayOpen(c: string, r: FormatRules, bare: boolean): boolean {
  return r.startChars.has(c) || (bare && (c === '[' || c === '{'));
}

/**
 * Decides whether `s` (held text beginning at a possible opener) opens a block: `commit` with the
 * offset of the JSON value and the wrapper's closer, `partial` while more text is needed, or `fail`.
 */
export function matchOpener(s: string, r: FormatRules, bare: boolean): OpenerMatch {
  let best = FAIL;
  if (bare && (s[0] === '[' || s[0] === '{')) {
    const m = matchJsonStart(s, 0, r);
    if (m === 'ok') return { status: 'commit', jsonStart: 0, closer: undefined };
    if (m === 'partial') best = PARTIAL;
  }
  for (const w of r.wrappers) {
    if (s.length <= w.prefix.length) {
      if (w.prefix.startsWith(s)) best = PARTIAL;
      continue;
    }
    if (!s.startsWith(w.prefix)) continue;
    let j = w.prefix.length;
    if (w.optional) {
      if (s.startsWith(w.optional, j)) {
        j += w.optional.length;
      } else {
        const rest = s.slice(j);
        if (rest.length < w.optional.length && w.optional.startsWith(rest)) {
          best = PARTIAL;
          continue;
        }
      }
    }
    j = skipWs(s, j);
    const m = matchJsonStart(s, j, r);
    if (m === 'ok') return { status: 'commit', jsonStart: j, closer: w.closer };
    if (m === 'partial') best = PARTIAL;
  }
  return best;
}
