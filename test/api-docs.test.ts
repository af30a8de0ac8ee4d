// The public options carry TSDoc with what they do, an @example and a @defaultValue; every CLI
// flag has a --help line.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { GenerateRequestSchema, GenerateTokensOptionsSchema, LoadOptionsSchema } from '../dist/lib/index.js';
import { repoRoot } from './helpers/fixtures.js';

/** The doc comment right before `key:` in a source file, or undefined. */
function docOf(source: string, key: string): string | undefined {
  return new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*${key}:`).exec(source)?.[1];
}

const schemas = [
  ['lib/engine-options.ts', LoadOptionsSchema],
  ['lib/engine-options.ts', GenerateTokensOptionsSchema],
  ['lib/serving/request.ts', GenerateRequestSchema],
] as const;

t.test('every option has a description, an @example and a @defaultValue', async (t) => {
  for (const [file, schema] of schemas) {
    const source = readFileSync(join(repoRoot, file), 'utf8');
    for (const key of Object.keys(schema.shape)) {
      const doc = docOf(source, key);
      t.ok(doc, `${file}: ${key} has a doc comment`);
      if (!doc) continue;
      t.match(doc, /^\s*\*\s+\w/, `${key}: starts with a description`);
      t.match(doc, /@example\s+\S/, `${key}: @example`);
      t.match(doc, /@defaultValue\s+\S/, `${key}: @defaultValue`);
    }
  }
});

t.test('xlam COMMAND --help describes every flag of the usage', async (t) => {
  const cli = join(repoRoot, 'dist', 'lib', 'cli.js');
  for (const command of ['generate', 'run', 'call', 'info', 'tokenize', 'prompt']) {
    const r = spawnSync(process.execPath, [cli, command, '--help'], { encoding: 'utf8' });
    t.equal(r.status, 0, `${command} --help`);
    const [usage = '', ...rest] = r.stdout.split('\n\n');
    const help = rest.join('\n\n');
    for (const flag of new Set(usage.match(/--[a-z-]+/g)))
      t.match(help, new RegExp(`^  ${flag}\\b`, 'm'), `${command}: ${flag}`);
    t.match(help, /\nexample:\n {2}xlam /, `${command}: an example`);
  }
});
