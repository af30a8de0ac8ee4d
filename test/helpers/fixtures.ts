// Paths of the generated fixture models and committed goldens, shared by the tests.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesDir = join(repoRoot, 'test', 'fixtures', 'models');
export const goldensDir = join(repoRoot, 'test', 'goldens');
/** The engine goldens: one file per fixture model (scripts/make-goldens.py). */
export const modelGoldensDir = join(goldensDir, 'models');

export function fixturePath(name: string): string {
  return join(fixturesDir, name);
}

export interface GoldenPrompt {
  ids: number[];
  tokens: number[];
  top_logprobs: Array<Array<[number, number]>>;
  min_gap: number;
}

export interface Golden {
  fixture: string;
  also_for?: string[];
  weights_dtype: string;
  prompts: GoldenPrompt[];
}

export function golden(name: string): Golden {
  return JSON.parse(readFileSync(join(modelGoldensDir, `${name}.json`), 'utf8')) as Golden;
}

/** Logprob tolerance of the acceptance criteria: 1e-3 for f32 weights, 2e-2 for bf16. */
export function tolerance(g: Golden): number {
  return g.weights_dtype === 'bfloat16' ? 2e-2 : 1e-3;
}

/**
 * Compares one step's top-k with the golden's: the same ids in the same order, each logprob
 * within tol; two ids may only trade places where their golden logprobs are within tol.
 * Returns a description of the first mismatch, or undefined.
 */
export function compareTopK(got: Array<[number, number]>, want: Array<[number, number]>, tol: number): string | undefined {
  if (got.length !== want.length) return `expected ${want.length} entries, got ${got.length}`;
  for (let j = 0; j < want.length; j++) {
    const [gid, glp] = got[j]!;
    const [wid, wlp] = want[j]!;
    if (gid !== wid) {
      const other = want.find(([id]) => id === gid);
      if (!other || Math.abs(other[1] - wlp) > tol) return `rank ${j}: id ${gid} where ${wid} was expected`;
      if (Math.abs(other[1] - glp) > tol) return `rank ${j}: id ${gid} logprob ${glp} vs ${other[1]}`;
      continue;
    }
    if (!(Math.abs(glp - wlp) <= tol)) return `rank ${j}: id ${gid} logprob ${glp} vs ${wlp} (tol ${tol})`;
  }
  return undefined;
}
