/**
 * The special tokens `encode` adds around a text (`add_special_tokens=True`): read from
 * tokenizer.json's post_processor (TemplateProcessing, RobertaProcessing, BertProcessing, and
 * Sequence of those; ByteLevel changes no id), or the template transformers builds from
 * `add_bos_token` / `add_eos_token`.
 */
import { XlamModelFormatError } from '../errors.js';

/** Ids added before and after the encoded text of a single sequence. */
export interface SpecialTokenTemplate {
  prefix: number[];
  suffix: number[];
}

type Json = Record<string, unknown>;

function bad(message: string): never {
  throw new XlamModelFormatError('UNSUPPORTED_TOKENIZER', `tokenizer.json: post_processor: ${message}`, 'tokenizer.json');
}

function template(pp: Json, out: SpecialTokenTemplate): void {
  switch (pp.type) {
    case 'ByteLevel':
      return;
    case 'Sequence':
      for (const p of (pp.processors as Json[] | undefined) ?? []) template(p, out);
      return;
    case 'TemplateProcessing': {
      const special = (pp.special_tokens ?? {}) as Record<string, { ids?: number[] }>;
      const items = (pp.single ?? []) as Json[];
      const prefix: number[] = [];
      const suffix: number[] = [];
      let seenA = false;
      for (const item of items) {
        if ('Sequence' in item) {
          seenA = true;
          continue;
        }
        const name = (item.SpecialToken as { id?: string } | undefined)?.id;
        const ids = name === undefined ? undefined : special[name]?.ids;
        if (!ids) bad(`unknown special token ${JSON.stringify(name)}`);
        (seenA ? suffix : prefix).push(...ids);
      }
      if (!seenA) bad('the single template has no $A');
      // Processors of a Sequence apply in turn, so a later template wraps an earlier one.
      out.prefix = [...prefix, ...out.prefix];
      out.suffix = [...out.suffix, ...suffix];
      return;
    }
    case 'RobertaProcessing':
    case 'BertProcessing': {
      const cls = pp.cls as [string, number] | undefined;
      const sep = pp.sep as [string, number] | undefined;
      if (!cls || !sep) bad(`${String(pp.type)} without cls/sep`);
      out.prefix = [cls[1], ...out.prefix];
      out.suffix = [...out.suffix, sep[1]];
      return;
    }
    default:
      bad(`unsupported type ${String(pp.type)}`);
  }
}

/** The template of a tokenizer.json post_processor (null: nothing added). */
export function templateFromPostProcessor(pp: unknown): SpecialTokenTemplate {
  const out: SpecialTokenTemplate = { prefix: [], suffix: [] };
  if (pp !== null && pp !== undefined) template(pp as Json, out);
  return out;
}
