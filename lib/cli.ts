#!/usr/bin/env node
/**
 * The `xlam` command line: one module per subcommand in lib/cli/.
 */
import { UsageError, type Command } from './cli/common.js';
import { generate } from './cli/generate.js';
import { info } from './cli/info.js';
import { prompt } from './cli/prompt.js';
import { call, run } from './cli/run.js';
import { tokenize } from './cli/tokenize.js';
import { XlamError } from './errors.js';

const COMMANDS: Record<string, Command> = { generate, run, call, info, tokenize, prompt };
const USAGE = 'usage:\n' + Object.values(COMMANDS).map((c) => '  ' + c.usage).join('\n');
const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || isHelp(name)) {
    process.stdout.write(USAGE + '\n\n`xlam COMMAND --help` describes a command and its flags.\n');
    return name === undefined ? 2 : 0;
  }
  try {
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`unknown command '${name}'`);
    if (rest.some(isHelp)) {
      process.stdout.write(`usage: ${command.usage}\n\n${command.help}\n`);
      return 0;
    }
    await command.run(rest);
    return 0;
  } catch (err) {
    const parseError = err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS');
    if (err instanceof UsageError || parseError) {
      process.stderr.write(`xlam: ${(err as Error).message}\n${USAGE}\n`);
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
