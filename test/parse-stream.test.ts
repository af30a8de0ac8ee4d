// The streaming parser: for 1,000 random chunkings of every sample output (1-character chunks,
// chunks that split surrogate pairs, long chunks), the events reassemble to parseToolCalls'
// result; every call gets one start and one end, its deltas concatenate to its rawArguments; and
// pieces come out as soon as they are certain.
import t from 'tap';

import { parseToolCalls, ToolCallStreamParser, type ToolCallStreamEvent } from '../dist/lib/index.js';
import { samples, tools } from './helpers/tool-samples.js';
import { prng } from './helpers/prng.js';

/** Cuts `text` into chunks at UTF-16 code-unit positions (so surrogate pairs get split too). */
function chunk(text: string, rnd: () => number, round: number): string[] {
  if (round === 0) return [...text.split('')];  // every code unit alone
  if (round === 1) return [text];
  const out: string[] = [];
  const maxLen = round % 3 === 0 ? 3 : round % 3 === 1 ? 12 : 60;
  for (let i = 0; i < text.length; ) {
    const n = 1 + Math.floor(rnd() * maxLen);
    out.push(text.slice(i, i + n));
    i += n;
  }
  if (rnd() < 0.2) out.splice(Math.floor(rnd() * (out.length + 1)), 0, '');  // an empty push now and then
  return out;
}

const ids = { generateId: (i: number) => `id${i}` };

interface Reassembled {
  text: string;
  calls: unknown[];
  problems: string[];
}

function reassemble(events: ToolCallStreamEvent<typeof tools>[]): Reassembled {
  const problems: string[] = [];
  let text = '';
  const calls: unknown[] = [];
  const open = new Map<number, { id: string; name: string; args: string }>();
  let ended = new Set<number>();
  for (const e of events) {
    switch (e.type) {
      case 'text':
        if (e.delta === '') problems.push('empty text delta');
        text += e.delta;
        break;
      case 'tool_call_start':
        if (open.has(e.index) || ended.has(e.index)) problems.push(`second start of ${e.index}`);
        open.set(e.index, { id: e.id, name: e.name, args: '' });
        break;
      case 'tool_call_delta': {
        const c = open.get(e.index);
        if (!c) problems.push(`delta of ${e.index} outside start/end`);
        else c.args += e.argumentsDelta;
        if (e.argumentsDelta === '') problems.push('empty arguments delta');
        break;
      }
      case 'tool_call_end': {
        const c = open.get(e.index);
        if (!c) {
          problems.push(`end of ${e.index} without start`);
          break;
        }
        if (c.id !== e.call.id) problems.push(`id of ${e.index}: ${c.id} at start, ${e.call.id} at end`);
        if (c.name !== e.call.name) problems.push(`name of ${e.index}: ${c.name} at start, ${e.call.name} at end`);
        if (c.args !== e.call.rawArguments) problems.push(`deltas of ${e.index} give ${JSON.stringify(c.args)}, rawArguments ${JSON.stringify(e.call.rawArguments)}`);
        if (e.call.index !== e.index) problems.push(`index of ${e.index}`);
        open.delete(e.index);
        ended.add(e.index);
        calls.push(e.call);
        break;
      }
    }
  }
  if (open.size) problems.push(`calls never ended: ${[...open.keys()]}`);
  ended = new Set();
  return { text, calls, problems };
}

function stream(pieces: string[]): { events: ToolCallStreamEvent<typeof tools>[]; splitPairs: number } {
  const parser = new ToolCallStreamParser(tools, ids);
  const events: ToolCallStreamEvent<typeof tools>[] = [];
  let splitPairs = 0;
  for (const p of pieces) {
    const out = parser.push(p);
    // No delta returned by push ends inside a surrogate pair.
    for (const e of out) {
      const s = e.type === 'text' ? e.delta : e.type === 'tool_call_delta' ? e.argumentsDelta : '';
      const last = s.charCodeAt(s.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) splitPairs++;
    }
    events.push(...out);
  }
  events.push(...parser.end());
  return { events, splitPairs };
}

t.test('1,000 random chunkings of every sample reassemble to the non-streaming result', async (t) => {
  const rnd = prng(20240917);
  for (const [name, text] of Object.entries(samples)) {
    const want = parseToolCalls(text, tools, ids);
    const whole = reassemble(stream([text]).events);
    t.same(whole.problems, [], `${name}: one chunk, event invariants`);
    let failures = 0;
    let firstFailure = '';
    for (let round = 0; round < 1000; round++) {
      const pieces = chunk(text, rnd, round);
      const { events, splitPairs } = stream(pieces);
      const got = reassemble(events);
      const ok = got.problems.length === 0 && got.text === want.text && JSON.stringify(got.calls) === JSON.stringify(want.calls) && splitPairs === 0;
      if (!ok && failures++ === 0) {
        firstFailure = `round ${round}, chunks ${JSON.stringify(pieces).slice(0, 300)}: ${JSON.stringify({ problems: got.problems, text: got.text, splitPairs })}`;
        t.same(got.calls, want.calls, `${name}: calls`);
        t.equal(got.text, want.text, `${name}: text`);
      }
    }
    t.equal(failures, 0, `${name}: all 1,000 chunkings agree${firstFailure ? ` (first failure: ${firstFailure})` : ''}`);
  }
});

t.test('the whole-text events equal parseToolCalls (calls and text)', async (t) => {
  for (const [name, text] of Object.entries(samples)) {
    const want = parseToolCalls(text, tools, ids);
    const got = reassemble(stream([text]).events);
    t.same(got.calls, want.calls, name);
    t.equal(got.text, want.text, name);
  }
});

/** Feeds `pieces` and returns the events of each push (the last entry: end()). */
function perPush(pieces: string[], format?: 'auto' | 'xlam2'): ToolCallStreamEvent<typeof tools>[][] {
  const parser = new ToolCallStreamParser(tools, { ...ids, ...(format ? { format } : {}) });
  return [...pieces.map((p) => parser.push(p)), parser.end()];
}

t.test('text outside calls passes through at once; only possible openers are held', async (t) => {
  t.same(perPush(['Hello', ' world', '!']), [[{ type: 'text', delta: 'Hello' }], [{ type: 'text', delta: ' world' }], [{ type: 'text', delta: '!' }], []]);
  t.same(perPush(['Hello', ' \n', 'world']), [[{ type: 'text', delta: 'Hello' }], [], [{ type: 'text', delta: ' \nworld' }], []], 'whitespace waits for the next word (the text is trimmed)');
  t.same(perPush(['Use [', 'x]'])[0], [{ type: 'text', delta: 'Use' }], '"[" may start [TOOL_CALLS]');
  t.same(perPush(['Use [', 'x]'])[1], [{ type: 'text', delta: ' [x]' }]);
  t.same(perPush(['a <tool', '_cal', 'x'])[2], [{ type: 'text', delta: ' <tool_calx' }]);
  t.same(perPush(['a [TOOL', '_CALLS', ']'])[1], [], '[TOOL_CALLS] held until it is sure');
  const tagged = perPush(['a [TOOL', '_CALLS', ']', ' ', '[', '{"name"', ': "search"']);
  t.same(tagged.slice(0, 6), [[{ type: 'text', delta: 'a' }], [], [], [], [], []], 'the opener is never text');
  t.same(tagged[6], [{ type: 'tool_call_start', index: 0, id: 'id0', name: 'search' }]);
  t.same(perPush(['a `', '`', '`p'])[2], [{ type: 'text', delta: ' ```p' }], 'a fence that is not json/[/{ is text');
  t.same(perPush(['x [1, 2]'])[0], [{ type: 'text', delta: 'x [1, 2]' }], 'a "[" not at the start cannot be a bare block');
  t.same(perPush(['[1, 2]'])[0], [{ type: 'text', delta: '[1, 2]' }], 'at the start "[" is held only until the next character decides');
  t.same(perPush(['[', '1'])[0], [], '"[" at the start is held');
  t.same(perPush(['\ud83d', '\ude00!'])[0], [], 'half a surrogate pair waits for its other half');
  t.same(perPush(['\ud83d', '\ude00!'])[1], [{ type: 'text', delta: '😀!' }]);
  t.same(perPush(['ok  ', '  ']).flat(), [{ type: 'text', delta: 'ok' }], 'trailing whitespace is dropped at the end');
});

t.test('calls stream as soon as each piece is certain: name when complete, arguments per delta', async (t) => {
  const text = '[{"name": "get_weather", "arguments": {"city": "Pa😀ris"}}, {"name": "math.add", "arguments": {"a": 1, "b": 2}}] done';
  // Feed one code unit at a time and look at what each push returns.
  const pushes = perPush(text.split(''));
  const at = (s: string) => text.indexOf(s) + s.length - 1;  // index of the push holding the last char of s
  t.same(pushes.slice(0, at('"get_weather"')).flat(), [], 'nothing before the name is complete');
  t.same(pushes[at('"get_weather"')], [{ type: 'tool_call_start', index: 0, id: 'id0', name: 'get_weather' }]);
  t.same(pushes[at('"arguments": {')], [{ type: 'tool_call_delta', index: 0, argumentsDelta: '{' }], 'the first argument character at once');
  const q = text.indexOf('{"city') + 1;
  t.same(pushes[q], [{ type: 'tool_call_delta', index: 0, argumentsDelta: '"' }]);
  t.same(pushes[q + 1], [{ type: 'tool_call_delta', index: 0, argumentsDelta: 'c' }], 'then one delta per character');
  const hi = text.indexOf('😀');
  t.same(pushes[hi], [], 'a high surrogate waits');
  t.same(pushes[hi + 1], [{ type: 'tool_call_delta', index: 0, argumentsDelta: '😀' }]);
  const close = at('"Pa😀ris"}');
  t.same(pushes[close], [{ type: 'tool_call_delta', index: 0, argumentsDelta: '}' }]);
  t.same(pushes[close + 1]?.map((e) => e.type), ['tool_call_end'], 'the call ends when its object closes');
  t.same(pushes[at('"math.add"')], [{ type: 'tool_call_start', index: 1, id: 'id1', name: 'math.add' }]);
  t.same(pushes[at('] ')], [], 'whitespace after the block waits');
  t.same(pushes[at('] d')], [{ type: 'text', delta: 'd' }], 'leading whitespace of the text is dropped');
  // Arguments before the name: they are held until the name is known, then sent at once.
  const late = perPush(['[{"arguments": {"a": 1', ', "b": 2}, "name": "math.', 'add"}]']);
  t.same(late[0], []);
  t.same(late[1], []);
  t.same(late[2]?.slice(0, 2), [
    { type: 'tool_call_start', index: 0, id: 'id0', name: 'math.add' },
    { type: 'tool_call_delta', index: 0, argumentsDelta: '{"a": 1, "b": 2}' },
  ]);
  // v1 thought streams as text while it is written.
  const v1 = perPush(['{"thought": "I will', ' call \\u00e9', '", "tool_calls": []}']);
  t.same(v1.slice(0, 2), [[{ type: 'text', delta: 'I will' }], [{ type: 'text', delta: ' call é' }]]);
});

t.test('push after end, and non-string pushes, throw', async (t) => {
  const p = new ToolCallStreamParser();
  p.push('x');
  p.end();
  t.throws(() => p.push('y'), { name: 'XlamInvalidArgumentError', code: 'INVALID_ARGUMENT' });
  t.throws(() => p.end(), { name: 'XlamInvalidArgumentError' });
  t.throws(() => new ToolCallStreamParser().push(5 as unknown as string), { name: 'XlamInvalidArgumentError' });
});
