// `xlam run` and `xlam call` on a fixture model.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { fixturePath, repoRoot } from './helpers/fixtures.js';

const cli = join(repoRoot, 'dist', 'lib', 'cli.js');
const xlam = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
const dir = mkdtempSync(join(tmpdir(), 'xlam-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const messages = join(dir, 'messages.json');
const tools = join(dir, 'tools.json');
writeFileSync(messages, JSON.stringify([{ role: 'user', content: 'Weather in Paris?' }]));
writeFileSync(tools, JSON.stringify([{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]));
const model = fixturePath('qwen2-f32');

t.test('xlam call --json prints calls, text, finishReason and usage', async (t) => {
  const r = xlam('call', '--model', model, '--messages', messages, '--tools', tools, '--json', '--max-tokens', '6', '--temperature', '0');
  t.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { calls: unknown[]; text: string; finishReason: string; usage: { completionTokens: number } };
  t.same(Object.keys(out), ['calls', 'text', 'finishReason', 'usage']);
  t.equal(out.usage.completionTokens, 6);
  t.equal(out.finishReason, 'length');
});

t.test('xlam run: plain and streaming output agree for a seeded request', async (t) => {
  const plain = xlam('run', '--model', model, '--prompt', 'Hello', '--max-tokens', '6', '--seed', '7', '--temperature', '0.9');
  t.equal(plain.status, 0, plain.stderr);
  const streamed = xlam('run', '--model', model, '--prompt', 'Hello', '--max-tokens', '6', '--seed', '7', '--temperature', '0.9', '--stream');
  t.equal(streamed.status, 0, streamed.stderr);
  t.ok(streamed.stdout.startsWith(plain.stdout.replace(/\n$/, '')), 'same text');
  t.match(streamed.stdout, /\[length\] \{"promptTokens":/);
  const both = xlam('run', '--model', model, '--prompt', 'x', '--messages', messages);
  t.equal(both.status, 2);
});

t.test('xlam run --allow-special-tokens: special-token text in --prompt becomes the token only with the flag', async (t) => {
  const promptTokens = (...extra: string[]) => {
    const r = xlam('run', '--model', model, '--prompt', '<|im_start|>', '--max-tokens', '1', '--temperature', '0', '--stream', ...extra);
    t.equal(r.status, 0, r.stderr);
    return (JSON.parse(/\[\w+\] (\{.*\})/.exec(r.stdout)![1]!) as { promptTokens: number }).promptTokens;
  };
  t.ok(promptTokens() > 1, 'ordinary text by default');
  t.equal(promptTokens('--allow-special-tokens'), 1, 'one special token with the flag');
});

t.test('xlam call --tool-choice: a named tool is called, none calls nothing; --unconstrained frees it', async (t) => {
  const sampling = join(dir, 'sampling-tools.json');
  writeFileSync(sampling, JSON.stringify([
    { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 8 } }, required: ['city'] } },
    { name: 'get_time', description: 'Time', parameters: { type: 'object', properties: { zone: { enum: ['utc', 'cet'] } }, required: ['zone'] } },
  ]));
  const m = fixturePath('qwen2-sampling-bf16');
  const named = xlam('call', '--model', m, '--messages', messages, '--tools', sampling, '--json', '--tool-choice', 'get_time', '--temperature', '1', '--seed', '3', '--max-tokens', '1500');
  t.equal(named.status, 0, named.stderr);
  const out = JSON.parse(named.stdout) as { calls: Array<{ name: string; error?: unknown }>; finishReason: string };
  t.equal(out.finishReason, 'stop');
  t.ok(out.calls.length > 0 && out.calls.every((c) => c.name === 'get_time' && !c.error), JSON.stringify(out.calls));
  const none = xlam('call', '--model', m, '--messages', messages, '--tools', sampling, '--json', '--tool-choice', 'none', '--temperature', '1', '--seed', '3', '--max-tokens', '16');
  t.equal(none.status, 0, none.stderr);
  t.same((JSON.parse(none.stdout) as { calls: unknown[] }).calls, []);
  const unknown = xlam('call', '--model', m, '--messages', messages, '--tools', sampling, '--tool-choice', 'nope');
  t.not(unknown.status, 0);
  t.match(unknown.stderr, /no tool named "nope"/);
  const free = xlam('call', '--model', m, '--messages', messages, '--tools', sampling, '--json', '--unconstrained', '--temperature', '0', '--max-tokens', '4');
  t.equal(free.status, 0, free.stderr);
  t.equal((JSON.parse(free.stdout) as { finishReason: string }).finishReason, 'length');
  const orphan = xlam('run', '--model', m, '--prompt', 'x', '--tool-choice', 'required');
  t.equal(orphan.status, 2, 'tool flags without tools are a usage error');
});
