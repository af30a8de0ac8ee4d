import { parseArgs } from 'node:util';

import { Engine } from '../engine.js';
import { required, type Command } from './common.js';

export const info: Command = {
  usage: 'xlam info --model DIR [--json]',
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
