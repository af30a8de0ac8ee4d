// lib/grammar/plain-text-automata.ts is what scripts/generate-plain-text.mjs writes from the
// current parser rules (buildPlainTextAutomaton): it cannot go stale unnoticed. And the grammar
// from it costs the first 'auto' / 'none' request next to nothing.
import { readFileSync } from 'node:fs';
import t from 'tap';

import { toolCallGrammar } from '../dist/lib/grammar/index.js';
import { GENERATED_FILE, renderPlainTextAutomata } from '../scripts/generate-plain-text.mjs';

t.test('plain-text-automata.ts is up to date (node scripts/generate-plain-text.mjs regenerates it)', async (t) => {
  t.equal(readFileSync(GENERATED_FILE, 'utf8'), await renderPlainTextAutomata(), 'the committed automata equal freshly built ones');
});

t.test("the plain-text grammar is built from the generated automata, fast", async (t) => {
  const start = performance.now();
  toolCallGrammar([], { format: 'xlam2', toolChoice: 'none' });
  const ms = performance.now() - start;
  t.ok(ms < 50, `the first 'none' grammar took ${ms.toFixed(1)} ms`);
});
