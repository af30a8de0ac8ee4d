/**
 * Sampling defaults from the model folder's generation_config.json, as transformers and vLLM
 * apply them: with `do_sample` true its temperature / top_p / top_k / repetition_penalty; greedy
 * otherwise.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SamplingDefaults {
  temperature: number;
  topP?: number;
  topK?: number;
  repetitionPenalty?: number;
}

export async function samplingDefaults(dir: string): Promise<SamplingDefaults> {
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(await readFile(join(dir, 'generation_config.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return { temperature: 0 };
  }
  const num = (k: string) => (typeof cfg[k] === 'number' && Number.isFinite(cfg[k]) ? (cfg[k] as number) : undefined);
  if (cfg.do_sample !== true) return { temperature: 0, repetitionPenalty: num('repetition_penalty') };
  return {
    temperature: num('temperature') ?? 1,
    topP: num('top_p'),
    topK: num('top_k'),
    repetitionPenalty: num('repetition_penalty'),
  };
}
