// BFCL (../shared/bfcl/data, beside the repo): every question of every entry, with the entry's
// functions converted to tools as BFCL shows them (language hints), renders to an xlam2 prompt
// under both xLAM-2 templates.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { bfclLanguage, bfclToTools, ChatTemplate, renderPrompt, type BfclFunctionDoc } from '../dist/lib/index.js';
import { repoRoot } from './helpers/fixtures.js';
import { templatesDir } from './helpers/prompt.js';

const dataDir = join(repoRoot, '..', 'shared', 'bfcl', 'data');

if (!existsSync(dataDir)) {
  t.fail(`BFCL data not found at ${dataDir}: the tests expect the shared/ folder (shared/bfcl/data) beside the repository`);
} else {
  t.test('every BFCL question renders to an xlam2 prompt (Qwen and Llama xLAM-2 templates)', async (t) => {
    const templates = [
      new ChatTemplate(readFileSync(join(templatesDir, 'xlam2-qwen.hf.jinja'), 'utf8'), { eos_token: '<|im_end|>' }),
      new ChatTemplate(readFileSync(join(templatesDir, 'xlam2-llama.vllm.jinja'), 'utf8'), { bos_token: '<|begin_of_text|>' }),
    ];
    let prompts = 0;
    const failures: string[] = [];
    for (const file of readdirSync(dataDir).filter((f) => f.endsWith('.json')).sort()) {
      for (const line of readFileSync(join(dataDir, file), 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        const entry = JSON.parse(line) as { id: string; question: unknown[][]; function: BfclFunctionDoc[] };
        const tools = bfclToTools(entry.function, { language: bfclLanguage(entry.id) });
        for (const messages of entry.question) {
          prompts++;
          for (const template of templates) {
            try {
              const text = renderPrompt({ format: 'xlam2', template, messages, tools });
              if (tools[0] && !text.includes(`"name": ${JSON.stringify(tools[0].name)}`)) failures.push(`${entry.id}: the first tool is not in the prompt`);
              if (tools[0] && !text.includes('Note that the provided function is in ')) failures.push(`${entry.id}: no language hint in the prompt`);
            } catch (err) {
              failures.push(`${entry.id}: ${(err as Error).message}`);
            }
          }
        }
      }
    }
    t.ok(prompts > 3000, `${prompts} questions`);
    t.same(failures.slice(0, 10), [], 'no failures');
  });
}
