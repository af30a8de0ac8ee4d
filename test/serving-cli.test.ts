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
