import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { XlamInvalidArgumentError } from '../errors.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { helpText, MODEL_FLAG, required, type Command } from './common.js';

/** `xlam tokenize`: the ids of a text file's contents under a model folder's tokenizer (no weights loaded). */
export const tokenize: Command = {
  usage: 'xlam tokenize --model DIR --text-file F [--no-special-tokens] [--json]',
  help: helpText(
    "Prints the token ids of a text file's contents under a model folder's tokenizer (no weights loaded).",
    [
      ['--model DIR', 'the model folder (tokenizer files are enough); required'],
      ['--text-file F', 'the UTF-8 text file to tokenize; required'],
      ['--no-special-tokens', "do not add the tokenizer's special tokens such as BOS (default: added, as transformers' encode)"],
      ['--json', 'print {"ids"} as one JSON line (default: the ids separated by spaces)'],
    ],
    'xlam tokenize --model ./xLAM-2-1b-fc-r --text-file prompt.txt --json',
  ),
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        model: { type: 'string' },
        'text-file': { type: 'string' },
        'no-special-tokens': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    });
    const model = required(values.model, 'model', 'DIR');
    const file = required(values['text-file'], 'text-file', 'F');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `--text-file ${file}: ${(err as Error).message}`);
    }
    const tokenizer = await Tokenizer.fromDir(model);
    const ids = tokenizer.encode(text, { addSpecialTokens: !values['no-special-tokens'] });
    process.stdout.write(values.json ? JSON.stringify({ ids }) + '\n' : ids.join(' ') + '\n');
  },
};
