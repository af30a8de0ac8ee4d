// Fuzz target: chat-template compile and render. An input is a template source; it is compiled
// (JinjaTemplate) and rendered with fixed chat data (messages with tool calls, tools) under a
// small budget. Only XlamTemplateError (or another XlamError) may come out, within the budget.
import { readdirSync, readFileSync } from 'node:fs';

import { XlamError } from '../../../lib/errors.js';
import { JinjaTemplate } from '../../../lib/prompt/jinja/template.js';
import { repoPath } from './repo.js';
import type { FuzzTarget } from './target.js';

const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather of a city',
  parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['city'] } } }];
const context = {
  messages: [
    { role: 'system', content: 'You are helpful.' },
    { role: 'user', content: 'Weather in Paris? é😀 {{ not a template }}' },
    { role: 'assistant', content: '', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
    { role: 'tool', content: '{"temp": 21.5}', tool_call_id: 'c1', name: 'get_weather' },
    { role: 'assistant', content: 'It is 21.5 degrees.' },
    { role: 'user', content: [{ type: 'text', text: 'and tomorrow?' }] },
  ],
  tools,
  add_generation_prompt: true,
  bos_token: '<s>',
  eos_token: '</s>',
};
const budget = { maxSteps: 20_000, maxRange: 10_000, maxCallDepth: 64, maxOutputChars: 1 << 20, maxTimeMs: 500 };
const now = () => new Date(Date.UTC(2024, 0, 2, 3, 4, 5));

export const target: FuzzTarget = {
  maxLen: 16 * 1024,
  json: false,
  dict: ['{{', '}}', '{%', '%}', '{#', '#}', '{%-', '-%}', 'for', 'endfor', 'if', 'elif', 'else', 'endif', 'set', 'endset', 'macro',
    'endmacro', 'call', 'endcall', 'filter', 'endfilter', 'generation', 'endgeneration', 'raw', 'endraw', 'in', 'not', 'and', 'or',
    'is', 'loop', 'loop.index', 'loop.last', 'namespace(', 'messages', 'message', 'message.content', 'message.role', 'tools',
    'tool_calls', 'range(', 'raise_exception(', 'strftime_now(', '|tojson', '|trim', '|length', '|items', '|join', '|map',
    '|selectattr', '|default', '|safe', '|string', '|upper', '|replace', '|indent', '|dictsort', '|first', '|last', '|int',
    '.split(', '.strip(', '.startswith(', '.items()', '.get(', '[', ']', '(', ')', '[::-1]', '~', '**', '//', '%', 'none',
    'true', 'defined', 'mapping', 'string', 'iterable', 'add_generation_prompt', 'bos_token', '"', "'", '\\u'],
  seeds() {
    const out: string[] = [];
    const dir = repoPath('test', 'fixtures', 'templates');
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.jinja')).sort()) out.push(readFileSync(`${dir}/${f}`, 'utf8'));
    const cases = JSON.parse(readFileSync(repoPath('test', 'goldens', 'prompt', 'jinja-cases.json'), 'utf8')) as Array<[string, string, unknown]>;
    for (const [, source] of cases) out.push(source);
    for (const m of ['qwen2-bf16', 'llama3-rope-bf16', 'mistral-bf16']) {
      const cfg = JSON.parse(readFileSync(repoPath('test', 'fixtures', 'models', m, 'tokenizer_config.json'), 'utf8')) as { chat_template?: unknown };
      if (typeof cfg.chat_template === 'string') out.push(cfg.chat_template);
    }
    return out.map((s) => Buffer.from(s, 'utf8'));
  },
  run(data) {
    const t = new JinjaTemplate(data.toString('utf8'));
    t.render(context, { budget, now });
  },
  expected: (err) => err instanceof XlamError,
};
