import { parseArgs } from 'node:util';

import { Engine } from '../engine.js';
import { helpText, intFlag, MODEL_FLAG, required, UsageError, type Command } from './common.js';

export const generate: Command = {
  usage: `xlam generate --model DIR --prompt-ids 1,2,3 [--max-tokens N] [--top-logprobs K]
                [--backend auto|cpu|cpu-reference|cuda|cuda-emulated] [--threads N] [--json]`,
  help: helpText(
    'Greedy decoding from prompt token ids (no tokenizer, no template; EOS does not stop it), as Engine.generateTokens.',
    [
      MODEL_FLAG,
      ['--prompt-ids IDS', 'the prompt as comma-separated token ids; required'],
      ['--max-tokens N', 'tokens to generate (default 16)'],
      ['--top-logprobs K', 'per generated token, the K most likely tokens with their log-probabilities (default 0)'],
      ['--backend B', 'auto (CUDA when a usable GPU is present, else cpu), cpu (fast paths on all cores), cpu-reference (plain loops on one thread, for checking), cuda, or cuda-emulated (the CUDA kernels on a CPU emulator, for testing) (default auto)'],
      ['--threads N', 'compute threads; 0: one per hardware thread (default 0)'],
      ['--json', 'print {"tokens", "top_logprobs"} as one JSON line (default: a line of tokens, then a line per step\'s top logprobs)'],
    ],
    'xlam generate --model ./xLAM-2-1b-fc-r --prompt-ids 151644,872,198 --max-tokens 32 --top-logprobs 5 --json',
  ),
  async run(args) {
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
    const model = required(values.model, 'model', 'DIR');
    const ids = required(values['prompt-ids'], 'prompt-ids', '(comma-separated token ids)')
      .split(',')
      .map((s) => {
        if (!/^\s*\d+\s*$/.test(s)) throw new UsageError(`--prompt-ids: '${s}' is not a token id`);
        return Number(s);
      });
    const backend = values.backend ?? 'auto';
    const backends = ['auto', 'cpu', 'cpu-reference', 'cuda', 'cuda-emulated'] as const;
    if (!backends.includes(backend as (typeof backends)[number])) throw new UsageError(`--backend must be one of ${backends.join(', ')}`);
    const engine = await Engine.load(model, { backend: backend as (typeof backends)[number], threads: intFlag(values.threads, 'threads', 0) });
    try {
      const r = await engine.generateTokens(ids, {
        maxTokens: intFlag(values['max-tokens'], 'max-tokens', 16),
        topLogprobs: intFlag(values['top-logprobs'], 'top-logprobs', 0),
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
  },
};
