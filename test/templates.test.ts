// Chat templates rendered as transformers renders them: byte-identical text (and token ids) to
// the goldens of scripts/make-template-goldens.py for 9 template setups x 32 conversations, the
// Jinja2 semantics probes, and the loading rules of a model folder's template.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import {
  ChatTemplate, JinjaTemplate, pyJsonDumps, pyJsonLoads, PyFloat, specialTokensOf, XlamInvalidArgumentError,
  XlamModelFormatError, XlamTemplateError,
} from '../dist/lib/index.js';
import {
  conversation, conversations, loadTokenizerClass, promptGoldensDir, readJson, templatesDir, tokenizerPackageDir, toolsOf,
  type TemplateGolden,
} from './helpers/prompt.js';

const Tokenizer = await loadTokenizerClass();
const goldenFiles = readdirSync(join(promptGoldensDir, 'templates')).filter((f) => f.endsWith('.json')).sort();
const goldens = goldenFiles.map((f) => readJson<TemplateGolden>(join(promptGoldensDir, 'templates', f)));

function templateOf(g: TemplateGolden): ChatTemplate {
  const dir = tokenizerPackageDir(g.tokenizer);
  if (!g.template.startsWith('test/')) return ChatTemplate.fromDirSync(dir);
  const config = readJson<Record<string, unknown>>(join(dir, 'tokenizer_config.json'));
  return new ChatTemplate(readFileSync(join(templatesDir, g.template.split('/').pop()!), 'utf8'), specialTokensOf(config));
}

t.test('the goldens cover 9 setups x at least 20 conversations, with the required kinds of conversation', async (t) => {
  t.same(goldens.map((g) => g.setup).sort(), [
    'deepseek-coder-instruct', 'llama2-own', 'llama3_1-own', 'mistral-instruct-v0.1', 'qwen3-own', 'stress', 'xlam2-llama.vllm',
    'xlam2-qwen.hf', 'xlam2-qwen.vllm',
  ]);
  for (const g of goldens) t.ok(g.cases.length >= 20, `${g.setup}: ${g.cases.length} conversations`);
  const msgs = conversations.conversations.flatMap((c) => c.messages as Array<Record<string, unknown>>);
  const calls = msgs.flatMap((m) => (m['tool_calls'] as Array<{ function: { arguments: unknown } }> | undefined) ?? []);
  t.ok(conversations.conversations.some((c) => (c.messages[0] as { role: string }).role === 'system'), 'with a system message');
  t.ok(conversations.conversations.some((c) => (c.messages[0] as { role: string }).role !== 'system'), 'without');
  t.ok(conversations.conversations.some((c) => c.tools === null) && conversations.conversations.some((c) => c.tools !== null), 'with and without tools');
  t.ok(calls.some((c) => typeof c.function.arguments === 'string'), 'arguments as JSON strings');
  t.ok(calls.some((c) => typeof c.function.arguments === 'object'), 'arguments as objects');
  t.ok(msgs.some((m) => m['role'] === 'tool' && typeof m['content'] === 'string'), 'tool results as strings');
  t.ok(msgs.some((m) => m['role'] === 'tool' && typeof m['content'] === 'object'), 'tool results as objects');
  t.ok(msgs.some((m) => Array.isArray(m['tool_calls']) && (m['tool_calls'] as unknown[]).length === 0), 'empty tool_calls');
  t.ok(msgs.some((m) => /[^\x00-\x7f]/.test(JSON.stringify(m))), 'non-ASCII text');
  t.ok(goldens.filter((g) => g.cases.some((c) => c.error)).length >= 4, 'errors recorded');
});

for (const g of goldens) {
  t.test(`${g.setup}: text byte-identical to transformers, and the same errors`, async (t) => {
    let template: ChatTemplate;
    try {
      template = templateOf(g);
    } catch (err) {
      // transformers raises for every conversation when the tokenizer has no template
      t.match(err, { code: 'NO_CHAT_TEMPLATE' });
      t.ok(g.cases.every((c) => c.error?.includes('chat_template is not set')), 'transformers raised for every conversation too');
      return;
    }
    t.same(template.specialTokens, g.special_tokens, 'special tokens as transformers passes them');
    for (const c of g.cases) {
      const conv = conversation(c.name);
      const render = () => template.render({ messages: conv.messages as never, tools: toolsOf(conv), addGenerationPrompt: conv.add_generation_prompt });
      if (c.error !== undefined) {
        t.throws(render, XlamTemplateError, `${c.name} raises (${c.error.slice(0, 80)})`);
        if (c.error.startsWith('TemplateError: ')) t.throws(render, { code: 'TEMPLATE_RAISE', message: c.error.slice('TemplateError: '.length) });
      } else {
        t.equal(render(), c.text, c.name);
      }
    }
  });

  t.test(`${g.setup}: token ids equal transformers' apply_chat_template(tokenize=True)`, { skip: Tokenizer ? false : 'Tokenizer (lib/tokenizer) is not built' }, async (t) => {
    const tokenizer = await Tokenizer!.fromDir(tokenizerPackageDir(g.tokenizer));
    let n = 0;
    for (const c of g.cases) {
      if (c.ids === undefined) continue;
      t.same(tokenizer.encode(c.text!, { addSpecialTokens: false }), c.ids, c.name);
      n++;
    }
    if (g.setup !== 'llama2-own') t.ok(n >= 14, `${n} id sequences compared`);
  });
}

t.test('Jinja2 semantics: @huggingface/jinja under our layer renders like transformers (171 probes)', async (t) => {
  // Contexts are read as Python reads them (1.0 stays a float, dict key order is kept).
  const probes = pyJsonLoads(readFileSync(join(promptGoldensDir, 'jinja-cases.json'), 'utf8')) as Array<[string, string, Map<string, unknown>]>;
  const { results } = readJson<{ results: Record<string, { text?: string; error?: string }> }>(join(promptGoldensDir, 'jinja-semantics.json'));
  const known: Record<string, string> = {
    int_big: 'integers beyond 2^53 lose precision as JavaScript numbers',
    tojson_tuple: "@huggingface/jinja's parser has no `(x,)` or `()` tuple literals",
  };
  t.equal(probes.length, Object.keys(results).length);
  for (const [name, source, context] of probes) {
    const want = results[name]!;
    let got: { text?: string; error?: string };
    try {
      got = { text: new JinjaTemplate(source).render(Object.fromEntries(context)) };
    } catch (err) {
      t.type(err, XlamTemplateError, `${name}: errors are XlamTemplateErrors`);
      got = { error: (err as Error).message };
    }
    const same = want.text !== undefined ? got.text === want.text : got.error !== undefined;
    if (known[name]) {
      t.notOk(same, `${name}: known divergence (${known[name]}); remove it from the list when fixed`);
      continue;
    }
    if (want.text !== undefined) t.equal(got.text, want.text, `${name}: ${JSON.stringify(source).slice(0, 70)}`);
    else t.ok(got.error !== undefined, `${name} raises like Jinja2 (${want.error!.slice(0, 60)})`);
  }
});

t.test('tojson is json.dumps(ensure_ascii=False): floats, indent, separators, escapes', async (t) => {
  const r = (src: string, ctx: Record<string, unknown>) => new JinjaTemplate(src).render(ctx);
  t.equal(r('{{ x | tojson }}', { x: [new PyFloat(1), 1, 1e-7, new PyFloat(1.5e16), 1.5e16, 0.1, -0] }), '[1.0, 1, 1e-07, 1.5e+16, 15000000000000000, 0.1, -0.0]');
  t.equal(r('{{ x | tojson(indent=2) }}', { x: { a: [1, {}], b: [] } }), '{\n  "a": [\n    1,\n    {}\n  ],\n  "b": []\n}');
  t.equal(r('{{ x | tojson }}', { x: '<é\u2028"\\/\n\u0001>' }), '"<é\u2028\\"\\\\/\\n\\u0001>"');
  t.equal(r('{{ x | tojson(ensure_ascii=true) }}', { x: 'é😀' }), '"\\u00e9\\ud83d\\ude00"');
  t.equal(pyJsonDumps(new Map([['b', 1], ['2', 2]])), '{"b": 1, "2": 2}', 'dict key order kept');
  t.equal(pyJsonDumps({ a: [1, 2] }, { indent: 0 }), '{\n"a": [\n1,\n2\n]\n}', 'indent=0 still breaks lines');
  t.equal(pyJsonDumps({ b: 1, a: 2, B: 3 }, { sortKeys: true, separators: [',', ':'] }), '{"B":3,"a":2,"b":1}');
});

t.test('messages: arguments strings parsed like json.loads, content passed as given', async (t) => {
  const tpl = new ChatTemplate('{% for m in messages %}{{ m.tool_calls[0].function.arguments | tojson }}|{{ m.content }}{% endfor %}');
  const args = '{"b": 1, "2": 3, "x": 1.0, "y": [1e5, -0.0], "s": "\\u00e9"}';
  t.equal(tpl.render({ messages: [{ role: 'assistant', content: null, tool_calls: [{ function: { name: 'f', arguments: args } }] }] }),
    '{"b": 1, "2": 3, "x": 1.0, "y": [100000.0, -0.0], "s": "é"}|None');
  t.equal(tpl.render({ messages: [{ role: 'assistant', tool_calls: [{ function: { name: 'f', arguments: '' } }] }] }), '{}|', 'empty arguments: {}');
  t.throws(() => tpl.render({ messages: [{ role: 'assistant', tool_calls: [{ function: { name: 'f', arguments: '{bad' } }] }] }),
    { code: 'INVALID_ARGUMENT', message: /messages\[0\]\.tool_calls\[0\]\.function\.arguments is not valid JSON/ });
  t.throws(() => tpl.render({ messages: [{ role: 'user', content: 3 }] as never }), XlamInvalidArgumentError);
  t.throws(() => tpl.render({ messages: [] }), { code: 'INVALID_ARGUMENT', message: /at least one message/ });
  t.throws(() => tpl.render({ messages: [{ role: 'robot', content: 'x' }] as never }), { message: /messages\[0\]\.role/ });
});

t.test('what the template receives: tools, documents, add_generation_prompt, special tokens, context', async (t) => {
  const src = '{{ tools is none }}|{{ documents is none }}|{{ add_generation_prompt }}|{{ bos_token }}|{{ eos_token is defined }}|{{ enable_thinking }}';
  const tpl = new ChatTemplate(src, { bos_token: '<s>' });
  const messages = [{ role: 'user' as const, content: 'hi' }];
  t.equal(tpl.render({ messages }), 'True|True|False|<s>|False|');
  t.equal(tpl.render({ messages, tools: [], addGenerationPrompt: true, context: { enable_thinking: false, bos_token: 'B' } }), 'False|True|True|B|False|False');
  t.throws(() => tpl.render({ messages, context: { messages: [] } }), { code: 'INVALID_ARGUMENT' });
  const clock = new ChatTemplate("{{ strftime_now('%d %b %Y %H:%M') }}");
  t.equal(clock.render({ messages, now: () => new Date(2024, 6, 26, 9, 5) }), '26 Jul 2024 09:05');
  t.throws(() => new ChatTemplate('{% if %}').render({ messages }), { code: 'TEMPLATE_SYNTAX' });
  t.throws(() => new ChatTemplate("{{ raise_exception('no ' ~ messages[0].role) }}").render({ messages }), { code: 'TEMPLATE_RAISE', message: 'no user' });
  t.throws(() => new ChatTemplate('{{ messages[0].nope.deeper }}').render({ messages }), { code: 'TEMPLATE_RENDER' });
});

t.test('loading a model folder: chat_template.jinja, named templates, special tokens', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xlam-template-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  t.throws(() => ChatTemplate.fromDirSync(join(dir, 'missing')), XlamModelFormatError);
  t.throws(() => ChatTemplate.fromDirSync(dir), { code: 'NO_CHAT_TEMPLATE' }, 'an empty folder has none');

  write('tokenizer_config.json', JSON.stringify({
    bos_token: { __type: 'AddedToken', content: '<s>', lstrip: false }, eos_token: '</s>', pad_token: null,
    chat_template: [{ name: 'default', template: 'D{{ bos_token }}' }, { name: 'tool_use', template: 'T{{ eos_token }}' }],
  }));
  const named = await ChatTemplate.fromDir(dir);
  const messages = [{ role: 'user' as const, content: 'x' }];
  t.same(named.specialTokens, { bos_token: '<s>', eos_token: '</s>' });
  t.equal(named.render({ messages }), 'D<s>', 'default without tools');
  t.equal(named.render({ messages, tools: [] }), 'T</s>', 'tool_use with tools');
  t.equal(named.render({ messages, templateName: 'default', tools: [] }), 'D<s>');
  t.throws(() => named.render({ messages, templateName: 'nope' }), { code: 'NO_CHAT_TEMPLATE' });

  write('chat_template.jinja', 'J{{ bos_token }}\n');
  t.equal(ChatTemplate.fromDirSync(dir).render({ messages }), 'J<s>', 'chat_template.jinja wins (its final newline dropped, as Jinja2 does)');
  mkdirSync(join(dir, 'additional_chat_templates'));
  write('additional_chat_templates/rag.jinja', 'R');
  const multi = ChatTemplate.fromDirSync(dir);
  t.same([...multi.templates.keys()].sort(), ['default', 'rag']);
  t.equal(multi.render({ messages, templateName: 'rag' }), 'R');

  write('special_tokens_map.json', JSON.stringify({ bos_token: '<BOS>', unk_token: { content: '<unk>' } }));
  t.same(ChatTemplate.fromDirSync(dir).specialTokens, { bos_token: '<BOS>', eos_token: '</s>', unk_token: '<unk>' },
    'legacy special_tokens_map.json applies when the config has no added_tokens_decoder');
  write('tokenizer_config.json', JSON.stringify({ bos_token: '<s>', added_tokens_decoder: {} }));
  t.same(ChatTemplate.fromDirSync(dir).specialTokens, { bos_token: '<s>' });
  write('tokenizer_config.json', '{not json');
  t.throws(() => ChatTemplate.fromDirSync(dir), { code: 'BAD_CONFIG' });
});
