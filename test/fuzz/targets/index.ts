// The TypeScript fuzz targets by name.
import type { FuzzTarget } from './target.js';

export const TARGETS = ['tokenizer', 'template', 'stream-parser', 'schema-grammar'] as const;

/** The targets scripts/fuzz-ci.sh runs: all of them. */
export const CI_TARGETS: readonly string[] = TARGETS;

export async function loadTarget(name: string): Promise<FuzzTarget> {
  if (!(TARGETS as readonly string[]).includes(name)) throw new Error(`unknown target ${name}; one of ${TARGETS.join(', ')}`);
  return ((await import(`./${name}.js`)) as { target: FuzzTarget }).target;
}
