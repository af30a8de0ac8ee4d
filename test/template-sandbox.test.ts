// Chat templates are code from a model folder (shared/RELIABILITY.md §3.5, class T): they render
// in a worker thread under a budget (steps, range length, macro depth, output size, wall time,
// memory), so a hostile template renders inert or fails with a typed XlamTemplateError within
// 250 ms while the host's event loop stays responsive; templates parse at load; request-supplied
// templates are refused unless the engine trusts them.
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import t from 'tap';

import {
  DEFAULT_TEMPLATE_BUDGET, Engine, JinjaTemplate, MAX_TEMPLATE_SOURCE_CHARS, XlamInvalidArgumentError, XlamTemplateError,
} from '../dist/lib/index.js';
import type { RenderJob } from '../dist/lib/prompt/sandbox/job.js';
import { RenderSandbox } from '../dist/lib/prompt/sandbox/sandbox.js';
import { fixturePath } from './helpers/fixtures.js';

const SENTINEL = join(tmpdir(), `xlam-template-sentinel-${process.pid}`);
const WRITE = `require('fs').writeFileSync('${SENTINEL}', 'x')`;
const messages = [{ role: 'user' as const, content: 'hello' }];

function job(source: string, extra: Partial<RenderJob> = {}): RenderJob {
  return {
    template: { sources: [['default', source]], named: false, specialTokens: { eos_token: '</s>' } },
    format: 'xlam2',
    messages,
    tools: null,
    addGenerationPrompt: true,
    budget: { ...DEFAULT_TEMPLATE_BUDGET },
    controlTokens: [],
    specialTokenText: 'plain',
    ...extra,
  };
}

/** Object-graph walks (Python SSTI payloads and JavaScript prototype chains): inert or a typed error, never code. */
const ESCAPES = [
  "{{ ''.__class__.__mro__[1].__subclasses__() }}",
  "{{ cycler.__init__.__globals__.os.popen('touch " + SENTINEL + "').read() }}",
  "{{ lipsum.__globals__['os'].popen('touch " + SENTINEL + "') }}",
  "{{ self.__init__.__globals__ }}{{ config }}{{ request.application }}",
  `{{ ''.constructor.constructor("${WRITE}")() }}`,
  `{{ messages.__proto__.constructor.constructor("${WRITE}")() }}`,
  `{{ (messages | first).toString.constructor("${WRITE}")() }}`,
  `{{ range.constructor("${WRITE}")() }}`,
  `{{ raise_exception.constructor("${WRITE}")() }}`,
  `{% set ns = namespace(a=1) %}{{ ns.__proto__ }}{{ ns['__proto__']['constructor'] }}{{ messages[0]['constructor'] }}`,
  "{{ messages[0].content.__class__.__base__ }}{{ messages.pop.__self__ }}",
  "{{ dict.__call__.__globals__ }}{{ namespace.__init__ }}",
];

/** Resource attacks: each must fail with TEMPLATE_BUDGET. */
const EXHAUSTION: Array<[string, string, RegExp]> = [
  ['range(10**9)', '{% for i in range(10**9) %}{{ i }}{% endfor %}', /range too big/],
  ['nested loops 1e4 x 1e4', '{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}', /evaluation steps/],
  ['runaway recursion', '{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}', /nested more than 256/],
  ['exponential recursion', '{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}', /evaluation steps/],
  ['output doubling', "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}", /characters/],
  ['string repetition', "{{ 'x' * 10**9 }}", /characters/],
  ['list repetition', '{{ ([0] * 10**8) | length }}', /characters|steps/],
  ['padding', "{{ 'a'.center(10**9) }}", /characters/],
  ['joined output', "{{ range(1000) | join('x' * 10000) }}", /characters/],
  ['replace amplification', "{{ ('ab' * 100000).replace('a', 'x' * 1000) }}", /characters/],
  ['tojson indent', '{{ messages | tojson(indent=10**8) }}', /characters/],
  ['loop output', "{% for i in range(5000) %}{{ 'y' * 1000 }}{% endfor %}", /characters/],
];

t.test('hostile templates render inert or fail typed within 250 ms, off the event loop', async (t) => {
  const sandbox = new RenderSandbox();
  t.teardown(() => sandbox.close());
  await sandbox.render(job('warm-up {{ messages | length }}')); // the worker's start is not a render
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const slowest: Array<[string, number]> = [];
  for (const source of ESCAPES) {
    const t0 = performance.now();
    const out = await sandbox.render(job(source)).then((r) => r.text, (e: unknown) => e);
    slowest.push([source, performance.now() - t0]);
    if (typeof out === 'string') {
      t.notMatch(out, /function|native code|process|\[object/i, `inert: ${source.slice(0, 60)} -> ${JSON.stringify(out.slice(0, 80))}`);
    } else {
      t.ok(out instanceof XlamTemplateError && ['TEMPLATE_RENDER', 'TEMPLATE_BUDGET'].includes(out.code),
        `typed error: ${source.slice(0, 60)} (${(out as Error).name}: ${(out as Error).message.slice(0, 100)})`);
    }
  }
  for (const [name, source, why] of EXHAUSTION) {
    const t0 = performance.now();
    const err = await sandbox.render(job(source)).then(() => undefined, (e: unknown) => e);
    slowest.push([name, performance.now() - t0]);
    t.ok(err instanceof XlamTemplateError && err.code === 'TEMPLATE_BUDGET', `${name}: TEMPLATE_BUDGET (${(err as Error)?.message})`);
    t.match((err as Error)?.message ?? '', why, `${name}: the budget that stopped it`);
  }
  delay.disable();
  t.notOk(existsSync(SENTINEL), 'no template wrote the sentinel file');
  for (const [name, ms] of slowest) t.ok(ms <= 250, `${name.slice(0, 60)}: ${ms.toFixed(1)} ms <= 250 ms`);
  const p99 = delay.percentile(99) / 1e6;
  const max = delay.max / 1e6;
  t.ok(p99 <= 20, `event-loop delay while hostile templates rendered: p99 ${p99.toFixed(1)} ms <= 20 ms (max ${max.toFixed(1)} ms)`);
  // The worker survives all of it.
  t.equal((await sandbox.render(job('{{ messages[0].content }}'))).text, 'hello', 'a normal render afterwards');
});

t.test('raise_exception, undefined values and deep data are typed errors with the template\'s message', async (t) => {
  const sandbox = new RenderSandbox();
  t.teardown(() => sandbox.close());
  const raised = await sandbox.render(job("{{ raise_exception('no tools for ' ~ messages[0].content) }}")).catch((e: unknown) => e);
  t.ok(raised instanceof XlamTemplateError && raised.code === 'TEMPLATE_RAISE', 'TEMPLATE_RAISE');
  t.equal((raised as Error).message, 'no tools for hello', 'the template\'s own message');
  const undef = await sandbox.render(job('{{ nothing.here }}')).catch((e: unknown) => e);
  t.ok(undef instanceof XlamTemplateError && undef.code === 'TEMPLATE_RENDER', 'an undefined value: TEMPLATE_RENDER');
  let deep: unknown = 'leaf';
  for (let i = 0; i < 100_000; i++) deep = { a: deep };
  const call = { id: 'c1', type: 'function', function: { name: 'f', arguments: deep } };
  const deepJob = job('{{ messages | tojson }}', { messages: [{ role: 'assistant', content: '', tool_calls: [call] }, ...messages] });
  const err = await sandbox.render(deepJob).catch((e: unknown) => e);
  t.ok(err instanceof XlamTemplateError || err instanceof XlamInvalidArgumentError, `100,000 levels of data: typed (${(err as Error).name}: ${(err as Error).message.slice(0, 100)})`);
  const fn = await sandbox.render(job('{{ messages }}', { context: { f: () => 1 } })).catch((e: unknown) => e);
  t.ok(fn instanceof XlamInvalidArgumentError, 'a function in the data: INVALID_ARGUMENT (it cannot cross to the worker)');
});

t.test('the wall-time budget, the worker watchdog and the memory cap', async (t) => {
  const slow = new RenderSandbox();
  t.teardown(() => slow.close());
  const big = "{% set s = 'ab' * 1000000 %}{% for i in range(100000) %}{% if s.replace('a', 'c') | length == 0 %}x{% endif %}{% endfor %}";
  const err = await slow.render(job(big, { budget: { ...DEFAULT_TEMPLATE_BUDGET, maxSteps: 1e8, maxTimeMs: 100 } })).catch((e: unknown) => e);
  t.ok(err instanceof XlamTemplateError && err.code === 'TEMPLATE_BUDGET', 'expensive steps: TEMPLATE_BUDGET');
  t.match((err as Error).message, /longer than 100 ms/, 'stopped by the wall-time budget');

  // A watchdog 1 ms past a 1 ms budget: the worker is terminated mid-render, and replaced.
  const watched = new RenderSandbox({ graceMs: 1 });
  t.teardown(() => watched.close());
  await watched.render(job('warm'));
  const tools = Array.from({ length: 128 }, (_, i) => ({ name: `t${i}`, description: 'd'.repeat(10_000), parameters: { type: 'object', properties: {} } }));
  const cut = await watched.render(job('{{ tools | tojson }}{{ tools | tojson }}{{ tools | tojson }}', { tools, budget: { ...DEFAULT_TEMPLATE_BUDGET, maxTimeMs: 1 } })).catch((e: unknown) => e);
  t.ok(cut instanceof XlamTemplateError && cut.code === 'TEMPLATE_BUDGET', `terminated: ${(cut as Error).message}`);
  t.equal((await watched.render(job('{{ messages[0].content }}'))).text, 'hello', 'a new worker renders the next job');

  const small = new RenderSandbox({ memoryMb: 16 });
  t.teardown(() => small.close());
  // 30 lists of 100,000 numbers: ~100 MiB of objects, within a large step and time budget.
  const hog = '{% set ns = namespace(l=[]) %}{% for i in range(30) %}{% set ns.l = ns.l + [range(100000) | list] %}{% endfor %}{{ ns.l | length }}';
  const oom = await small.render(job(hog, { budget: { ...DEFAULT_TEMPLATE_BUDGET, maxSteps: 1e8, maxTimeMs: 60_000 } })).catch((e: unknown) => e);
  t.ok(oom instanceof XlamTemplateError && oom.code === 'TEMPLATE_BUDGET', `a 16 MiB worker heap: TEMPLATE_BUDGET (${(oom as Error).message})`);
  t.equal((await small.render(job('{{ messages[0].content }}'))).text, 'hello', 'and the next render works');
});

t.test('a closed sandbox rejects, and its queued renders with it', async (t) => {
  const s = new RenderSandbox();
  const pending = [s.render(job('{{ 1 }}')), s.render(job('{{ 2 }}'))].map((p) => p.then(() => undefined, (x: unknown) => x));
  await s.close();
  for (const e of await Promise.all(pending)) t.ok(e === undefined || (e as Error).name === 'XlamEngineClosedError', 'done before the close, or ENGINE_CLOSED');
  await t.rejects(s.render(job('{{ 3 }}')), { code: 'ENGINE_CLOSED' });
});

t.test('a float literal far out of range is inf or 0.0 at once (template fuzzer finding)', async (t) => {
  const started = performance.now();
  t.equal(new JinjaTemplate('{{ 1e10065535 }} {{ 1e-10065535 }} {{ -1e999 }}').render({}), 'inf 0.0 -inf');
  t.ok(performance.now() - started < 250, 'without spelling out ten million digits');
});

t.test('templates parse at load; oversized ones are refused', async (t) => {
  t.throws(() => new JinjaTemplate('x'.repeat(MAX_TEMPLATE_SOURCE_CHARS + 1)), { code: 'TEMPLATE_TOO_LARGE' });
  const root = join(tmpdir(), `xlam-template-folders-${process.pid}`);
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const folder = (name: string, template: string): string => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) {
      copyFileSync(join(fixturePath('qwen2-f32'), f), join(dir, f));
    }
    writeFileSync(join(dir, 'chat_template.jinja'), template);
    return dir;
  };
  await t.rejects(Engine.load(folder('syntax', '{% for m in messages %}{{ m.content }')), { name: 'XlamTemplateError', code: 'TEMPLATE_SYNTAX' }, 'a template that does not parse fails the load');
  await t.rejects(Engine.load(folder('big', '{# ' + 'x'.repeat(2 * 1024 * 1024) + ' #}')), { name: 'XlamTemplateError', code: 'TEMPLATE_TOO_LARGE' }, 'a 2 MiB template fails the load');
});

t.test('request templates: refused unless trusted, then sandboxed like the model\'s', async (t) => {
  const engine = await Engine.load(fixturePath('qwen2-f32'));
  t.teardown(() => engine.close());
  const chatTemplate = '{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n';
  await t.rejects(engine.generate({ messages, chatTemplate, maxTokens: 1 }), { name: 'XlamTemplateError', code: 'TEMPLATE_UNTRUSTED' });
  await t.rejects(engine.generate({ prompt: 'hi', chatTemplate, maxTokens: 1 }), XlamInvalidArgumentError, 'only with messages');

  const trusting = await Engine.load(fixturePath('qwen2-f32'), { trustRequestTemplates: true, templateBudget: { maxSteps: 5000 } });
  t.teardown(() => trusting.close());
  const own = await trusting.renderPrompt({ messages, chatTemplate });
  t.equal(own.text, '<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant', 'the request\'s template is used (Jinja2 drops one trailing newline)');
  const tokenizer = await trusting.tokenizer();
  t.same(own.tokenIds, tokenizer.encode(own.text, { addSpecialTokens: false }), 'and tokenized as the model\'s would be');
  const r = await trusting.generate({ messages, chatTemplate, maxTokens: 2 });
  t.equal(r.usage.promptTokens, own.tokenIds.length, 'generation uses it');
  await t.rejects(trusting.generate({ messages, chatTemplate: '{% for i in range(100) %}{% for j in range(100) %}x{% endfor %}{% endfor %}', maxTokens: 1 }),
    { code: 'TEMPLATE_BUDGET' }, 'the engine\'s templateBudget applies (5,000 steps)');
  await t.rejects(trusting.generate({ messages, chatTemplate: '{% if %}', maxTokens: 1 }), { code: 'TEMPLATE_SYNTAX' });
  const after = await trusting.generate({ messages, maxTokens: 1 });
  t.equal(after.usage.completionTokens, 1, 'the engine serves normally after failed templates');
  await t.rejects(Engine.load(fixturePath('qwen2-f32'), { templateBudget: { maxSteps: 0 } }), XlamInvalidArgumentError, 'a bad budget is an invalid option');
});
