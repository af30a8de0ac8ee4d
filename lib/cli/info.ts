import { parseArgs } from 'node:util';

import { Engine } from '../engine.js';
import { helpText, MODEL_FLAG, required, type Command } from './common.js';

export const info: Command = {
  usage: 'xlam info --model DIR [--json]',
  help: helpText(
    "Loads a model and prints its shape, backend, KV cache and weight facts (Engine.info).",
    [MODEL_FLAG, ['--json', 'print one JSON object (default: one `key: value` line per field)']],
    'xlam info --model ./xLAM-2-1b-fc-r --json',
  ),
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { model: { type: 'string' }, json: { type: 'boolean', default: false } },
      strict: true,
    });
    const engine = await Engine.load(required(values.model, 'model', 'DIR'));
    try {
      const i = engine.info();
      process.stdout.write(
        values.json ? JSON.stringify(i) + '\n' : Object.entries(i).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') + '\n',
      );
    } finally {
      await engine.close();
    }
  },
};
