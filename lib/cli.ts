#!/usr/bin/env node
/**
 * The `xlam` command line.
 *
 *   xlam generate --model DIR --prompt-ids 1,2,3 [--max-tokens N] [--top-logprobs K]
 *                 [--backend cpu|cpu-reference] [--threads N] [--json]
 */
import { parseArgs } from 'node:util';

import { Engine } from './engine.js';
import { XlamError } from './errors.js';

const USAGE = `usage:
  xlam generate --model DIR --prompt-ids 1,2,3 [--max-tokens N] [--top-logprobs K]
                [--backend cpu|cpu-reference] [--threads N] [--json]
  xlam info --model DIR [--json]`;

class UsageError extends Error {}

function int(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer`);
  return Number(value);
}

async function generate(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      'prompt-ids': { type: 'string' },
      'max-tokens': { type: 'string' },
      'top-logprobs': { type: 'string' },
      backend: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.model) throw new UsageError('--model DIR is required');
  if (!values['prompt-ids']) throw new UsageError('--prompt-ids is required (comma-separated token ids)');
  const ids = values['prompt-ids'].split(',').map((s) => {
    if (!/^\s*\d+\s*$/.test(s)) throw new UsageError(`--prompt-ids: '${s}' is not a token id`);
    return Number(s);
  });
  const backend = values.backend ?? 'cpu';
  if (backend !== 'cpu' && backend !== 'cpu-reference') throw new UsageError('--backend must be cpu or cpu-reference');
  const engine = await Engine.load(values.model, { backend, threads: int(values.threads, 'threads', 0) });
  try {
    const r = await engine.generateTokens(ids, {
      maxTokens: int(values['max-tokens'], 'max-tokens', 16),
      topLogprobs: int(values['top-logprobs'], 'top-logprobs', 0),
    });
    if (values.json) {
      process.stdout.write(JSON.stringify({ tokens: r.tokens, top_logprobs: r.topLogprobs }) + '\n');
    } else {
      process.stdout.write(`tokens: ${r.tokens.join(' ')}\n`);
      r.topLogprobs.forEach((step, i) => {
        const alts = step.map(([id, lp]) => `${id} (${lp.toFixed(4)})`).join(', ');
        process.stdout.write(`step ${i}: ${alts}\n`);
      });
    }
  } finally {
    await engine.close();
  }
}

async function info(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { model: { type: 'string' }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  if (!values.model) throw new UsageError('--model DIR is required');
  const engine = await Engine.load(values.model);
  try {
    const i = engine.info();
    process.stdout.write(values.json ? JSON.stringify(i) + '\n' : Object.entries(i).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') + '\n');
  } finally {
    await engine.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'generate') await generate(rest);
    else if (command === 'info') await info(rest);
    else if (command === undefined || command === '--help' || command === '-h') {
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    } else throw new UsageError(`unknown command '${command}'`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`xlam: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof XlamError) {
      process.stderr.write(`xlam: ${err.code}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
