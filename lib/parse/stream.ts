/**
 * `ToolCallStreamParser`: reads a model's output as it streams and emits text and tool calls as
 * soon as each piece is certain. `parseToolCalls` is this parser fed the whole text at once, so
 * streaming and non-streaming results agree by construction.
 *
 * Text is scanned for openers (see ./openers.ts); only a possible opener prefix (`` ` ``, `[`,
 * `<tool`, `[TOOL`, ... and at the start of the output `[`/`{` up to the first key) and a run of
 * whitespace (the text is trimmed) are held back. Inside a block the structure is followed with a
 * small frame stack; each value is delimited by a {@link JsonScanner}; argument text is passed on
 * code unit by code unit (merged per `push`), never split inside a surrogate pair.
 */
import { randomUUID } from 'node:crypto';

import { z } from 'zod';

import { XlamInvalidArgumentError } from '../errors.js';
import { normalizeTools, type ToolInput } from '../tools/normalize.js';
import type { ToolDefinition } from '../tools/types.js';
import { parseArgument } from '../validate.js';
import { isJsonWs, JsonScanner, SCAN_DONE_BEFORE, SCAN_ERROR, SCAN_MORE } from './json-scanner.js';
import { FORMAT_RULES, matchOpener, mayOpen, type FormatRules } from './openers.js';
import type { ParseToolCallsOptions, ToolCall, ToolCallErrorCode, ToolCallStreamEvent } from './types.js';
import { buildCall } from './validate.js';

const OptionsSchema = z.strictObject({
  format: z.enum(['auto', 'xlam2', 'xlam1-fc', 'xlam1-r']).default('auto'),
  validateArguments: z.boolean().default(true),
  generateId: z.custom<(index: number) => string>((v) => typeof v === 'function', { error: 'expected a function (index) => string' }).optional(),
});

/** vLLM's id form: `call_{index}_{uuid4 hex}`. */
function defaultId(index: number): string {
  return `call_${index}_${randomUUID().replace(/-/g, '')}`;
}

const TEXT = 0;
const BLOCK = 1;
const CLOSER = 2;
const ENDED = 3;

// Frame states.
const A_FIRST = 0; // after '[': '{' or ']'
const A_ITEM = 1; // after ',': '{'
const A_AFTER = 2; // after an item: ',' or ']'
const O_FIRST = 0; // after '{': a key or '}'
const O_KEY = 1; // after ',': a key
const O_COLON = 2;
const O_VALUE = 3;
const O_AFTER = 4; // after a value: ',' or '}'

const THINK_END = '</think>';

interface OpenCall {
  index: number;
  id: string;
  name: string | undefined;
  nameSeen: boolean;
  started: boolean;
  raw: string;
  /** 0: no "arguments" yet, 1: scanning, 2: complete. */
  args: 0 | 1 | 2;
  problem: { code: ToolCallErrorCode; message: string } | undefined;
}

interface ArrayFrame {
  kind: 'calls';
  state: number;
}

interface ObjectFrame {
  kind: 'object';
  /** The block's top-level object (may hold `tool_calls`/`thought`, or be a call itself). */
  top: boolean;
  state: number;
  key: string;
  call: OpenCall | undefined;
}

type Role = 'key' | 'name' | 'args' | 'thought' | 'skip';

function isSpace(c: string): boolean {
  // The characters String.prototype.trim removes.
  return c <= ' ' ? c === ' ' || (c >= '\t' && c <= '\r') : c > '\x7f' && /\s/.test(c);
}

function isHighSurrogate(s: string): boolean {
  const code = s.charCodeAt(s.length - 1);
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * Streaming tool-call parser. Feed text deltas with {@link push}, finish with {@link end}; both
 * return the events now certain:
 * - `{type: 'text', delta}`: text outside calls (trimmed at both ends overall);
 * - `{type: 'tool_call_start', index, id, name}`: once the call's name is complete;
 * - `{type: 'tool_call_delta', index, argumentsDelta}`: argument text as written, as it arrives;
 * - `{type: 'tool_call_end', index, call}`: the finished call, validated (see {@link parseToolCalls}).
 * Every call gets exactly one start and one end, and its deltas concatenate to `call.rawArguments`.
 * Text deltas concatenate to `parseToolCalls(whole).text`, the end events' calls equal its calls.
 *
 * @example
 * ```ts
 * const parser = new ToolCallStreamParser([weather]);
 * for await (const delta of textStream) for (const e of parser.push(delta)) handle(e);
 * for (const e of parser.end()) handle(e);
 * ```
 * @throws {XlamInvalidArgumentError} `INVALID_ARGUMENT` for bad tools or options (constructor), or
 *   a push after end.
 */
export class ToolCallStreamParser<const T extends readonly ToolInput[] = readonly ToolDefinition[]> {
  private readonly tools: Map<string, ToolDefinition> | undefined;
  private readonly rules: FormatRules;
  private readonly validateArguments: boolean;
  private readonly makeId: (index: number) => string;

  private mode = TEXT;
  private events: ToolCallStreamEvent<T>[] = [];
  /** A high surrogate held back at the end of a push, and the event it belongs to (-1: text). */
  private carry: { index: number; ch: string } | undefined;

  // Text.
  private pending = '';
  private ws = '';
  private visible = false;
  private bare = true;
  private think = 0;

  // Block.
  private frames: Array<ArrayFrame | ObjectFrame> = [];
  private sub: JsonScanner | undefined;
  private subRole: Role = 'skip';
  private thoughtSent = 0;
  private readonly openCalls: OpenCall[] = [];
  private closer: string | undefined;
  private nextIndex = 0;

  /**
   * @param tools the tools calls may name, in any shape {@link normalizeTools} accepts; when
   *   given, names and arguments are checked. Omit to accept any name and JSON-object arguments.
   * @param options see {@link ParseToolCallsOptions}.
   */
  constructor(tools?: T, options: ParseToolCallsOptions = {}) {
    const o = parseArgument(OptionsSchema, options, 'options');
    if (tools !== undefined) this.tools = new Map(normalizeTools(tools as readonly ToolInput[]).map((t) => [t.name, t]));
    this.rules = FORMAT_RULES[o.format];
    this.validateArguments = o.validateArguments;
    this.makeId = o.generateId ?? defaultId;
  }

  /** Feeds the next piece of model output; returns the events it makes certain. */
  push(delta: string): ToolCallStreamEvent<T>[] {
    if (this.mode === ENDED) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', 'ToolCallStreamParser.push() after end()');
    if (typeof delta !== 'string') throw new XlamInvalidArgumentError('INVALID_ARGUMENT', 'ToolCallStreamParser.push(): expected a string');
    this.begin();
    for (let i = 0; i < delta.length; i++) this.step(delta[i]!);
    return this.finish(true);
  }

  /** Ends the output: flushes held text and finishes (as `INCOMPLETE_CALL`) a call left open. */
  end(): ToolCallStreamEvent<T>[] {
    if (this.mode === ENDED) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', 'ToolCallStreamParser.end() called twice');
    this.begin();
    for (;;) {
      if (this.mode === TEXT) {
        this.drain(true);
        if (this.mode === TEXT) break;
      } else if (this.mode === CLOSER) {
        const s = this.pending;
        this.pending = '';
        this.mode = TEXT;
        for (let i = 0; i < s.length; i++) this.step(s[i]!);
      } else {
        this.abortBlock('INCOMPLETE_CALL', 'the output ended inside the tool call');
      }
    }
    this.mode = ENDED;
    return this.finish(false);
  }

  private begin(): void {
    this.events = [];
    const carry = this.carry;
    this.carry = undefined;
    if (carry) {
      if (carry.index < 0) this.emitText(carry.ch);
      else this.emitDelta(carry.index, carry.ch);
    }
  }

  private finish(hold: boolean): ToolCallStreamEvent<T>[] {
    const last = this.events[this.events.length - 1];
    if (hold && last && (last.type === 'text' || last.type === 'tool_call_delta')) {
      const s = last.type === 'text' ? last.delta : last.argumentsDelta;
      if (isHighSurrogate(s)) {
        this.carry = { index: last.type === 'text' ? -1 : last.index, ch: s[s.length - 1]! };
        if (s.length === 1) this.events.pop();
        else if (last.type === 'text') last.delta = s.slice(0, -1);
        else last.argumentsDelta = s.slice(0, -1);
      }
    }
    const out = this.events;
    this.events = [];
    return out;
  }

  private step(c: string): void {
    if (this.mode === TEXT) {
      this.pending += c;
      this.drain(false);
    } else if (this.mode === BLOCK) {
      this.blockChar(c);
    } else {
      this.closerChar(c);
    }
  }

  // ---- events

  private emitText(s: string): void {
    const last = this.events[this.events.length - 1];
    if (last?.type === 'text') last.delta += s;
    else this.events.push({ type: 'text', delta: s });
  }

  private emitDelta(index: number, s: string): void {
    const last = this.events[this.events.length - 1];
    if (last?.type === 'tool_call_delta' && last.index === index) last.argumentsDelta += s;
    else this.events.push({ type: 'tool_call_delta', index, argumentsDelta: s });
  }

  /** A visible text character: whitespace waits for the next non-whitespace (the text is trimmed). */
  private visibleChar(c: string): void {
    if (isSpace(c)) {
      if (this.visible) this.ws += c;
      return;
    }
    this.emitText(this.ws + c);
    this.ws = '';
    this.visible = true;
    this.bare = false;
  }

  // ---- text

  /** Emits held text up to the first possible opener; commits to a block when one is certain. */
  private drain(final: boolean): void {
    while (this.pending.length > 0 && this.mode === TEXT) {
      const c = this.pending[0]!;
      if (mayOpen(c, this.rules, this.bare)) {
        const m = matchOpener(this.pending, this.rules, this.bare);
        if (m.status === 'partial' && !final) return;
        if (m.status === 'commit') {
          const rest = this.pending.slice(m.jsonStart);
          this.pending = '';
          this.mode = BLOCK;
          this.closer = m.closer;
          this.frames = [];
          for (let i = 0; i < rest.length; i++) this.step(rest[i]!);
          return;
        }
      }
      this.pending = this.pending.slice(1);
      this.textChar(c);
    }
  }

  private textChar(c: string): void {
    this.think = c === THINK_END[this.think] ? this.think + 1 : c === '<' ? 1 : 0;
    this.visibleChar(c);
    if (this.think === THINK_END.length) {
      this.think = 0;
      this.bare = true;
    }
  }

  private closerChar(c: string): void {
    this.pending += c;
    const s = this.pending;
    let j = 0;
    while (j < s.length && isJsonWs(s[j]!)) j++;
    const rest = s.slice(j);
    const closer = this.closer!;
    if (closer.startsWith(rest)) {
      if (rest.length === closer.length) {
        this.pending = '';
        this.mode = TEXT;
      }
      return;
    }
    // Not the closer: what was held is text.
    this.pending = '';
    this.mode = TEXT;
    for (let i = 0; i < s.length; i++) this.step(s[i]!);
  }

  // ---- block

  private blockChar(c: string): void {
    if (this.sub) {
      this.subChar(c);
      return;
    }
    const f = this.frames[this.frames.length - 1];
    if (!f) {
      // The block's first character; the opener matcher guarantees '[' or '{'.
      if (c === '[') this.frames.push({ kind: 'calls', state: A_FIRST });
      else this.frames.push({ kind: 'object', top: true, state: O_FIRST, key: '', call: undefined });
      return;
    }
    if (isJsonWs(c)) return;
    if (f.kind === 'calls') {
      if (f.state === A_AFTER) {
        if (c === ',') f.state = A_ITEM;
        else if (c === ']') this.popFrame();
        else this.blockError(c);
      } else if (c === '{') {
        f.state = A_AFTER;
        this.frames.push({ kind: 'object', top: false, state: O_FIRST, key: '', call: this.newCall() });
      } else if (c === ']' && f.state === A_FIRST) {
        this.popFrame();
      } else {
        this.blockError(c);
      }
      return;
    }
    switch (f.state) {
      case O_FIRST:
      case O_KEY:
        if (c === '"') this.startSub('key', c);
        else if (c === '}' && f.state === O_FIRST) this.popFrame();
        else this.blockError(c);
        return;
      case O_COLON:
        if (c === ':') f.state = O_VALUE;
        else this.blockError(c);
        return;
      case O_VALUE:
        this.startValue(f, c);
        return;
      default:
        if (c === ',') f.state = O_KEY;
        else if (c === '}') this.popFrame();
        else this.blockError(c);
    }
  }

  private startValue(f: ObjectFrame, c: string): void {
    const key = f.key;
    f.state = O_AFTER;
    const keys = this.rules.objectKeys;
    if (f.top && key === 'tool_calls' && keys.includes(key) && c === '[') {
      this.frames.push({ kind: 'calls', state: A_FIRST });
      return;
    }
    if (f.top && key === 'thought' && keys.includes(key) && c === '"') {
      this.thoughtSent = 0;
      this.startSub('thought', c);
      return;
    }
    if ((key === 'name' || key === 'arguments') && (!f.top || keys.includes(key))) {
      const call = (f.call ??= this.newCall());
      if (key === 'name') {
        if (call.nameSeen) {
          call.problem ??= { code: 'MALFORMED_CALL', message: 'the tool call has "name" twice' };
        } else {
          call.nameSeen = true;
          if (c === '"') return this.startSub('name', c);
          call.problem ??= { code: 'MALFORMED_CALL', message: 'the tool call\'s "name" must be a string' };
        }
      } else if (call.args !== 0) {
        call.problem ??= { code: 'MALFORMED_CALL', message: 'the tool call has "arguments" twice' };
      } else {
        call.args = 1;
        return this.startSub('args', c);
      }
    }
    this.startSub('skip', c);
  }

  private startSub(role: Role, c: string): void {
    this.sub = new JsonScanner(role === 'key' || role === 'name' || role === 'thought');
    this.subRole = role;
    this.subChar(c);
  }

  private subChar(c: string): void {
    const sub = this.sub!;
    const r = sub.feed(c);
    if (r === SCAN_ERROR) {
      this.sub = undefined;
      this.blockError(c);
      return;
    }
    const role = this.subRole;
    const f = this.frames[this.frames.length - 1] as ObjectFrame;
    if (role === 'args' && r !== SCAN_DONE_BEFORE) {
      const call = f.call!;
      call.raw += c;
      if (call.started) this.emitDelta(call.index, c);
    } else if (role === 'thought') {
      const d = sub.decoded;
      while (this.thoughtSent < d.length) this.visibleChar(d[this.thoughtSent++]!);
    }
    if (r === SCAN_MORE) return;
    this.sub = undefined;
    if (role === 'key') {
      f.key = sub.decoded;
      f.state = O_COLON;
    } else if (role === 'name') {
      f.call!.name = sub.decoded;
      this.startCall(f.call!);
    } else if (role === 'args') {
      f.call!.args = 2;
    }
    if (r === SCAN_DONE_BEFORE) this.blockChar(c);
  }

  private newCall(): OpenCall {
    const index = this.nextIndex++;
    const call: OpenCall = { index, id: this.makeId(index), name: undefined, nameSeen: false, started: false, raw: '', args: 0, problem: undefined };
    this.openCalls.push(call);
    return call;
  }

  private startCall(call: OpenCall): void {
    if (call.started) return;
    call.started = true;
    this.events.push({ type: 'tool_call_start', index: call.index, id: call.id, name: call.name ?? '' });
    if (call.raw) this.emitDelta(call.index, call.raw);
  }

  private finishCall(call: OpenCall, problem?: { code: ToolCallErrorCode; message: string }): void {
    if (problem) call.problem = problem;
    this.startCall(call);
    if (call.args === 0 && !call.problem) {
      call.raw = '{}';
      call.args = 2;
      this.emitDelta(call.index, '{}');
    }
    const built = buildCall(
      { index: call.index, id: call.id, name: call.name, raw: call.raw, complete: call.args === 2, problem: call.problem },
      this.tools,
      this.validateArguments,
    );
    this.events.push({ type: 'tool_call_end', index: call.index, call: built as ToolCall<T> });
    this.openCalls.splice(this.openCalls.indexOf(call), 1);
  }

  private popFrame(): void {
    const f = this.frames.pop()!;
    if (f.kind === 'object' && f.call) this.finishCall(f.call);
    if (this.frames.length > 0) return;
    // The block's JSON value is complete.
    this.mode = this.closer === undefined ? TEXT : CLOSER;
    this.pending = '';
    this.bare = false;
    this.think = 0;
  }

  private abortBlock(code: ToolCallErrorCode, message: string): void {
    while (this.openCalls.length > 0) this.finishCall(this.openCalls[this.openCalls.length - 1]!, { code, message });
    this.frames = [];
    this.sub = undefined;
    this.mode = TEXT;
    this.pending = '';
    this.bare = false;
    this.think = 0;
  }

  /** `c` cannot continue the block: open calls fail, and text resumes at `c`. */
  private blockError(c: string): void {
    this.abortBlock('MALFORMED_CALL', `malformed tool-call JSON: unexpected ${JSON.stringify(c)}`);
    this.step(c);
  }
}
