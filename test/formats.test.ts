// The three xLAM prompt formats: xlam1-fc and xlam1-r byte-identical to the published builders
// (scripts/make-xlam1-goldens.py), xlam2 from normalised tools identical to transformers with
// OpenAI tools, format detection and the PromptRenderer of a model folder.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import {
  buildXlam1FcContent, buildXlam1RContent, ChatTemplate, detectPromptFormat, normalizeTools, PromptRenderer, renderPrompt,
  specialTokensOf, XLAM1_FC_TASK_INSTRUCTION, XLAM1_R_FORMAT_INSTRUCTION, type PromptFormat,
} from '../dist/lib/index.js';
import {
  conversation, loadTokenizerClass, promptGoldensDir, readJson, templatesDir, tokenizerPackageDir, toolsOf, type GoldenCase,
  type TemplateGolden,
} from './helpers/prompt.js';

const Tokenizer = await loadTokenizerClass();
const xlam1 = readJson<{ tokenizer: string; templates: Record<string, string>; cases: Array<GoldenCase & { format: PromptFormat; content?: string }> }>(
  join(promptGoldensDir, 'xlam1.json'),
);
const llama2Dir = tokenizerPackageDir(xlam1.tokenizer);
const llama2Specials = specialTokensOf(readJson(join(llama2Dir, 'tokenizer_config.json')));
const fixtureTemplate = (file: string, specials = llama2Specials) => new ChatTemplate(readFileSync(join(templatesDir, file), 'utf8'), specials);
const templates: Record<string, ChatTemplate> = {
  'xlam1-fc': fixtureTemplate('deepseek-coder-instruct.jinja'),
  'xlam1-r': fixtureTemplate('mistral-instruct-v0.1.jinja'),
};
const toolsFor = (name: string) => {
  const tools = toolsOf(conversation(name));
  return tools === null ? null : normalizeTools(tools);
};

t.test('xlam1 goldens: a dozen or more conversations per format', async (t) => {
  const fc = xlam1.cases.filter((c) => c.format === 'xlam1-fc');
  const r = xlam1.cases.filter((c) => c.format === 'xlam1-r');
  t.ok(fc.length >= 12, `xlam1-fc: ${fc.length}`);
  t.ok(r.length >= 12, `xlam1-r: ${r.length}`);
});

for (const format of ['xlam1-fc', 'xlam1-r'] as const) {
  t.test(`${format}: byte-identical to the published builder, through the chat template`, async (t) => {
    for (const c of xlam1.cases.filter((x) => x.format === format)) {
      const conv = conversation(c.name);
      const tools = toolsFor(c.name);
      const render = () => renderPrompt({ format, template: templates[format]!, messages: conv.messages, tools });
      if (c.error !== undefined) {
        t.throws(render, { code: 'INVALID_ARGUMENT' }, `${c.name}: the builder raises (${c.error})`);
        continue;
      }
      const msgs = conv.messages as Array<{ role: string; content: string }>;
      const content = format === 'xlam1-fc'
        ? buildXlam1FcContent(msgs[msgs.length - 1]!.content, tools ?? [])
        : buildXlam1RContent(msgs as never, tools ?? []);
      t.equal(content, c.content, `${c.name}: prompt content`);
      t.equal(render(), c.text, `${c.name}: templated text`);
    }
  });
}

t.test('xlam1 token ids equal transformers', { skip: Tokenizer ? false : 'Tokenizer (lib/tokenizer) is not built' }, async (t) => {
  const tokenizer = await Tokenizer!.fromDir(llama2Dir);
  for (const c of xlam1.cases) if (c.ids) t.same(tokenizer.encode(c.text!, { addSpecialTokens: false }), c.ids, `${c.format} ${c.name}`);
});

t.test('xlam2 with normalised tools equals transformers with the OpenAI tools', async (t) => {
  for (const setup of ['xlam2-qwen.hf', 'xlam2-qwen.vllm', 'xlam2-llama.vllm']) {
    const g = readJson<TemplateGolden>(join(promptGoldensDir, 'templates', `${setup}.json`));
    const template = ChatTemplate.fromDirSync(tokenizerPackageDir(g.tokenizer));
    const xlam = new ChatTemplate(readFileSync(join(templatesDir, `${setup}.jinja`), 'utf8'), template.specialTokens);
    for (const c of g.cases) {
      const conv = conversation(c.name);
      const text = renderPrompt({
        format: 'xlam2', template: xlam, messages: conv.messages, tools: toolsFor(c.name), addGenerationPrompt: conv.add_generation_prompt,
      });
      t.equal(text, c.text, `${setup} ${c.name}`);
    }
  }
});

t.test('xlam1 options and rules', async (t) => {
  const tools = toolsFor('c03-tools');
  const r = templates['xlam1-r']!;
  const fc = templates['xlam1-fc']!;
  const sys = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }];
  t.match(renderPrompt({ format: 'xlam1-r', template: r, messages: sys }), "[INST] {'role': 'system', 'content': 'Be brief.'}\n\n[BEGIN OF TASK");
  t.match(renderPrompt({ format: 'xlam1-r', template: r, messages: sys, xlam1: { systemMessage: 'content' } }), '[INST] Be brief.\n\n[BEGIN OF TASK');
  const custom = renderPrompt({ format: 'xlam1-fc', template: fc, messages: [{ role: 'user', content: 'q' }], tools, xlam1: { taskInstruction: 'TASK', formatInstruction: 'FMT' } });
  t.match(custom, '[BEGIN OF TASK INSTRUCTION]\nTASK\n[END OF TASK INSTRUCTION]');
  t.match(custom, '[BEGIN OF FORMAT INSTRUCTION]\nFMT\n[END OF FORMAT INSTRUCTION]');
  t.notMatch(custom, XLAM1_FC_TASK_INSTRUCTION);
  t.match(renderPrompt({ format: 'xlam1-r', template: r, messages: [{ role: 'user', content: 'q' }] }), XLAM1_R_FORMAT_INSTRUCTION);
  t.match(buildXlam1FcContent('q', normalizeTools([{ name: 'f', parameters: { type: 'object', properties: {} } }])), '[{"name": "f", "description": "", "parameters": {}}]',
    'a tool without a description is written with ""');
  t.match(buildXlam1FcContent('é', normalizeTools([{ name: 'f', description: 'ü', parameters: { type: 'object', properties: {} } }])), '"description": "\\u00fc"',
    'tools in json.dumps default bytes (ensure_ascii)');
  t.throws(() => renderPrompt({ format: 'xlam1-fc', template: fc, messages: conversation('c05-multi-turn').messages }),
    { code: 'INVALID_ARGUMENT', message: /no multi-turn/ });
  t.throws(() => renderPrompt({ format: 'nope' as PromptFormat, template: fc, messages: sys }), { code: 'INVALID_ARGUMENT' });
  t.throws(() => renderPrompt({ format: 'xlam2', template: fc, messages: sys, tools: [{ name: '' }] as never }), { code: 'INVALID_ARGUMENT' });
  t.throws(() => renderPrompt({ format: 'xlam2', template: fc, messages: [{ role: 'user' }] }), { code: 'INVALID_ARGUMENT', message: /messages\[0\]\.content/ });
  t.equal(renderPrompt({ format: 'xlam2', template: '{{ messages[0].content }}{{ add_generation_prompt }}', messages: sys.slice(1) }), 'HiTrue',
    'a template string works; the generation prompt is on by default');
});

t.test('format detection', async (t) => {
  const cases: Array<[Parameters<typeof detectPromptFormat>[0], PromptFormat]> = [
    [{ name: 'xLAM-2-1b-fc-r' }, 'xlam2'],
    [{ config: { _name_or_path: 'Salesforce/Llama-xLAM-2-8b-fc-r' } }, 'xlam2'],
    [{ name: 'xLAM-1b-fc-r' }, 'xlam1-fc'],
    [{ name: 'xLAM-7b-fc-r-gguf' }, 'xlam1-fc'],
    [{ name: 'xLAM-8x22b-r' }, 'xlam1-r'],
    [{ name: 'xLAM-7b-r' }, 'xlam1-r'],
    [{ template: readFileSync(join(templatesDir, 'xlam2-llama.vllm.jinja'), 'utf8') }, 'xlam2'],
    [{ template: readFileSync(join(templatesDir, 'deepseek-coder-instruct.jinja'), 'utf8') }, 'xlam1-fc'],
    [{ template: readFileSync(join(templatesDir, 'mistral-instruct-v0.1.jinja'), 'utf8') }, 'xlam1-r'],
    [{ config: { model_type: 'mixtral' } }, 'xlam1-r'],
    [{ config: { model_type: 'qwen2' } }, 'xlam2'],
    [{ config: { model_type: 'llama', vocab_size: 32256 } }, 'xlam1-fc'],
    [{ config: { model_type: 'llama', vocab_size: 128256 } }, 'xlam2'],
    [{}, 'xlam2'],
  ];
  for (const [hints, want] of cases) t.equal(detectPromptFormat(hints).format, want, JSON.stringify(hints).slice(0, 80));
});

t.test('PromptRenderer.fromDir: the model folder decides, an option overrides', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xLAM-7b-r-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(llama2Dir, f), join(dir, f));
  copyFileSync(join(templatesDir, 'mistral-instruct-v0.1.jinja'), join(dir, 'chat_template.jinja'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'mistral' }));
  const renderer = await PromptRenderer.fromDir(dir);
  t.equal(renderer.format, 'xlam1-r');
  const c = xlam1.cases.find((x) => x.format === 'xlam1-r' && x.name === 'c17-two-rounds')!;
  t.equal(renderer.render({ messages: conversation(c.name).messages, tools: toolsFor(c.name) }), c.text);
  const forced = await PromptRenderer.fromDir(dir, { format: 'xlam2' });
  t.equal(forced.format, 'xlam2');
  t.equal(forced.formatReason, 'option');
  t.throws(() => forced.render({ messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'u' }] }), { code: 'TEMPLATE_RAISE' },
    'the Mistral template raises for a system message, as in transformers');
  await t.rejects(PromptRenderer.fromDir(dir, { format: 'bogus' as PromptFormat }), { code: 'INVALID_ARGUMENT' });
});
