/**
 * Which xLAM prompt format a model folder uses.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

import type { PromptFormat } from './types.js';

/** A detected format and why it was chosen. */
export interface DetectedFormat {
  format: PromptFormat;
  reason: string;
}

/** What detection looks at; all optional. */
export interface FormatHints {
  /** The model's config.json. */
  config?: Record<string, unknown>;
  /** The chat template source (the default one). */
  template?: string;
  /** The model's name: its Hugging Face id or folder name. */
  name?: string;
}

function byName(name: string): PromptFormat | undefined {
  if (/xlam-?2/i.test(name)) return 'xlam2';
  if (/xlam-(1b|7b)-fc-r/i.test(name)) return 'xlam1-fc';
  if (/xlam-(7b|8x7b|8x22b)-r\b/i.test(name) || /xlam-v0\.1-r/i.test(name)) return 'xlam1-r';
  return undefined;
}

/**
 * Chooses the format, first rule that applies:
 * 1. the model's name (`_name_or_path` in config.json, else `name`): `xLAM-2…`/`Llama-xLAM-2…` →
 *    xlam2, `xLAM-1b-fc-r`/`xLAM-7b-fc-r` → xlam1-fc, `xLAM-7b-r`/`xLAM-8x7b-r`/`xLAM-8x22b-r` →
 *    xlam1-r;
 * 2. the chat template: one that writes the xLAM-2 tool instruction (`tool_call_name`, "xLAM") →
 *    xlam2; DeepSeek-Coder instruct (`### Instruction:` and `<|EOT|>`) → xlam1-fc; Mistral
 *    `[INST]` → xlam1-r;
 * 3. config.json: `model_type` mistral/mixtral → xlam1-r; qwen2 → xlam2; llama with the
 *    Llama-3 vocabulary (128256) → xlam2, with DeepSeek's (32256 or 102400) → xlam1-fc;
 * 4. otherwise xlam2: the model's own template drives the prompt.
 */
export function detectPromptFormat(hints: FormatHints): DetectedFormat {
  const { config = {}, template = '', name } = hints;
  for (const n of [config['_name_or_path'], name]) {
    if (typeof n !== 'string') continue;
    const f = byName(n);
    if (f) return { format: f, reason: `model name '${n}'` };
  }
  if (/tool_call_name|xLAM/.test(template)) return { format: 'xlam2', reason: 'the chat template writes the xLAM-2 tool instruction' };
  if (template.includes('### Instruction') && template.includes('<|EOT|>')) {
    return { format: 'xlam1-fc', reason: 'DeepSeek-Coder instruct chat template' };
  }
  if (template.includes('[INST]')) return { format: 'xlam1-r', reason: 'Mistral [INST] chat template' };
  const type = config['model_type'];
  const vocab = config['vocab_size'];
  if (type === 'mistral' || type === 'mixtral') return { format: 'xlam1-r', reason: `model_type ${type}` };
  if (type === 'qwen2') return { format: 'xlam2', reason: 'model_type qwen2' };
  if (type === 'llama' && vocab === 128256) return { format: 'xlam2', reason: 'llama with the Llama-3 vocabulary' };
  if (type === 'llama' && (vocab === 32256 || vocab === 102400)) return { format: 'xlam1-fc', reason: 'llama with a DeepSeek vocabulary' };
  return { format: 'xlam2', reason: "default: the model's own chat template" };
}

/** {@link detectPromptFormat} on a model folder (config.json and the folder name). */
export function detectPromptFormatOfDir(dir: string, template?: string): DetectedFormat {
  let config: Record<string, unknown> = {};
  const file = join(dir, 'config.json');
  if (existsSync(file)) {
    try {
      const c = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (c && typeof c === 'object' && !Array.isArray(c)) config = c as Record<string, unknown>;
    } catch {
      // An unreadable config.json does not decide the format; the engine reports it on load.
    }
  }
  return detectPromptFormat({ config, template, name: basename(resolve(dir)) });
}
